"""Shared helpers of the tracemalloc tests: run `tools/interpsan` as a user
would (a subprocess of the command line) and read report.json.

Under Bazel, tests/run_cli_test.sh sets (from runfiles):
  INTERPSAN_TEST_LAUNCHER        tools/interpsan
  INTERPSAN_RUNNER             the built runner (the launcher then does not
                               call Bazel)
  INTERPSAN_PYTHON312 / 313    the prefix of the selected CPython
  INTERPSAN_TEST_PYTHON_VERSION  "3.12" or "3.13" (passed as --python)
  INTERPSAN_TEST_EXTENSIONS      the folder holding the built leaky.so
  INTERPSAN_TEST_PROGRAMS        tests/tracemalloc/programs
  INTERPSAN_TM_EXPORTER        tools/report/tracemalloc_export.py (optional: by default
                               the source tree's, found through the realpath of
                               this file, a runfiles symlink under Bazel)
Outside Bazel the defaults point into the source tree and bazel-out, and the
launcher builds the runner itself, e.g.
  python3.12 tests/tracemalloc/test_per_interpreter.py -v
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
    EXIT_VIOLATION,
    LAUNCHER,
    VERSION,
    Result,
    default_extensions,
    scratch_dir,
)
import cli_testing  # noqa: E402

PROGRAMS = os.environ.get("INTERPSAN_TEST_PROGRAMS") or os.path.join(_HERE, "programs")
EXTENSIONS = os.environ.get("INTERPSAN_TEST_EXTENSIONS") or default_extensions("tracemalloc")
EXPORTER = os.environ.get("INTERPSAN_TM_EXPORTER") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))),
    "tools",
    "report",
    "tracemalloc_export.py",
)

# A run takes a few seconds at most; this only catches hangs (the runs that
# could hang also pass --timeout to interpsan itself, which is shorter).
RUN_TIMEOUT = 150

MB = 1024 * 1024


def program(name):
    return os.path.join(PROGRAMS, name)


def marker_line(name, marker):
    """The 1-based line of programs/NAME carrying the comment `# MARKER`."""
    return cli_testing.marker_line(program(name), marker)


def interpsan(*cli_args, report_dir=None, env_extra=None):
    """Runs `tools/interpsan --python X.Y CLI_ARGS...` and returns a Result."""
    args = [LAUNCHER, "--python", VERSION] + list(cli_args)
    return cli_testing.run(
        args, cli_testing.environment(EXTENSIONS, env_extra), RUN_TIMEOUT, report_dir
    )


def run_program(name, *program_args, n=4, trace_malloc=None, options=(), env_extra=None):
    """`interpsan run -n N [--trace-malloc F] OPTIONS --report DIR -- programs/NAME ARGS`."""
    report_dir = scratch_dir("report-%s-" % os.path.splitext(name)[0])
    cli = ["run", "-n", str(n)]
    if trace_malloc is not None:
        cli += ["--trace-malloc", str(trace_malloc)]
    cli += list(options)
    cli += ["--report", report_dir, "--", program(name)] + list(program_args)
    return interpsan(*cli, report_dir=report_dir, env_extra=env_extra)


def same_file(reported, name):
    """A report's filename is the program's path as the runner opened it
    (absolute, possibly through Bazel's runfiles symlinks)."""
    return os.path.basename(reported) == name


class TracemallocTestCase(unittest.TestCase):
    maxDiff = None

    def assertStatus(self, result, status):
        self.assertEqual(result.status, status, "unexpected exit status" + result.describe())
        self.assertIsNotNone(result.report, "report.json missing" + result.describe())
        if "exit_status" in result.report:
            self.assertEqual(result.report["exit_status"], status, result.describe())

    def assertClean(self, result, n):
        """Status 0, no violations, no crash, n interpreters all ok."""
        self.assertStatus(result, EXIT_OK)
        d = result.describe()
        self.assertEqual(result.report["violations"], [], d)
        self.assertNotIn("crash", result.report, d)
        self.assertNotIn("timeout", result.report, d)
        interps = result.report["interpreters"]
        self.assertEqual([i["index"] for i in interps], list(range(n)), d)
        self.assertEqual(len({i["id"] for i in interps}), n, d)
        for interp in interps:
            self.assertEqual(interp["status"], "ok", d)
            self.assertEqual(interp["exit_code"], 0, d)
            self.assertIs(interp["own_gil"], True, d)
        return interps


def tool_bug(reason, versions=None):
    """Marks a test that fails because interpsan itself is wrong (`reason`
    says how, precisely enough to fix it) as unittest.expectedFailure, on
    `versions` (all if None). Once the tool is fixed the test shows up as an
    unexpected success, which fails the run: then remove the mark.
    INTERPSAN_TM_IGNORE_TOOL_BUGS=1 runs such tests normally."""

    def decorate(test):
        if versions is not None and VERSION not in versions:
            return test
        if os.environ.get("INTERPSAN_TM_IGNORE_TOOL_BUGS"):
            return test
        test.tool_bug = reason
        return unittest.expectedFailure(test)

    return decorate


def main():
    unittest.main(verbosity=2)
