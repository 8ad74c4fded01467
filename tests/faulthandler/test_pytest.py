"""Debian's pytest (python3-pytest, pure Python, from
/usr/lib/python3/dist-packages) runs a small test file (pass, fail, skip)
in 4 own-GIL interpreters at once, through the command line:

  tools/interpsan run -n 4 --keep-going --suppressions
      tools/suppressions/cpython-3.X.supp --report DIR
      -- -m pytest -q -p no:cacheprovider test_sample.py

Stock pytest cannot run in an own-GIL interpreter (it imports
faulthandler, which refuses to load there); interpsan's process-wide
faulthandler takes its place. Proves: exit status 1 (a failing test), no
crash, no violation beyond CPython's own known ones (the suppression file),
and per interpreter tests {run: 3, failed: 1, skipped: 1} with the 3
test_results."""

import os
import unittest

import fh_lib
from fh_lib import EXIT_FAILED, FaulthandlerTestCase, run_program

DIST_PACKAGES = "/usr/lib/python3/dist-packages"
SAMPLE = os.path.join(fh_lib.PROGRAMS, "pytest_sample", "test_sample.py")


@unittest.skipUnless(os.path.isdir(os.path.join(DIST_PACKAGES, "_pytest")),
                     "Debian's python3-pytest is not installed")
class PytestTest(FaulthandlerTestCase):
    def test_pytest_in_four_interpreters(self):
        r = run_program(None, python_args=["-m", "pytest", "-q", "-p", "no:cacheprovider", SAMPLE],
                        options=["--keep-going", "--suppressions", fh_lib.suppressions_file()],
                        pythonpath=[DIST_PACKAGES],
                        cwd=os.path.dirname(SAMPLE))
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
            self.assertEqual({name: t["outcome"] for name, t in results.items()},
                             {"test_passes": "passed", "test_fails": "failure",
                              "test_skipped": "skipped"}, d)
            self.assertIn("fails on purpose", results["test_fails"].get("message", ""), d)
        self.assertIn("1 failed, 1 passed, 1 skipped", r.stdout, d)


if __name__ == "__main__":
    fh_lib.main()
