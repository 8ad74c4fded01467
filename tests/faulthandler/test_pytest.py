"""pytest from PyPI (pinned in tests/requirements.txt, installed by the
project's own set-up, `tools/setup/install_prerequisites.sh --tests`, into the
checkout's .venvs/tests-3.X) runs a small test file (pass, fail, skip) in 4
own-GIL interpreters at once, through the command line and that venv's
python:

  tools/interpsan --python .venvs/tests-3.X/bin/python run -n 4 --keep-going
      --suppressions tools/suppressions/cpython-3.X.supp --report DIR
      -- -m pytest -q -p no:cacheprovider test_sample.py

Stock pytest cannot run in an own-GIL interpreter (it imports
faulthandler, which refuses to load there); interpsan's process-wide
faulthandler takes its place. Proves: pytest is imported from the venv
(nothing else puts it on the path), exit status 1 (a failing test), no
crash, no violation beyond CPython's own known ones (the suppression file),
and per interpreter tests {run: 3, failed: 1, skipped: 1} with the 3
test_results. A missing venv is a failure that says how to create it,
never a skip."""

import os
import re
import unittest

import fh_lib  # first: puts tests/ (cli_testing) on the path
from fh_lib import EXIT_FAILED, LAUNCHER, VERSION, FaulthandlerTestCase

import cli_testing  # noqa: E402

SAMPLE = os.path.join(fh_lib.PROGRAMS, "pytest_sample", "test_sample.py")
# The checkout (the launcher's real path is in it, also under Bazel).
CHECKOUT = os.path.dirname(os.path.dirname(os.path.realpath(LAUNCHER)))
VENV = os.path.join(CHECKOUT, ".venvs", "tests-" + VERSION)
VENV_PYTHON = os.path.join(VENV, "bin", "python")


def pinned_pytest_version():
    with open(os.path.join(CHECKOUT, "tests", "requirements.txt")) as f:
        for line in f:
            if line.startswith("pytest=="):
                return line.split("==", 1)[1].strip()
    raise AssertionError("tests/requirements.txt pins no pytest")


class PytestTest(FaulthandlerTestCase):
    def test_pytest_in_four_interpreters(self):
        self.assertTrue(
            os.access(VENV_PYTHON, os.X_OK),
            "the test venv %s is missing: create it with "
            "`tools/setup/install_prerequisites.sh --tests` (tests/run_all.sh does)" % VENV,
        )
        report_dir = cli_testing.scratch_dir("report-pytest-")
        args = [
            LAUNCHER,
            "--python",
            VENV_PYTHON,
            "run",
            "-n",
            str(fh_lib.N),
            "--keep-going",
            "--suppressions",
            fh_lib.suppressions_file(),
            "--report",
            report_dir,
            "--",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-s",
            SAMPLE,
        ]
        r = cli_testing.run(
            args, fh_lib.environment(), fh_lib.RUN_TIMEOUT, report_dir, os.path.dirname(SAMPLE)
        )
        d = r.describe()
        self.assertStatus(r, EXIT_FAILED)
        self.assertNotIn("crash", r.report, d)
        self.assertNotIn("timeout", r.report, d)
        # Anything not in CPython's known list is a finding.
        self.assertEqual(r.report["violations"], [], d)
        for interp in self.assertInterpreters(r):
            self.assertEqual(interp["status"], "failed", d)
            self.assertEqual(interp["exit_code"], 1, d)
            self.assertEqual(interp["tests"], {"run": 3, "failed": 1, "errors": 0, "skipped": 1}, d)
            results = {t["test"].rsplit("::", 1)[-1]: t for t in interp.get("test_results", [])}
            self.assertEqual(len(interp.get("test_results", [])), 3, d)
            self.assertEqual(
                {name: t["outcome"] for name, t in results.items()},
                {"test_passes": "passed", "test_fails": "failure", "test_skipped": "skipped"},
                d,
            )
            self.assertIn("fails on purpose", results["test_fails"].get("message", ""), d)
        self.assertIn("1 failed, 1 passed, 1 skipped", r.stdout, d)
        # Every interpreter imported the venv's pinned pytest, with the
        # venv as sys.prefix (the sample prints both when collected: -s).
        # (Interpreters share stdout: the line may follow another's "." mid-line.)
        origins = re.findall(r"pytest-from (\S+) (\S+) (\S+)\n", r.stdout)
        self.assertEqual(len(origins), fh_lib.N, d)
        site_packages = os.path.join(VENV, "lib", "python" + VERSION, "site-packages")
        for path, version, prefix in origins:
            self.assertTrue(path.startswith(site_packages + os.sep), d)
            self.assertEqual(version, pinned_pytest_version(), d)
            self.assertEqual(prefix, VENV, d)

    def test_no_interpreter_loses_its_output(self):
        # Without -s: pytest's default fd capture would point descriptors 1
        # and 2, which the 4 interpreters share, at one interpreter's file
        # around each of its tests, swallowing the others' output. interpsan
        # makes it capture per interpreter (sys), so every interpreter's
        # result lines and summary reach stdout.
        report_dir = cli_testing.scratch_dir("report-pytest-capture-")
        args = [
            LAUNCHER,
            "--python",
            VENV_PYTHON,
            "run",
            "-n",
            str(fh_lib.N),
            "--keep-going",
            "--report",
            report_dir,
            "--",
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            SAMPLE,
        ]
        r = cli_testing.run(
            args, fh_lib.environment(), fh_lib.RUN_TIMEOUT, report_dir, os.path.dirname(SAMPLE)
        )
        d = r.describe()
        self.assertStatus(r, EXIT_FAILED)
        # (-v writes a test's name and its result in two writes, which other
        # interpreters' lines may separate: count the results alone.)
        self.assertEqual(len(re.findall(r"\bPASSED\b", r.stdout)), fh_lib.N, d)
        self.assertEqual(len(re.findall(r"\bSKIPPED\b", r.stdout)), fh_lib.N, d)
        self.assertEqual(len(re.findall(r"1 failed, 1 passed, 1 skipped", r.stdout)), fh_lib.N, d)


if __name__ == "__main__":
    fh_lib.main()
