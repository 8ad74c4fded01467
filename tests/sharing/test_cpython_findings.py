"""CPython's own known findings (tools/suppressions/cpython-3.X.supp) are
suppressed by default, counted apart (report.json's suppressed_cpython, the
summary line) and shown with --no-default-suppressions; the defaults cover
CPython's own modules only, so the same pattern in a third-party extension
is still reported (debug/cpython_findings.h)."""

import unittest

from sharing_lib import EXIT_OK, EXIT_VIOLATION, VERSION, program, run
import sharing_lib


class DefaultSuppressionsTest(unittest.TestCase):
    maxDiff = None

    def run_exec_datetime(self, *options):
        python = sharing_lib.python_executable()
        report_dir = sharing_lib.scratch_dir("report-exec-")
        r = sharing_lib.interpsan(
            "exec",
            "--keep-going",
            *options,
            "--report",
            report_dir,
            "--",
            python,
            program("exec_datetime.py"),
            report_dir=report_dir,
        )
        return r

    def test_datetime_findings_in_exec_counted_apart(self):
        r = self.run_exec_datetime()
        d = r.describe()
        self.assertIn("exec_datetime ok", r.stdout, d)
        self.assertEqual(r.status, EXIT_OK, d)
        self.assertEqual(r.report["violations"], [], d)
        self.assertGreater(r.report["suppressed_cpython"], 0, d)
        # Shown apart, by site: every one of them is _datetime's.
        self.assertTrue(r.report["cpython_findings"], d)
        self.assertEqual({f["extension"] for f in r.report["cpython_findings"]}, {"_datetime"}, d)
        self.assertIn("findings in CPython itself suppressed [_datetime]", r.stderr, d)
        r = self.run_exec_datetime("--no-default-suppressions")
        d = r.describe()
        self.assertEqual(r.status, EXIT_VIOLATION, d)
        self.assertEqual(r.report["suppressed_cpython"], 0, d)
        self.assertTrue(r.report["violations"], d)
        for v in r.report["violations"]:
            self.assertEqual(v["extension"], "_datetime", d)

    def test_stdlib_findings_counted_apart(self):
        # 3.12: the stdlib's Argument Clinic keyword tuples, and _datetime's
        # / _decimal's PyInit_ on shared static types. 3.13: the managed
        # static types' tuples released by _PyTypes_FiniExtTypes.
        r = run([program("cpython_findings.py")])
        d = r.describe()
        self.assertEqual(r.status, EXIT_OK, d)
        self.assertEqual(r.report["violations"], [], d)
        self.assertEqual(r.report["suppressed"], 0, d)  # no user suppressions
        if VERSION == "3.12":
            self.assertGreater(r.report["suppressed_cpython"], 0, d)
            self.assertIn("findings in CPython itself suppressed", r.stderr, d)
            # Listed apart, by site: the stdlib's keyword tuples among them.
            held = {
                f["extension"]
                for f in r.report["cpython_findings"]
                if f["kind"] == "static-object-reference"
            }
            self.assertTrue({"_bisect", "binascii"} <= held, d)
        else:
            self.assertEqual(r.report["suppressed_cpython"], 0, d)
            self.assertEqual(r.report["cpython_findings"], [], d)
        self.assertEqual(r.stdout.count("cpython_findings ok"), 4, d)
        for interp in r.report["interpreters"]:
            self.assertEqual(interp["status"], "ok", d)

    @unittest.skipUnless(
        VERSION == "3.12",
        "3.13's runner readies _datetime in the main "
        "interpreter first: no finding left in run mode (exec: above)",
    )
    def test_no_default_suppressions_shows_them(self):
        r = run([program("cpython_findings.py")], options=["--no-default-suppressions"])
        d = r.describe()
        self.assertEqual(r.status, EXIT_VIOLATION, d)
        self.assertEqual(r.report["suppressed_cpython"], 0, d)
        self.assertNotIn("findings in CPython itself suppressed", r.stderr, d)
        extensions = {v["extension"] for v in r.report["violations"]}
        self.assertTrue({"_bisect", "binascii"} <= extensions, d)

    def test_third_party_same_pattern_is_reported(self):
        # The stdlib's findings stay counted apart; the extension's own
        # keyword tuple (3.12) or imitation (3.13) is reported.
        args = ["extension"] if VERSION == "3.12" else ["imitate"]
        r = run([program("clinic_keywords.py")] + args)
        d = r.describe()
        self.assertEqual(r.status, EXIT_VIOLATION, d)
        self.assertTrue(r.report["violations"], d)
        kinds = set()
        for v in r.report["violations"]:
            kinds.add(v["kind"])
            self.assertEqual(v["extension"], "clinic_parsers", d)
        # The static holding it; and, on 3.12, when the main interpreter
        # releases it at exit (_PyArg_Fini), that dealloc names the same
        # static variable as its holder.
        self.assertIn("static-object-reference", kinds, d)
        self.assertLessEqual(kinds, {"static-object-reference", "cross-interpreter-dealloc"}, d)
        if VERSION == "3.12":
            self.assertGreater(r.report["suppressed_cpython"], 0, d)  # _bisect, binascii


class PytestTest(unittest.TestCase):
    """pytest (the checkout's pinned test venv, tools/setup/install_prerequisites.sh
    --tests) on a clean suite: exit 0, nothing but CPython's own findings,
    counted apart."""

    def test_clean_suite_reports_only_cpython_findings(self):
        import os

        checkout = os.path.dirname(os.path.dirname(os.path.realpath(sharing_lib.LAUNCHER)))
        python = os.path.join(checkout, ".venvs", "tests-" + VERSION, "bin", "python")
        self.assertTrue(
            os.path.exists(python),
            "%s is missing: run tools/setup/install_prerequisites.sh --tests" % python,
        )
        report_dir = sharing_lib.scratch_dir("report-pytest-")
        r = sharing_lib.interpsan(
            "--python",
            python,
            "run",
            "-n",
            "4",
            "--keep-going",
            "--report",
            report_dir,
            "--",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            program(os.path.join("pytest_clean", "test_clean.py")),
            report_dir=report_dir,
            timeout=600,
        )
        d = r.describe()
        self.assertEqual(r.status, EXIT_OK, d)
        self.assertEqual(r.report["violations"], [], d)
        self.assertEqual(r.report["suppressed"], 0, d)
        for interp in r.report["interpreters"]:
            self.assertEqual(interp["tests"]["run"], 2, d)
            self.assertEqual(interp["tests"]["failed"], 0, d)
        if VERSION == "3.12":
            self.assertGreater(r.report["suppressed_cpython"], 0, d)
            self.assertIn("findings in CPython itself suppressed", r.stderr, d)


if __name__ == "__main__":
    sharing_lib.main()
