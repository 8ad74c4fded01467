"""End-to-end: the command-line contract of `tools/interpsan` other than
detection: usage errors, exit statuses, how program failures, sys.exit codes
and unittest results reach report.json, extensions CPython refuses, and a
report after a fatal signal."""

import os
import re

import e2e_lib
from e2e_lib import (
    EXIT_CRASH,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    VERSION,
    E2ETestCase,
    interpsan,
    marker_line,
    program,
    run_program,
)


class UsageErrorTest(E2ETestCase):
    """Status 2 and exactly one line on stderr, before anything runs."""

    def assertUsageError(self, *cli, python=None, mention=None):
        r = interpsan(*cli, python=python)
        d = r.describe()
        self.assertEqual(r.status, EXIT_USAGE, d)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 1, "expected a one-line error" + d)
        self.assertTrue(lines[0].startswith("interpsan: error: "), d)
        if mention:
            self.assertIn(mention, lines[0], d)
        self.assertEqual(r.stdout, "", d)
        return lines[0]

    def test_unknown_flag(self):
        self.assertUsageError(
            "run", "--bogus-flag", "--", program("correct.py"), mention="--bogus-flag"
        )

    def test_unknown_flag_without_separator(self):
        self.assertUsageError(
            "run", "-n", "2", "--frobnicate", program("correct.py"), mention="--frobnicate"
        )

    def test_zero_interpreters(self):
        report_dir = os.path.join(e2e_lib.scratch_dir("usage-"), "report")
        self.assertUsageError(
            "run", "-n", "0", "--report", report_dir, "--", program("correct.py"), mention="-n"
        )
        self.assertFalse(os.path.exists(report_dir), "a usage error ran something")

    def test_non_numeric_interpreters(self):
        self.assertUsageError("run", "-n", "four", "--", program("correct.py"))

    def test_missing_script(self):
        missing = program("no_such_program.py")
        self.assertUsageError("run", "--", missing, mention="no_such_program.py")

    def test_no_program(self):
        self.assertUsageError("run", "-n", "2", "--")

    def test_unknown_python_version(self):
        self.assertUsageError("run", "--", program("correct.py"), python="3.11", mention="3.11")

    def test_malformed_python_version(self):
        self.assertUsageError("run", "--", program("correct.py"), python="python3")

    def test_bad_checks(self):
        self.assertUsageError(
            "run", "--checks", "free,bogus", "--", program("correct.py"), mention="bogus"
        )

    def test_empty_checks(self):
        self.assertUsageError("run", "--checks", "", "--", program("correct.py"))

    def test_unknown_command(self):
        self.assertUsageError("frobnicate", "--", program("correct.py"))


class HelpTest(E2ETestCase):
    def test_help(self):
        r = interpsan("--help")
        self.assertEqual(r.status, EXIT_OK, r.describe())
        self.assertIn("usage: interpsan", r.stdout, r.describe())
        for option in ("-n N", "--report", "--keep-going", "--checks"):
            self.assertIn(option, r.stdout, r.describe())


class ProgramOutcomeTest(E2ETestCase):
    def test_uncaught_exception(self):
        r = run_program("raises.py")
        self.assertStatus(r, EXIT_FAILED)
        interps = self.assertInterpreters(r)
        self.assertEqual(r.report["violations"], [], r.describe())
        self.assertNotIn("crash", r.report, r.describe())
        line = marker_line("raises.py", "RAISE")
        for interp in interps:
            self.assertEqual(interp["status"], "failed", r.describe())
            self.assertEqual(interp["exit_code"], 1, r.describe())
            self.assertNotIn("failure", interp, r.describe())
            # The traceback on stderr, every line tagged with the interpreter.
            tag = "[interpsan: interpreter %d (index %d)] " % (interp["id"], interp["index"])
            tagged = [l[len(tag) :] for l in r.stderr.splitlines() if l.startswith(tag)]
            self.assertIn("Traceback (most recent call last):", tagged, r.describe())
            self.assertIn(
                "ValueError: e2e-boom from index %d" % interp["index"], tagged, r.describe()
            )
            frame = re.compile(r'\s*File ".*raises\.py", line %d, in fail$' % line)
            self.assertTrue(
                any(frame.match(l) for l in tagged),
                "no tagged frame for raises.py:%d" % line + r.describe(),
            )

    def test_sys_exit_3(self):
        r = run_program("exit3.py")
        # A non-zero SystemExit is a failed program (status 1); its code is
        # kept per interpreter.
        self.assertStatus(r, EXIT_FAILED)
        for interp in self.assertInterpreters(r):
            self.assertEqual(interp["exit_code"], 3, r.describe())
            self.assertEqual(interp["status"], "failed", r.describe())
        self.assertEqual(r.report["violations"], [], r.describe())
        self.assertNotIn("Traceback", r.stderr, r.describe())

    def test_unittest_failures_and_skips(self):
        r = run_program("unittest_prog.py")
        self.assertStatus(r, EXIT_FAILED)  # unittest.main exits 1 on a failure
        for interp in self.assertInterpreters(r):
            self.assertEqual(interp["status"], "failed", r.describe())
            self.assertEqual(interp["exit_code"], 1, r.describe())
            tests = interp["tests"]
            self.assertEqual(
                (tests["failed"], tests["errors"], tests["skipped"]), (1, 0, 1), r.describe()
            )

    def test_junit_one_testsuite_per_interpreter(self):
        import xml.etree.ElementTree as ET

        junit = os.path.join(e2e_lib.scratch_dir("junit-"), "junit.xml")
        r = run_program("unittest_prog.py", options=("--junit", junit))
        self.assertStatus(r, EXIT_FAILED)
        root = ET.parse(junit).getroot()
        suites = root.findall("testsuite")
        self.assertEqual(len(suites), 4, r.describe())
        for suite in suites:
            cases = suite.findall("testcase")
            self.assertEqual(len(cases), 3, ET.tostring(suite))
            self.assertEqual(len([c for c in cases if c.find("failure") is not None]), 1)
            self.assertEqual(len([c for c in cases if c.find("skipped") is not None]), 1)
            self.assertEqual(suite.get("tests"), "3")

    def test_private_temp_directory_per_interpreter(self):
        # Pid-derived names in tempfile.gettempdir() would collide across the
        # 4 interpreters of one process.
        r = run_program("tempdir_collide.py")
        self.assertStatus(r, EXIT_OK)

    def test_private_cpython_testfn_per_interpreter(self):
        # CPython's suites name scratch files after the pid, in the current
        # directory (test_array, test_json): one name per interpreter.
        cwd = e2e_lib.scratch_dir("testfn-")
        r = e2e_lib.interpsan("run", "-n", "4", "--", e2e_lib.program("testfn_collide.py"), cwd=cwd)
        self.assertStatus(r, EXIT_OK)
        names = sorted(line.split()[1] for line in r.stdout.splitlines())
        self.assertEqual(len(set(names)), 4, r.describe())
        self.assertEqual(os.listdir(cwd), [], r.describe())

    def test_patched_when_site_imported_them_first(self):
        # The bootstrap patches unittest's results and tempfile as the
        # program first imports them; a sitecustomize that imports both
        # before the program must get the same: exact counts, private dirs.
        site_dir = e2e_lib.scratch_dir("sitecustomize-")
        with open(os.path.join(site_dir, "sitecustomize.py"), "w") as f:
            f.write("import tempfile\nimport unittest\n")
        r = run_program("unittest_prog.py", pythonpath=[site_dir])
        self.assertStatus(r, EXIT_FAILED)
        run = {"3.12": 2, "3.13": 3}[VERSION]
        for interp in self.assertInterpreters(r):
            self.assertEqual(
                interp["tests"], {"run": run, "failed": 1, "errors": 0, "skipped": 1}, r.describe()
            )
        self.assertStatus(run_program("tempdir_collide.py", pythonpath=[site_dir]), EXIT_OK)

    def test_unittest_run_count_as_unittest_counts(self):
        # tests.run is unittest's testsRun on each version: 3.12.1 never
        # calls startTest for a @skip-decorated test, so does not count it as
        # run; 3.13 does (issue 11; test_reporting covers every kind of skip).
        r = run_program("unittest_prog.py")
        self.assertStatus(r, EXIT_FAILED)
        run = {"3.12": 2, "3.13": 3}[VERSION]
        for interp in self.assertInterpreters(r):
            self.assertEqual(
                interp["tests"], {"run": run, "failed": 1, "errors": 0, "skipped": 1}, r.describe()
            )
            self.assertEqual(len(interp["test_results"]), 3, r.describe())


class UnsupportedExtensionTest(E2ETestCase):
    """Extensions CPython refuses in own-GIL interpreters: a clear
    'unsupported extension' failure (status 1), not a crash or a violation."""

    def check(self, module):
        r = run_program("import_module.py", module)
        self.assertStatus(r, EXIT_FAILED)
        self.assertNotIn("crash", r.report, r.describe())
        self.assertEqual(r.report["violations"], [], r.describe())
        for interp in self.assertInterpreters(r):
            self.assertEqual(interp["status"], "failed", r.describe())
            self.assertEqual(interp["exit_code"], 1, r.describe())
            self.assertEqual(interp.get("failure"), "unsupported_extension", r.describe())
            info = interp.get("unsupported_extension") or {}
            self.assertEqual(info.get("module"), module, r.describe())
            self.assertEqual(os.path.basename(info.get("path") or ""), module + ".so", r.describe())
        self.assertIn("does not support loading in subinterpreters", r.stderr, r.describe())

    def test_single_phase_init(self):
        self.check("single_phase")

    def test_multi_phase_without_gil_slot(self):
        self.check("no_gil_slot")


class CrashTest(E2ETestCase):
    def test_report_after_sigsegv(self):
        r = run_program("segv.py")
        self.assertStatus(r, EXIT_CRASH)
        crash = r.report.get("crash")
        self.assertIsInstance(crash, dict, r.describe())
        self.assertEqual(crash.get("signal"), "SIGSEGV", r.describe())
        for key in ("interpreter", "thread", "native_stack", "threads"):
            self.assertIn(key, crash, r.describe())
        interps = self.assertInterpreters(r)
        # No interpreter got to the end of its program.
        for interp in interps:
            self.assertEqual(interp["status"], "crashed", r.describe())
        self.assertIn("SIGSEGV", r.stderr, r.describe())


if __name__ == "__main__":
    e2e_lib.main()
