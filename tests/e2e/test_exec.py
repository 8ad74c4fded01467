"""`tools/interpsan exec`: a plain python that creates its own isolated
interpreters is checked like `run` -- caught on a broken extension, silent
on a correct one -- with the same report and exit statuses."""

import sys

import e2e_lib
from e2e_lib import (
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VIOLATION,
    EXTENSIONS,
    E2ETestCase,
    interpsan,
    program,
    scratch_dir,
)


def python_executable():
    import os

    prefix = os.environ.get("INTERPSAN_PYTHON" + e2e_lib.VERSION.replace(".", ""))
    if prefix:
        return os.path.join(prefix, "bin", "python" + e2e_lib.VERSION)
    return sys.executable


def run_exec(name, keep_going=False):
    report_dir = scratch_dir("exec-%s-" % name)
    cli = (
        ["exec"]
        + (["--keep-going"] if keep_going else [])
        + [
            "--report",
            report_dir,
            "--",
            python_executable(),
            program("exec_interpreters.py"),
            name,
            EXTENSIONS,
        ]
    )
    return interpsan(*cli, report_dir=report_dir)


class ExecTest(E2ETestCase):
    def test_broken_extension_is_caught(self):
        r = run_exec("static_list.py")
        self.assertStatus(r, EXIT_VIOLATION)
        violations = r.report["violations"]
        self.assertTrue(violations, r.describe())
        v = violations[0]
        self.assertEqual(v["extension"], "broken_static_list", r.describe())
        self.assertIn(
            v["kind"], ("cross-interpreter-argument", "cross-interpreter-realloc"), r.describe()
        )
        self.assertNotEqual(v["interpreter"], v["owner_interpreter"], r.describe())
        # The main interpreter (index 0) and the 4 the program created.
        self.assertGreaterEqual(len(r.report["interpreters"]), 5, r.describe())
        self.assertEqual(r.report["command"], "exec")

    def test_broken_extension_keep_going(self):
        r = run_exec("static_list.py", keep_going=True)
        self.assertStatus(r, EXIT_VIOLATION)
        self.assertIn("exec_interpreters done 4", r.stdout, r.describe())
        offenders = [i for i in r.report["interpreters"] if i["status"] == "violation"]
        self.assertTrue(offenders, r.describe())

    def test_correct_extension_is_clean(self):
        r = run_exec("correct.py")
        self.assertStatus(r, EXIT_OK)
        self.assertEqual(r.report["violations"], [], r.describe())
        self.assertIn("exec_interpreters done 4 errors: []", r.stdout, r.describe())

    def test_mismatched_python_is_refused(self):
        other = "3.13" if e2e_lib.VERSION == "3.12" else "3.12"
        import os
        import shutil

        root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
        candidates = (
            sorted(
                p for p in os.listdir(os.path.join(root, "versions")) if p.startswith(other + ".")
            )
            if os.path.isdir(os.path.join(root, "versions"))
            else []
        )
        if not candidates:
            self.skipTest("no CPython %s here" % other)
        exe = os.path.join(root, "versions", candidates[-1], "bin", "python" + other)
        r = interpsan("exec", "--", exe, "-c", "pass")
        self.assertStatus(r, EXIT_USAGE)
        self.assertIn("use --python", r.stderr)


if __name__ == "__main__":
    e2e_lib.main()
