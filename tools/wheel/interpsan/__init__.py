"""interpsan, installed from a wheel: the command line (`interpsan`,
`python -m interpsan`) and the files it starts.

This package is only the installed command. Inside a program that interpsan
runs, `import interpsan` gives the runner's built-in module instead
(`interpsan.index`, `interpsan.audit()`, `interpsan.tracemalloc`, ...):
built-in modules come before site-packages on the import path.

Layout (mirrors the checkout, so the supervisor's paths hold unchanged):
    tools/supervisor/interpsan.py                            the supervisor
    tools/report/*.py         events reader, renderers, progress, export
    tools/report/assets/      the flame graph's CSS and JS
    tools/suppressions/       CPython's known findings
    tools/runner/interpsan_runner, libinterpsan_preload.so   (built by Bazel)
    tools/example/demo.py, fastcache.so                      (bundled example)
    debug/include/Python.h                                   (`interpsan cflags`)
    debug/events_schema.json      the events' contract (read by interpsan_events.py)
"""

import json
import os

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
TOOLS_DIR = os.path.join(PACKAGE_DIR, "tools")
RUNNER = os.path.join(TOOLS_DIR, "runner", "interpsan_runner")
SUPERVISOR = os.path.join(TOOLS_DIR, "supervisor", "interpsan.py")
REPORT_DIR = os.path.join(TOOLS_DIR, "report")
EXAMPLE_DEMO = os.path.join(TOOLS_DIR, "example", "demo.py")
SUPPRESSIONS_DIR = os.path.join(TOOLS_DIR, "suppressions")


def build_info():
    """What tools/wheel/build_wheels.sh recorded: version, python_version (the
    CPython minor version the binaries are built for), python_build (the
    exact CPython the build used), commit."""
    with open(os.path.join(PACKAGE_DIR, "_build_info.json")) as f:
        return json.load(f)
