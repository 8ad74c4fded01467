"""What the command-line test suites (tests/e2e, tests/faulthandler,
tests/tracemalloc) share: the launcher and CPython version under test, exit
statuses, scratch directories, and running `tools/interpsan` as a user
would (a subprocess in a session of its own) into a Result that has read
report.json and has checked every event of the run's events.jsonl against
the schema (debug/events_schema.json): every run of every suite tests the
contract between the checked process and the supervisor. Each suite's
library (e2e_lib.py, fh_lib.py, tm_lib.py) adds its own programs, extensions
and assertions on top.

Under Bazel, tests/run_cli_test.sh sets INTERPSAN_TEST_LAUNCHER and
INTERPSAN_TEST_PYTHON_VERSION (see there); outside Bazel the defaults are
the source tree's launcher and the Python running the test.
"""

import importlib.util
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

VERSION = os.environ.get("INTERPSAN_TEST_PYTHON_VERSION") or "%d.%d" % sys.version_info[:2]
LAUNCHER = os.environ.get("INTERPSAN_TEST_LAUNCHER") or os.path.join(ROOT, "tools", "interpsan")


def _load_tool(name):
    """tools/report/NAME.py of the launcher under test (its real path: under
    Bazel, the source tree, where the supervisor runs from too), without
    putting tools/report/ on sys.path."""
    path = os.path.join(os.path.dirname(os.path.realpath(LAUNCHER)), "report", name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The supervisor's reader of events.jsonl and the schema's validator.
interpsan_events = _load_tool("interpsan_events")

# Exit statuses, 0 to 5 (README, "Exit status"), stated here on their own:
# the tests hold the supervisor to the README, not to its own constants.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_VIOLATION, EXIT_CRASH, EXIT_TIMEOUT = range(6)


def default_extensions(suite):
    """bazel-out's folder of a suite's built test extensions, for runs
    outside Bazel."""
    return os.path.join(
        ROOT, "bazel-out", "k8-optpy" + VERSION.replace(".", ""), "bin", "tests", suite
    )


def marker_line(path, marker):
    """The 1-based line of the file at `path` carrying the comment `# MARKER`."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.rstrip().endswith("# " + marker):
                return lineno
    raise AssertionError("no '# %s' line in %s" % (marker, path))


def scratch_dir(prefix):
    base = os.environ.get("TEST_TMPDIR") or None
    return tempfile.mkdtemp(prefix=prefix, dir=base)


def no_core_dumps():
    # Several tests kill the checked process with fatal signals on purpose.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Result:
    """One run: its command line, exit status ("hung" if it had to be
    killed), output, and report.json (None if it was not written)."""

    def __init__(self, args, status, stdout, stderr, report_dir, elapsed=None):
        self.args = args
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.report_dir = report_dir
        self.elapsed = elapsed
        self.report_path = os.path.join(report_dir, "report.json") if report_dir else None
        self.report = None
        if self.report_path and os.path.exists(self.report_path):
            with open(self.report_path, encoding="utf-8") as f:
                self.report = json.load(f)
        self.events_path = os.path.join(report_dir, "events.jsonl") if report_dir else None
        if self.events_path and os.path.exists(self.events_path):
            problems = interpsan_events.validate_file(self.events_path)
            if problems:
                raise AssertionError(
                    "events.jsonl does not follow debug/events_schema.json:\n  %s\n%s"
                    % ("\n  ".join(problems[:20]), self.describe(2000))
                )

    def describe(self, report_chars=8000):
        """Everything needed to understand a failure, for assertion messages."""
        report = (
            json.dumps(self.report, indent=1)[:report_chars] if self.report else "(no report.json)"
        )
        took = "" if self.elapsed is None else " (%.1fs)" % self.elapsed
        return (
            "\n$ %s\nexit status: %s%s\n--- stderr (tail) ---\n%s\n"
            "--- stdout (tail) ---\n%s\n--- report.json ---\n%s"
        ) % (
            " ".join(self.args),
            self.status,
            took,
            self.stderr[-6000:],
            self.stdout[-3000:],
            report,
        )


def environment(extensions, extra=None, pythonpath=()):
    """The environment of a run: the suite's extensions (and `pythonpath`)
    importable, no bytecode written into the source tree, plus `extra`."""
    env = dict(os.environ)
    paths = [extensions] + list(pythonpath)
    paths += [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def run(args, env, timeout, report_dir=None, cwd=None):
    """Runs `args` to its end and returns a Result. In a session of its own,
    so that a hung run is stopped with everything it started (the
    supervisor and the checked process): then the status is "hung"."""
    start = time.monotonic()
    proc = subprocess.Popen(
        args,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        preexec_fn=no_core_dumps,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        stdout, stderr = proc.communicate()
        stderr += "\n[test: killed after %ss without exiting]\n" % timeout
        status = "hung"
    return Result(args, status, stdout, stderr, report_dir, time.monotonic() - start)
