"""Every class of isolation bug in README's check table, through the
command line with 4 interpreters, in fatal and --keep-going modes: the
violation's kind, its extension (broken_statics) and, where the program
acts, the program line."""

import e2e_lib
from e2e_lib import EXIT_VIOLATION, E2ETestCase, run_program

# case -> (acceptable kinds, object type)
CASES = {
    "exception": ({"cross-interpreter-argument"}, None),
    # A class is named by its own name, not its metaclass (type).
    "heap_type": ({"cross-interpreter-call"}, "class broken_statics.HeapType"),
    # Found as the shared static type itself, or as its tp_dict (another
    # interpreter's dict) in the extension's static memory, named StaticType.
    "static_type": ({"shared-static-type", "static-object-reference"}, None),
    "capsule": ({"cross-interpreter-argument"}, "PyCapsule"),
    "callback": ({"cross-interpreter-call"}, "function"),
    "ended": ({"cross-interpreter-argument", "static-object-reference"}, "list"),
}


class DetectionClassesTest(E2ETestCase):
    def check(self, case, keep_going):
        kinds, object_type = CASES[case]
        r = run_program("statics.py", case, keep_going=keep_going)
        self.assertStatus(r, EXIT_VIOLATION)
        found = [v for v in r.report["violations"] if v["kind"] in kinds]
        self.assertTrue(found, r.describe())
        v = found[0]
        self.assertEqual(v["extension"], "broken_statics", r.describe())
        if object_type is not None:
            self.assertEqual(v["object_type"], object_type, r.describe())
        self.assertNotEqual(v["interpreter"], v["owner_interpreter"], r.describe())
        if keep_going:
            self.assertIn("statics done", r.stdout, r.describe())
        return v


def _make(case, keep_going):
    def test(self):
        v = self.check(case, keep_going)
        if case == "ended":
            self.assertTrue(v["owner_ended"], v)

    return test


class CorrectControlsTest(E2ETestCase):
    def test_pure_python_with_threads_is_clean(self):
        for keep_going in (False, True):
            r = run_program("threads.py", keep_going=keep_going)
            self.assertStatus(r, e2e_lib.EXIT_OK)
            self.assertEqual(r.report["violations"], [], r.describe())


for _case in CASES:
    setattr(DetectionClassesTest, "test_%s_fatal" % _case, _make(_case, False))
    setattr(DetectionClassesTest, "test_%s_keep_going" % _case, _make(_case, True))


if __name__ == "__main__":
    e2e_lib.main()
