"""End-to-end: --keep-going reports violations and lets every interpreter
finish; correct extensions report nothing with or without it."""

import re

import e2e_lib
from e2e_lib import EXIT_VIOLATION, E2ETestCase, run_program


class KeepGoingCase(E2ETestCase):
    def assertAllFinished(self, r, expect_stdout=None):
        """Every interpreter ran its program to the end: an exit code is
        recorded for each, offenders have status "violation", the others "ok"."""
        interps = self.assertInterpreters(r)
        for interp in interps:
            self.assertIn(interp["status"], ("ok", "violation"), r.describe())
            self.assertEqual(interp["exit_code"], 0, r.describe())
        if expect_stdout:
            self.assertEqual(r.stdout.count(expect_stdout), 4, r.describe())
        self.assertNotIn("ABORTING", r.stderr, r.describe())
        self.assertIs(r.report["options"]["keep_going"], True, r.describe())
        return interps

    def assertCounts(self, r, minimum_total=1):
        total = 0
        for v in r.report["violations"]:
            self.assertIsInstance(v.get("count"), int, r.describe())
            self.assertGreaterEqual(v["count"], 1, r.describe())
            total += v["count"]
        self.assertGreaterEqual(total, minimum_total, r.describe())
        return total


class KeepGoingTest(KeepGoingCase):
    def test_queue_floats(self):
        r = run_program("queue.py", "float", keep_going=True)
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertAllFinished(r, "queue done")
        violations = r.report["violations"]
        self.assertGreaterEqual(len(violations), 1, r.describe())
        for v in violations:
            self.assertViolation(
                r, v, "cross-interpreter-dealloc", "float", "broken_queue", "queue.py"
            )
            self.assertEqual(
                self.interpreter_by_id(r, v["owner_interpreter"])["index"], 0, r.describe()
            )
        # All 16 queued floats were drained by other interpreters; each
        # deallocation is one occurrence.
        self.assertEqual(self.assertCounts(r), 16, r.describe())

    def test_queue_dicts(self):
        r = run_program("queue.py", "dict", keep_going=True)
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertAllFinished(r, "queue done")
        self.assertGreaterEqual(len(r.report["violations"]), 1, r.describe())
        for v in r.report["violations"]:
            self.assertViolation(
                r, v, "cross-interpreter-dealloc", "dict", "broken_queue", "queue.py"
            )
        self.assertCounts(r)

    def test_pymem_buffer_realloc_reported_once(self):
        # After the cross-interpreter realloc the acting interpreter holds its
        # own copy of the buffer: its further resizes and its free are correct
        # and must not be reported.
        r = run_program("pymem_buffer.py", "realloc", "200", keep_going=True)
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertAllFinished(r, "pymem_buffer done")
        violations = r.report["violations"]
        self.assertEqual(len(violations), 1, r.describe())
        self.assertViolation(
            r,
            violations[0],
            "cross-interpreter-realloc",
            "PyMem_Malloc block (208 bytes)",  # pymalloc's size class for 200
            "broken_pymem_buffer",
            "pymem_buffer.py",
            marker="VIOLATION-realloc",
        )
        self.assertEqual(self.assertCounts(r), 1, r.describe())
        statuses = [i["status"] for i in r.report["interpreters"]]
        self.assertEqual(statuses, ["ok", "violation", "ok", "ok"], r.describe())

    def test_pymem_buffer_free(self):
        r = run_program("pymem_buffer.py", "free", "4096", keep_going=True)
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertAllFinished(r, "pymem_buffer done")
        violations = r.report["violations"]
        self.assertEqual(len(violations), 1, r.describe())
        self.assertViolation(
            r,
            violations[0],
            "cross-interpreter-free",
            "PyMem_Malloc block (4096 bytes)",
            "broken_pymem_buffer",
            "pymem_buffer.py",
            marker="VIOLATION-free",
        )

    def test_static_list(self):
        # The checks that act as the program runs; the checkpoint audit (which
        # also finds the list, in the static and as a foreign reference) is
        # covered by test_static_list_audit. Every append by an interpreter
        # that does not own the list is refused at the C-API boundary: the
        # list is never touched by a foreign GIL, so its item buffer is
        # never resized by one (no cross-interpreter-realloc).
        r = run_program("static_list.py", keep_going=True, checks="free,domain,dealloc,capi")
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertAllFinished(r, "static_list done")
        violations = r.report["violations"]
        self.assertEqual(len(violations), 1, r.describe())
        v = violations[0]
        self.assertViolation(
            r, v, "cross-interpreter-argument", "list", "broken_static_list", "static_list.py"
        )
        self.assertEqual(
            (v["capi_function"], v["capi_argument"]), ("PyList_Append", 1), r.describe()
        )
        self.assertEqual(v["resolution"], "refused", r.describe())
        # 3 interpreters x 200 appends to a list they do not own, each one
        # refused: counted in the report and seen by the program.
        self.assertEqual(self.assertCounts(r), 600, r.describe())
        refused = sorted(re.findall(r"static_list done \d (\d+)", r.stdout))
        self.assertEqual(refused, ["0", "200", "200", "200"], r.describe())

    def test_wrong_domain_counts_every_occurrence(self):
        # 4 interpreters x 20 calls, one wrong-domain free each.
        r = run_program("wrong_domain.py", "object_mem", keep_going=True)
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertAllFinished(r, "wrong_domain done")
        self.assertGreaterEqual(len(r.report["violations"]), 1, r.describe())
        for v in r.report["violations"]:
            self.assertViolation(
                r,
                v,
                "wrong-domain-free",
                "PyObject_Malloc block (48 bytes)",
                "broken_wrong_domain",
                "wrong_domain.py",
                marker="VIOLATION-object_mem",
                same_interpreter=True,
            )
        self.assertEqual(self.assertCounts(r), 80, r.describe())

    def test_static_list_audit(self):
        # At the end of each program, the audit finds the static list (named
        # by its C variable) and the other interpreters' items it holds.
        r = run_program("static_list.py", keep_going=True, checks="audit")
        self.assertStatus(r, EXIT_VIOLATION)
        statics = [v for v in r.report["violations"] if v["kind"] == "static-object-reference"]
        self.assertTrue(statics, r.describe())
        for v in statics:
            self.assertEqual(v["extension"], "broken_static_list", r.describe())
            self.assertEqual(v.get("variable"), "shared_list", r.describe())
            self.assertEqual(v["object_type"], "list", r.describe())
            self.assertNotEqual(v["interpreter"], v["owner_interpreter"], r.describe())

    def test_wrong_domain_every_offender_has_status_violation(self):
        # Every interpreter commits the same violation: every one of them is
        # an offender and must say so.
        r = run_program("wrong_domain.py", "object_mem", keep_going=True)
        self.assertStatus(r, EXIT_VIOLATION)
        statuses = [i["status"] for i in r.report["interpreters"]]
        self.assertEqual(statuses, ["violation"] * 4, r.describe())


class RefusedCallsTest(KeepGoingCase):
    """A refused C-API call reaches the caller as interpsan.CrossInterpreterError
    (the programs catch it and count); the default mode is unchanged: the
    first violation ends the run."""

    def test_callback_registry_keep_going(self):
        r = run_program("callback_registry.py", keep_going=True)
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertAllFinished(r, "callback_registry done")
        calls = [v for v in r.report["violations"] if v["kind"] == "cross-interpreter-call"]
        self.assertEqual(len(calls), 1, r.describe())
        v = calls[0]
        self.assertViolation(
            r,
            v,
            "cross-interpreter-call",
            "function",
            "broken_callback_registry",
            "callback_registry.py",
        )
        self.assertEqual(v["owner_index"], 0, r.describe())
        self.assertEqual(
            (v["capi_function"], v["resolution"]), ("PyObject_CallOneArg", "refused"), r.describe()
        )
        # Each of the 3 others fired 50 times; the first call of each fire()
        # was refused and ended it.
        self.assertEqual(v["count"], 150, r.describe())
        refused = sorted(re.findall(r"refused (\d) (\d+)", r.stdout))
        self.assertEqual(refused, [("1", "50"), ("2", "50"), ("3", "50")], r.describe())
        # The callback ran in its own interpreter only.
        self.assertNotIn("crash", r.report, r.describe())

    def test_callback_registry_fatal(self):
        r = run_program("callback_registry.py")
        self.assertFatalViolation(
            r,
            "cross-interpreter-call",
            "function",
            "broken_callback_registry",
            "callback_registry.py",
        )
        self.assertNotIn("resolution", r.report["violations"][0], r.describe())

    def test_shared_dict_keep_going(self):
        r = run_program("shared_dict.py", keep_going=True, checks="free,domain,dealloc,capi")
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertAllFinished(r, "shared_dict done")
        violations = r.report["violations"]
        self.assertEqual(len(violations), 1, r.describe())
        v = violations[0]
        self.assertViolation(
            r, v, "cross-interpreter-argument", "dict", "broken_shared_dict", "shared_dict.py"
        )
        self.assertEqual(
            (v["capi_function"], v["capi_argument"], v["resolution"]),
            ("PyDict_SetItem", 1, "refused"),
            r.describe(),
        )
        self.assertEqual(v["count"], 900, r.describe())
        refused = sorted(re.findall(r"shared_dict done \d (\d+)", r.stdout))
        self.assertEqual(refused, ["0", "300", "300", "300"], r.describe())

    def test_shared_dict_fatal(self):
        r = run_program("shared_dict.py")
        self.assertFatalViolation(
            r, "cross-interpreter-argument", "dict", "broken_shared_dict", "shared_dict.py"
        )


class CorrectExtensionTest(E2ETestCase):
    """correct_module_state (module state, heap type, immortal static, C
    counter behind a lock) with 4 interpreters: nothing to report."""

    def check(self, keep_going):
        r = run_program("correct.py", keep_going=keep_going)
        self.assertClean(r)
        # Four interpreters print at once: lines may interleave.
        done = sorted(re.findall(r"correct done (\d)", r.stdout))
        self.assertEqual(done, ["0", "1", "2", "3"], r.describe())
        self.assertIs(r.report["options"]["keep_going"], keep_going, r.describe())

    def test_default_mode(self):
        self.check(keep_going=False)

    def test_keep_going(self):
        self.check(keep_going=True)


if __name__ == "__main__":
    e2e_lib.main()
