"""Helpers of the tests of tools/report/report_render.py and tools/report/progress.py:
run `tools/interpsan` as a user would and read the report it leaves.

Under Bazel, run_report_test.sh sets (from runfiles):
  INTERPSAN_REPORT_TEST_LAUNCHER        tools/interpsan
  INTERPSAN_REPORT_TEST_TOOLS           tools/report/ (report_render.py, progress.py)
  INTERPSAN_REPORT_TEST_DEMO            tools/example/demo.py
  INTERPSAN_REPORT_TEST_PYTHON_VERSION  "3.12" or "3.13"
  INTERPSAN_RUNNER, INTERPSAN_PYTHON3XX (the launcher then does not build)
Outside Bazel the defaults point into the source tree and the launcher
builds the runner itself:
  python3.12 tests/report/test_render.py -v
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(os.path.dirname(_HERE))
sys.path.insert(0, os.path.dirname(_HERE))  # tests/: cli_testing
import cli_testing  # noqa: E402
from cli_testing import marker_line, scratch_dir  # noqa: E402,F401

VERSION = os.environ.get("INTERPSAN_REPORT_TEST_PYTHON_VERSION") or "%d.%d" % sys.version_info[:2]
LAUNCHER = os.environ.get("INTERPSAN_REPORT_TEST_LAUNCHER") or os.path.join(
    _ROOT, "tools", "interpsan"
)
TOOLS = os.environ.get("INTERPSAN_REPORT_TEST_TOOLS") or os.path.join(_ROOT, "tools", "report")
DEMO = os.environ.get("INTERPSAN_REPORT_TEST_DEMO") or os.path.join(
    _ROOT, "tools", "example", "demo.py"
)
PROGRAMS = os.path.join(_HERE, "programs")
RENDERER = os.path.join(TOOLS, "report_render.py")

# The supervisor (tools/supervisor/interpsan.py), beside tools/report/.
SUPERVISOR_DIR = os.path.join(os.path.dirname(TOOLS), "supervisor")
for _d in (SUPERVISOR_DIR, TOOLS):
    if _d not in sys.path:
        sys.path.insert(0, _d)

RUN_TIMEOUT = 90


def program(name):
    return os.path.join(PROGRAMS, name)


def interpsan(options, program_args, name="run"):
    """`tools/interpsan --python X.Y run OPTIONS --report DIR -- PROGRAM_ARGS`."""
    report_dir = scratch_dir("report-%s-" % name)
    args = (
        [LAUNCHER, "--python", VERSION, "run"]
        + list(options)
        + ["--report", report_dir, "--"]
        + list(program_args)
    )
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    # The one runner of every CLI suite: a session of its own (a hung run is
    # killed with all it started), events.jsonl validated against the schema.
    return cli_testing.run(args, env, RUN_TIMEOUT, report_dir)


def violation_run(options=()):
    """A run of the bundled example, which must end with its reported
    violation (status 3): the C-API check stops the first cross-interpreter
    dict access before CPython touches the dict (50 runs of 50, both
    versions, when the retry this replaces was removed)."""
    run = interpsan(["-n", "4"] + list(options), [DEMO], name="demo")
    if run.status != 3 or not (run.report and run.report.get("violations")):
        raise AssertionError("the example did not end with its violation" + run.describe())
    return run
