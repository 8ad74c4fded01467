"""What a run reports however it ends, through the command line:

- counts survive a crash under --keep-going: the repeat counts of the
  violations seen before it are exact (not 1, not the last power of two);
- a hung interpreter stopped by the watchdog is "timeout", not
  "violation", and the counts survive the watchdog too;
- after a crash, each interpreter's tests are the results it recorded;
- skips are counted as unittest counts them on the version under test;
- unwritable --report / --junit paths are a usage error (status 2, one
  line) before anything runs."""

import os
import unittest

import e2e_lib
from e2e_lib import (
    EXIT_CRASH,
    EXIT_FAILED,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    E2ETestCase,
    VERSION,
    interpsan,
    program,
    run_program,
    scratch_dir,
)


class CountsSurviveTest(E2ETestCase):
    def test_counts_after_a_crash_under_keep_going(self):
        markers = scratch_dir("markers-")
        r = run_program("crash_after_violations.py", markers, n=2, keep_going=True)
        d = r.describe()
        self.assertStatus(r, EXIT_CRASH)
        self.assertEqual(r.report["crash"]["signal"], "SIGSEGV", d)
        by_line = {}
        for v in r.report["violations"]:
            self.assertEqual(v["kind"], "wrong-domain-free", d)
            by_line[v["python_traceback"][-1]["lineno"]] = v
        repeated = by_line.get(
            e2e_lib.marker_line("crash_after_violations.py", "VIOLATION-repeated")
        )
        other = by_line.get(e2e_lib.marker_line("crash_after_violations.py", "VIOLATION-other"))
        self.assertIsNotNone(repeated, d)
        self.assertIsNotNone(other, d)
        self.assertEqual(len(by_line), 2, d)
        # 2 interpreters x 11, and 3: exact, not 1 and not 16 or 2.
        self.assertEqual(repeated["count"], 22, d)
        self.assertEqual(repeated["interpreter_indexes"], [0, 1], d)
        self.assertEqual(other["count"], 3, d)
        self.assertIs(r.report["counts_exact"], True, d)
        self.assertEqual(self.interpreter_by_id(r, r.report["crash"]["interpreter"])["index"], 1, d)
        self.assertEqual(
            [i["status"] for i in r.report["interpreters"]], ["violation", "crashed"], d
        )

    def test_hung_interpreter_is_timeout(self):
        r = run_program("hang_after_violations.py", keep_going=True, options=("--timeout", "10"))
        d = r.describe()
        self.assertStatus(r, EXIT_TIMEOUT)
        statuses = [i["status"] for i in r.report["interpreters"]]
        self.assertEqual(statuses, ["violation", "timeout", "violation", "violation"], d)
        self.assertTrue(
            any(
                "hung_function" in [f["name"] for f in t["python_traceback"]]
                for t in r.report["timeout"]["threads"]
                if t.get("interpreter_index") == 1
            ),
            d,
        )
        # 4 interpreters x 5 at one site, written by the watchdog's dump.
        self.assertEqual([v["count"] for v in r.report["violations"]], [20], d)
        self.assertIs(r.report["counts_exact"], True, d)


class TestCountsTest(E2ETestCase):
    def test_tests_recorded_before_a_crash(self):
        markers = scratch_dir("markers-")
        r = run_program("tests_then_crash.py", markers, n=2)
        d = r.describe()
        self.assertStatus(r, EXIT_CRASH)
        for interp in r.report["interpreters"]:
            self.assertEqual(interp["tests"], {"run": 3, "failed": 0, "errors": 0, "skipped": 0}, d)
            self.assertEqual(
                [t["test"].rsplit(".", 1)[1] for t in interp["test_results"]],
                ["test_1", "test_2", "test_3"],
                d,
            )

    def test_skips_counted_as_unittest_counts_them(self):
        # The right answer is unittest's own, on this very Python version.
        import importlib.util
        import io

        spec = importlib.util.spec_from_file_location("skips", program("skips.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result = unittest.TextTestRunner(stream=io.StringIO()).run(
            unittest.defaultTestLoader.loadTestsFromModule(module)
        )
        expected = {
            "run": result.testsRun,
            "failed": len(result.failures),
            "errors": len(result.errors),
            "skipped": len(result.skipped),
        }
        # What unittest does on each version (so this test cannot pass by
        # accident): 3.12.1 never starts a skipped test.
        self.assertEqual(
            expected,
            {
                "3.12": {"run": 2, "failed": 1, "errors": 0, "skipped": 4},
                "3.13": {"run": 5, "failed": 1, "errors": 0, "skipped": 4},
            }[VERSION],
        )

        r = run_program("skips.py", n=2)
        self.assertStatus(r, EXIT_FAILED)
        for interp in r.report["interpreters"]:
            self.assertEqual(interp["tests"], expected, r.describe())
            # Every skip is a recorded result, the skipped setUpClass too.
            outcomes = sorted(t["outcome"] for t in interp["test_results"])
            self.assertEqual(outcomes, ["failure", "passed"] + ["skipped"] * 4, r.describe())


class OutputPathsTest(E2ETestCase):
    """Checked before the run starts: the program (which would leave a
    marker file) never runs."""

    def assertRefused(self, option, path, mention):
        marker = os.path.join(scratch_dir("marker-"), "ran")
        args = (
            ["run", "-n", "1"]
            + ([option, path] if option else [])
            + ["--", "-c", "open(%r, 'w').close()" % marker]
        )
        r = interpsan(*args)
        d = r.describe()
        self.assertEqual(r.status, EXIT_USAGE, d)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, "expected one line" + d)
        self.assertTrue(lines[0].startswith("interpsan: error: "), d)
        self.assertIn(mention, lines[0], d)
        self.assertIn(path, lines[0], d)
        self.assertFalse(os.path.exists(marker), "the program ran" + d)

    def test_report_under_a_file(self):
        # A file where a directory is needed: unwritable even for root.
        self.assertRefused("--report", "/proc/version/report", "cannot write the report")

    def test_report_on_a_read_only_filesystem(self):
        self.assertRefused("--report", "/proc/interpsan-report", "cannot write the report")

    def test_junit_in_a_missing_directory(self):
        path = os.path.join(scratch_dir("junit-"), "no-such-dir", "junit.xml")
        self.assertRefused("--junit", path, "cannot write the JUnit file")

    def test_junit_is_a_directory(self):
        self.assertRefused("--junit", scratch_dir("junit-"), "cannot write the JUnit file")

    def test_writable_paths_run(self):
        # The control: the same run with writable paths goes ahead and
        # leaves no probe behind.
        report_dir = os.path.join(scratch_dir("report-"), "new", "dir")
        junit = os.path.join(scratch_dir("junit-"), "junit.xml")
        r = interpsan(
            "run",
            "-n",
            "1",
            "--report",
            report_dir,
            "--junit",
            junit,
            "--",
            "-c",
            "pass",
            report_dir=report_dir,
        )
        self.assertEqual(r.status, 0, r.describe())
        self.assertEqual(
            sorted(os.listdir(report_dir)),
            ["events.jsonl", "report.html", "report.json"],
            r.describe(),
        )
        self.assertTrue(os.path.getsize(junit) > 0, r.describe())


class MessageWordingTest(E2ETestCase):
    def test_the_main_interpreter_is_called_so(self):
        # exec: a plain python whose main interpreter creates the static
        # list; an interpreter it creates then appends to it.
        import sys

        code = (
            "import broken_static_list\n"
            "broken_static_list.append('from main')\n"
            "try:\n"
            "    import _interpreters as interpreters\n"
            "except ImportError:\n"
            "    import _xxsubinterpreters as interpreters\n"
            "interpreters.run_string(interpreters.create(),\n"
            "    'import broken_static_list; broken_static_list.append(1)')\n"
        )
        report_dir = scratch_dir("report-wording-")
        r = interpsan(
            "exec", "--report", report_dir, "--", sys.executable, "-c", code, report_dir=report_dir
        )
        d = r.describe()
        self.assertEqual(r.status, e2e_lib.EXIT_VIOLATION, d)
        (v,) = r.report["violations"]
        self.assertEqual(v["kind"], "cross-interpreter-argument", d)
        self.assertEqual(v["owner_interpreter"], 0, d)
        self.assertIn("a 'list' owned by the main interpreter", v["message"], d)
        self.assertNotIn("interpreter 0", v["message"], d)
        self.assertIn("owner: the main interpreter (id 0)", r.stderr, d)
        self.assertNotIn("interpreter 0", r.stderr, d)


class InterpreterCreateFailedTest(E2ETestCase):
    """An interpreter that Py_NewInterpreterFromConfig could not create
    (the runner's interpreter_create_failed event; no program triggers it
    on demand, so the supervisor gets the events a run would write)."""

    def test_failed_with_its_reason(self):
        import sys

        tools = os.path.join(os.path.dirname(os.path.realpath(e2e_lib.LAUNCHER)), "supervisor")
        sys.path.insert(0, tools)
        try:
            import interpsan as supervisor
        finally:
            sys.path.remove(tools)
        args = supervisor.parse_args(
            [
                "--runner",
                "runner",
                "--python-version",
                VERSION,
                "run",
                "-n",
                "2",
                "--",
                "-c",
                "pass",
            ]
        )
        events = [
            {"event": "start", "mode": "run", "interpreters": 2},
            {"event": "interpreter_start", "index": 0, "id": 1},
            {
                "event": "interpreter_create_failed",
                "index": 1,
                "id": -1,
                "detail": "failed to create a new interpreter: out of memory",
            },
            {
                "event": "interpreter_result",
                "index": 0,
                "id": 1,
                "exit_code": 0,
                "status": "ok",
                "tests": {"run": 0, "failed": 0, "errors": 0, "skipped": 0},
            },
            {"event": "interpreter_end", "index": 0, "id": 1},
        ]
        report, status = supervisor.build_report(args, events, 1, False, VERSION)
        self.assertEqual(status, EXIT_FAILED, report)
        failed = report["interpreters"][1]
        self.assertEqual(failed["status"], "failed", report)
        self.assertEqual(failed["failure"], "interpreter_create_failed", report)
        self.assertEqual(
            failed["failure_reason"], "failed to create a new interpreter: out of memory", report
        )
        self.assertEqual(report["interpreters"][0]["status"], "ok", report)


if __name__ == "__main__":
    e2e_lib.main()
