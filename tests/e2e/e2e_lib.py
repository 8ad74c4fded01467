"""Shared helpers of the end-to-end tests: run `tools/interpsan` as a user
would (through the command line, as a subprocess) and read report.json.

Under Bazel, tests/run_cli_test.sh sets (from runfiles):
  INTERPSAN_TEST_LAUNCHER        tools/interpsan
  INTERPSAN_RUNNER              the built runner (so the launcher does not
                                call Bazel)
  INTERPSAN_PYTHON312 / 313     the prefix of the selected CPython
  INTERPSAN_TEST_PYTHON_VERSION  "3.12" or "3.13" (passed as --python)
  INTERPSAN_TEST_EXTENSIONS      the folder of the built test extensions
  INTERPSAN_TEST_PROGRAMS        tests/e2e/programs
Outside Bazel the defaults point into the source tree and bazel-bin, and the
launcher builds the runner itself, e.g.
  python3.12 tests/e2e/test_cli.py -v
"""

import os
import sys
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))  # tests/: cli_testing
from cli_testing import (  # noqa: E402  (the shared part of the CLI suites)
    EXIT_CRASH,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
    EXIT_VIOLATION,
    LAUNCHER,
    VERSION,
    Result,
    scratch_dir,
)
import cli_testing  # noqa: E402

PROGRAMS = os.environ.get("INTERPSAN_TEST_PROGRAMS") or os.path.join(_HERE, "programs")
EXTENSIONS = os.environ.get("INTERPSAN_TEST_EXTENSIONS") or cli_testing.default_extensions(
    "extensions"
)

# One interpsan run takes about a second; this only catches hangs.
RUN_TIMEOUT = 60


def program(name):
    return os.path.join(PROGRAMS, name)


def marker_line(name, marker):
    """The 1-based line of `name` (a program) carrying the comment `# MARKER`."""
    return cli_testing.marker_line(program(name), marker)


def interpsan(*cli_args, python=None, report_dir=None, pythonpath=(), cwd=None):
    """Runs `tools/interpsan --python X.Y CLI_ARGS...` and returns a Result."""
    args = [LAUNCHER, "--python", python or VERSION] + list(cli_args)
    env = cli_testing.environment(EXTENSIONS, pythonpath=pythonpath)
    return cli_testing.run(args, env, RUN_TIMEOUT, report_dir, cwd=cwd)


def run_program(name, *program_args, n=4, keep_going=False, checks=None, options=(), pythonpath=()):
    """`interpsan run -n N [--keep-going] [--checks C] --report DIR -- programs/NAME ARGS`."""
    report_dir = scratch_dir("report-%s-" % os.path.splitext(name)[0])
    cli = ["run", "-n", str(n)]
    if keep_going:
        cli.append("--keep-going")
    if checks is not None:
        cli += ["--checks", checks]
    cli += list(options)
    cli += ["--report", report_dir, "--", program(name)] + list(program_args)
    return interpsan(*cli, report_dir=report_dir, pythonpath=pythonpath)


class E2ETestCase(unittest.TestCase):
    maxDiff = None

    # ---- assertions on a whole run ---------------------------------------

    def assertStatus(self, result, status):
        self.assertEqual(result.status, status, "unexpected exit status" + result.describe())
        if result.report_dir:
            self.assertIsNotNone(result.report, "report.json missing" + result.describe())
            self.assertEqual(result.report["exit_status"], status, result.describe())

    def assertInterpreters(self, result, n=4):
        """Well-formed interpreters list: indices 0..n-1, distinct ids, own GIL.
        An interpreter the run stopped (fatal violation, crash) before it was
        created has no id yet; every other one has an id."""
        interps = result.report["interpreters"]
        self.assertEqual([i["index"] for i in interps], list(range(n)), result.describe())
        ids = []
        for interp in interps:
            if interp["id"] is None and interp["status"] in ("stopped", "crashed"):
                continue
            self.assertIsInstance(interp["id"], int, result.describe())
            ids.append(interp["id"])
        self.assertEqual(
            len(set(ids)), len(ids), "interpreter ids not distinct" + result.describe()
        )
        for interp in interps:
            self.assertIs(interp["own_gil"], True, result.describe())
            for key in ("run", "failed", "errors", "skipped"):
                self.assertIn(key, interp["tests"], result.describe())
        return interps

    def interpreter_by_id(self, result, interp_id):
        for interp in result.report["interpreters"]:
            if interp["id"] == interp_id:
                return interp
        self.fail("no interpreter with id %r in report" % interp_id + result.describe())

    def assertClean(self, result, n=4):
        """Status 0, no violations, every interpreter ran to the end with 0."""
        self.assertStatus(result, EXIT_OK)
        self.assertEqual(result.report["violations"], [], result.describe())
        self.assertNotIn("crash", result.report, result.describe())
        for interp in self.assertInterpreters(result, n):
            self.assertEqual(interp["status"], "ok", result.describe())
            self.assertEqual(interp["exit_code"], 0, result.describe())
        self.assertNotIn("==interpsan== ERROR", result.stderr, result.describe())

    # ---- assertions on one violation ---------------------------------------

    def assertViolation(
        self,
        result,
        violation,
        kind,
        object_type,
        extension,
        program_name,
        marker="VIOLATION",
        same_interpreter=False,
    ):
        """`violation` is a report.json violation with the given kind, object
        type (exact, or a prefix when it ends with "*"), extension, both
        interpreter ids (different unless same_interpreter), and a Python
        traceback whose innermost frame is `program_name`'s line marked
        `# MARKER`."""
        d = result.describe()
        self.assertEqual(violation["kind"], kind, d)
        if object_type.endswith("*"):
            self.assertTrue(
                violation["object_type"].startswith(object_type[:-1]),
                "object_type %r" % violation["object_type"] + d,
            )
        else:
            self.assertEqual(violation["object_type"], object_type, d)
        self.assertEqual(violation["extension"], extension, d)

        acting = violation["interpreter"]
        owner = violation["owner_interpreter"]
        self.assertIsInstance(acting, int, d)
        self.assertIsInstance(owner, int, d)
        if same_interpreter:
            self.assertEqual(acting, owner, d)
        else:
            self.assertNotEqual(acting, owner, "acting and owning interpreter are the same" + d)
        # The ids name interpreters of this run (at the indices reported).
        acting_entry = self.interpreter_by_id(result, acting)
        owner_entry = self.interpreter_by_id(result, owner)
        self.assertEqual(acting_entry["index"], violation["interpreter_index"], d)
        self.assertEqual(owner_entry["index"], violation["owner_index"], d)
        self.assertEqual(acting_entry["status"], "violation", d)

        self.assertTrue(violation.get("object_address"), d)
        self.assertIsInstance(violation.get("native_stack"), list, d)
        self.assertTrue(violation.get("message"), d)

        tb = violation["python_traceback"]
        self.assertTrue(tb, "empty python_traceback" + d)
        innermost = tb[-1]
        self.assertEqual(os.path.basename(innermost["filename"]), program_name, d)
        self.assertEqual(innermost["lineno"], marker_line(program_name, marker), d)
        self.assertEqual(innermost["name"], "<module>", d)
        for frame in tb:
            self.assertEqual(set(frame) >= {"filename", "lineno", "name"}, True, d)

    def assertFatalViolation(
        self,
        result,
        kind,
        object_type,
        extension,
        program_name,
        marker="VIOLATION",
        same_interpreter=False,
    ):
        """Default mode: the first violation ends the run with status 3 and a
        report naming exactly that violation."""
        self.assertStatus(result, EXIT_VIOLATION)
        self.assertInterpreters(result)
        violations = result.report["violations"]
        self.assertEqual(len(violations), 1, "expected exactly one violation" + result.describe())
        self.assertViolation(
            result,
            violations[0],
            kind,
            object_type,
            extension,
            program_name,
            marker,
            same_interpreter,
        )
        self.assertEqual(violations[0].get("count", 1), 1, result.describe())
        self.assertNotIn("crash", result.report, result.describe())
        self.assertIn("==interpsan== ERROR: " + kind, result.stderr, result.describe())
        return violations[0]


def main():
    unittest.main(verbosity=2)
