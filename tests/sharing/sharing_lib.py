"""What tests/sharing's command-line tests share: running `tools/interpsan`
as a user would, with this folder's programs and the clinic_parsers
extension importable (see tests/run_cli_test.sh for the variables)."""

import os
import sys
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))  # tests/: cli_testing
import cli_testing  # noqa: E402
from cli_testing import (
    EXIT_OK,
    EXIT_VIOLATION,
    LAUNCHER,
    VERSION,  # noqa: E402,F401
    scratch_dir,
)

PROGRAMS = os.environ.get("INTERPSAN_TEST_PROGRAMS") or os.path.join(_HERE, "programs")
EXTENSIONS = os.environ.get("INTERPSAN_TEST_EXTENSIONS") or cli_testing.default_extensions(
    "sharing"
)


def interpsan(*cli_args, report_dir=None, timeout=120):
    """`tools/interpsan --python X.Y CLI_ARGS` (a later --python wins)."""
    args = [LAUNCHER, "--python", VERSION] + list(cli_args)
    return cli_testing.run(args, cli_testing.environment(EXTENSIONS), timeout, report_dir)


def run(python_args, n=4, keep_going=True, timeout=120, options=()):
    """`interpsan run -n N [--keep-going] [OPTIONS] --report DIR -- PYTHON_ARGS`."""
    report_dir = scratch_dir("report-sharing-")
    cli = ["run", "-n", str(n)] + (["--keep-going"] if keep_going else []) + list(options)
    cli += ["--report", report_dir, "--"] + list(python_args)
    return interpsan(*cli, report_dir=report_dir, timeout=timeout)


def python_executable():
    """The CPython under test (run_cli_test.sh exports its prefix)."""
    prefix = os.environ.get("INTERPSAN_PYTHON" + VERSION.replace(".", ""))
    if prefix:
        return os.path.join(prefix, "bin", "python" + VERSION)
    return sys.executable


def program(name):
    return os.path.join(PROGRAMS, name)


def main():
    unittest.main(verbosity=2)
