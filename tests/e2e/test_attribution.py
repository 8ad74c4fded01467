"""End-to-end attribution: a violation names the module whose structures
hold the object (report.json `holder`: a static type and its slot, a static
variable, module state or dict), and `extension` is that module when no
extension frame is on the stack; the interpreters module that runs other
modules' code (_interpreters, _xxsubinterpreters) and the python
executable are never blamed."""

import os
import sys

import e2e_lib
from e2e_lib import (
    EXIT_VIOLATION,
    EXTENSIONS,
    E2ETestCase,
    interpsan,
    program,
    run_program,
    scratch_dir,
)

NEVER_BLAMED = {
    None,
    "",
    "_interpreters",
    "_xxsubinterpreters",
    "python3",
    "python3.12",
    "python3.13",
    "interpsan_runner",
}


def python_executable():
    prefix = os.environ.get("INTERPSAN_PYTHON" + e2e_lib.VERSION.replace(".", ""))
    if prefix:
        return os.path.join(prefix, "bin", "python" + e2e_lib.VERSION)
    return sys.executable


def run_exec(name, *args, options=()):
    report_dir = scratch_dir("attribution-%s-" % name)
    return interpsan(
        "exec",
        "--keep-going",
        *options,
        "--report",
        report_dir,
        "--",
        python_executable(),
        program(name),
        *args,
        report_dir=report_dir,
    )


class AttributionTest(E2ETestCase):
    def assertBlamed(self, r, v, extension):
        self.assertNotIn(v.get("extension"), NEVER_BLAMED, r.describe())
        self.assertEqual(v["extension"], extension, r.describe())

    def test_queue_through_the_interpreters_module_blames_the_queue(self):
        r = run_exec("queue_via_interpreters.py", EXTENSIONS)
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertIn("queue_via_interpreters done", r.stdout, r.describe())
        violations = r.report["violations"]
        self.assertEqual(
            [v["kind"] for v in violations], ["cross-interpreter-dealloc"], r.describe()
        )
        v = violations[0]
        self.assertBlamed(r, v, "broken_queue")
        self.assertEqual(v["count"], 16, r.describe())
        # The C static array still points at the object: the holder.
        holder = v["holder"]
        self.assertEqual(
            (holder["kind"], holder["module"], holder.get("variable")),
            ("static-variable", "broken_queue", "queue"),
            r.describe(),
        )
        # The supervisor's one-line summary says the same.
        self.assertIn("cross-interpreter-dealloc in broken_queue", r.stderr, r.describe())
        # And the report a person reads shows the holder.
        shown = interpsan("report", r.report_dir)
        self.assertIn(
            "held by: `broken_queue`'s static variable `queue`", shown.stdout, shown.describe()
        )

    def test_static_type_tuples_released_at_finalization_name_datetime(self):
        if e2e_lib.VERSION != "3.13":
            self.skipTest("3.12's _datetime is single-phase: own-GIL interpreters refuse it")
        # A known CPython finding, counted apart by default: shown here.
        r = run_exec("datetime_interpreters.py", options=["--no-default-suppressions"])
        self.assertStatus(r, EXIT_VIOLATION)
        violations = r.report["violations"]
        self.assertTrue(violations, r.describe())
        for v in violations:
            self.assertEqual(v["kind"], "cross-interpreter-dealloc", r.describe())
            self.assertEqual(v["object_type"], "tuple", r.describe())
            self.assertBlamed(r, v, "_datetime")
            self.assertTrue(v["extension_path"].endswith(".so"), r.describe())
            holder = v["holder"]
            self.assertEqual(
                (holder["kind"], holder["module"]), ("static-type", "_datetime"), r.describe()
            )
            self.assertTrue(holder["type"].startswith("datetime."), r.describe())
            self.assertIn(holder["slot"], ("tp_bases", "tp_mro"), r.describe())
        shown = interpsan("report", r.report_dir)
        self.assertRegex(
            shown.stdout,
            r"held by: `_datetime`'s static type `datetime\.\w+` "
            r"\(`tp_(bases|mro)`\)",
            shown.describe(),
        )

    def test_clinic_keyword_tuple_released_at_finalization_names_the_parser(self):
        if e2e_lib.VERSION != "3.12":
            self.skipTest("3.13 makes the keyword tuples in the main interpreter")
        r = run_program(
            "clinic_keywords.py", keep_going=True, options=["--no-default-suppressions"]
        )
        self.assertStatus(r, EXIT_VIOLATION)
        deallocs = [v for v in r.report["violations"] if v["kind"] == "cross-interpreter-dealloc"]
        self.assertTrue(deallocs, r.describe())
        for v in deallocs:
            self.assertEqual(v["object_type"], "tuple", r.describe())
            self.assertBlamed(r, v, "_bisect")
            holder = v["holder"]
            self.assertEqual(
                (holder["kind"], holder["slot"]), ("static-variable", "kwtuple"), r.describe()
            )
            self.assertRegex(holder["variable"], r"^_parser(\.\d+)?$", r.describe())

    def test_run_mode_holder_is_the_static_variable(self):
        # The registry's static keeps the callback for the whole run: every
        # refused call names it.
        r = run_program("callback_registry.py", keep_going=True, checks="capi")
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertTrue(r.report["violations"], r.describe())
        for v in r.report["violations"]:
            self.assertBlamed(r, v, "broken_callback_registry")
            self.assertEqual(
                (v["holder"]["kind"], v["holder"].get("variable")),
                ("static-variable", "registered_callback"),
                r.describe(),
            )

    def test_run_mode_holder_is_only_what_still_holds(self):
        # The queue's slots are reused as the producer refills them: an
        # object drained earlier may no longer be in the static when it is
        # deallocated. The holder is reported only when it is a fact.
        r = run_program("queue.py", "float", keep_going=True, checks="dealloc")
        self.assertStatus(r, EXIT_VIOLATION)
        for v in r.report["violations"]:
            self.assertBlamed(r, v, "broken_queue")  # by the stack
            if "holder" in v:
                self.assertEqual(
                    (v["holder"]["kind"], v["holder"].get("variable")),
                    ("static-variable", "queue"),
                    r.describe(),
                )

    def test_module_state_holder(self):
        r = run_program("handoff.py", keep_going=True, checks="capi")
        self.assertStatus(r, EXIT_VIOLATION)
        violations = r.report["violations"]
        self.assertEqual(len(violations), 1, r.describe())
        v = violations[0]
        self.assertViolation(
            r, v, "cross-interpreter-argument", "list", "broken_handoff", "handoff.py"
        )
        self.assertEqual(
            (v["holder"]["kind"], v["holder"]["module"]),
            ("module-state", "broken_handoff"),
            r.describe(),
        )
        shown = interpsan("report", r.report_dir)
        self.assertIn("held by: `broken_handoff`'s module state", shown.stdout, shown.describe())

    def test_cpython_suites_findings_all_name_a_module(self):
        # CPython's own findings (shown: --no-default-suppressions) in two of
        # its suites: each names the module to blame, none has extension
        # null (on 3.12 they include the finalize-time keyword tuples that
        # no extension frame is on the stack for).
        for suite in ("test.test_bisect", "test.test_struct"):
            report_dir = scratch_dir("attribution-%s-" % suite)
            r = interpsan(
                "run",
                "-n",
                "4",
                "--keep-going",
                "--no-default-suppressions",
                "--report",
                report_dir,
                "--",
                "-m",
                suite,
                report_dir=report_dir,
            )
            self.assertIn(r.status, (e2e_lib.EXIT_OK, EXIT_VIOLATION), r.describe())
            if e2e_lib.VERSION == "3.12":  # README, "Known findings", 4
                self.assertTrue(r.report["violations"], r.describe())
            for v in r.report["violations"]:
                self.assertNotIn(v.get("extension"), NEVER_BLAMED, r.describe())

    def test_correct_extension_has_no_findings(self):
        r = run_program("correct.py", keep_going=True)
        self.assertClean(r)


if __name__ == "__main__":
    e2e_lib.main()
