"""Shared helpers of the faulthandler death tests: run `tools/interpsan` as a
user would (through the command line, as a subprocess), read report.json,
and check the `crash` / `timeout` dumps.

Under Bazel, tests/run_cli_test.sh sets (from runfiles):
  INTERPSAN_TEST_LAUNCHER         tools/interpsan
  INTERPSAN_RUNNER              the built runner (so the launcher does not
                                call Bazel)
  INTERPSAN_PYTHON312 / 313     the prefix of the selected CPython
  INTERPSAN_TEST_PYTHON_VERSION   "3.12" or "3.13" (passed as --python)
  INTERPSAN_TEST_EXTENSIONS       the folder of the built crashers.so
  INTERPSAN_TEST_PROGRAMS         tests/faulthandler/programs
  INTERPSAN_TEST_SUPPRESSIONS     tools/suppressions
Outside Bazel the defaults point into the source tree and bazel-bin (build
//tests/faulthandler:crashers.so first), and the launcher builds the runner
itself unless INTERPSAN_RUNNER is set, e.g.
  python3.12 tests/faulthandler/test_fatal_signals.py -v
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(_HERE))  # tests/: cli_testing
from cli_testing import (  # noqa: E402  (the shared part of the CLI suites)
    EXIT_CRASH,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TIMEOUT,
    LAUNCHER,
    ROOT,
    VERSION,
    Result,
    scratch_dir,
)
import cli_testing  # noqa: E402

PROGRAMS = os.environ.get("INTERPSAN_TEST_PROGRAMS") or os.path.join(_HERE, "programs")
EXTENSIONS = os.environ.get("INTERPSAN_TEST_EXTENSIONS") or cli_testing.default_extensions(
    "faulthandler"
)
SUPPRESSIONS = os.environ.get("INTERPSAN_TEST_SUPPRESSIONS") or os.path.join(
    ROOT, "tools", "suppressions"
)

N = 4  # interpreters per run

# One interpsan run must never take long; this only catches hangs.
RUN_TIMEOUT = 120


def program(name):
    return os.path.join(PROGRAMS, name)  # an absolute name is kept as it is


def suppressions_file():
    return os.path.join(SUPPRESSIONS, "cpython-%s.supp" % VERSION)


def environment(extra=None, pythonpath=()):
    env = cli_testing.environment(EXTENSIONS, extra, pythonpath)
    if "INTERPSAN_TEST_FAULT_IN_HANDLER" not in (extra or {}):
        env.pop("INTERPSAN_TEST_FAULT_IN_HANDLER", None)
    return env


def command(name, *program_args, n=N, options=(), python_args=None):
    """The command line `tools/interpsan --python X.Y run -n N OPTIONS
    --report DIR -- programs/NAME ARGS` and its report directory."""
    if python_args is not None:  # ["-m", "pytest", ...] or ["-c", CODE]
        target, label = list(python_args), python_args[0].strip("-")
    else:
        target, label = [program(name)], os.path.splitext(os.path.basename(name))[0]
    report_dir = scratch_dir("report-%s-" % label)
    args = [LAUNCHER, "--python", VERSION, "run", "-n", str(n)] + list(options)
    args += ["--report", report_dir, "--"] + target + list(program_args)
    return args, report_dir


def _run_once(args, report_dir, env, pythonpath, cwd):
    return cli_testing.run(args, environment(env, pythonpath), RUN_TIMEOUT, report_dir, cwd)


def run_program(
    name, *program_args, n=N, options=(), env=None, pythonpath=(), cwd=None, python_args=None
):
    """Runs a program (programs/NAME, or python_args such as ["-m",
    "pytest", ...]) to its end; returns a Result."""
    args, report_dir = command(name, *program_args, n=n, options=options, python_args=python_args)
    return _run_once(args, report_dir, env, pythonpath, cwd)


class Background:
    """A run in the background, its stderr going to a file that the test
    can watch while the run goes on."""

    def __init__(self, name, *program_args, n=N, options=(), env=None):
        self.args, self.report_dir = command(name, *program_args, n=n, options=options)
        self._dir = scratch_dir("bg-")
        self._stderr_path = os.path.join(self._dir, "stderr")
        self._stdout_path = os.path.join(self._dir, "stdout")
        self._start = time.monotonic()
        with open(self._stderr_path, "wb") as err, open(self._stdout_path, "wb") as out:
            self.proc = subprocess.Popen(
                self.args,
                env=environment(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                preexec_fn=cli_testing.no_core_dumps,
            )

    def stderr(self):
        with open(self._stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for_stderr(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return True
            if self.proc.poll() is not None:
                return text in self.stderr()
            time.sleep(0.05)
        return False

    def finish(self, timeout=RUN_TIMEOUT):
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            status = self.proc.wait()
        with open(self._stdout_path, encoding="utf-8", errors="replace") as f:
            stdout = f.read()
        result = Result(
            self.args,
            status,
            stdout,
            self.stderr(),
            self.report_dir,
            time.monotonic() - self._start,
        )
        shutil.rmtree(self._dir, ignore_errors=True)
        return result

    def kill(self):
        """Kills the run: the checked process (the supervisor's child) first,
        then the supervisor."""
        if self.proc.poll() is None:
            try:
                with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                    children = [int(pid) for pid in f.read().split()]
            except OSError:
                children = []
            for pid in children:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.kill()
            self.proc.wait()


def wait_for_file(path, timeout=30):
    """Waits until `path` exists and is not empty; returns its content."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, encoding="utf-8") as f:
                content = f.read()
            if content:
                return content
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    return None


def names(thread):
    """The function names of a dumped thread's Python traceback."""
    return [frame["name"] for frame in thread.get("python_traceback", [])]


class FaulthandlerTestCase(unittest.TestCase):
    maxDiff = None

    def assertStatus(self, result, status):
        self.assertEqual(result.status, status, "unexpected exit status" + result.describe())
        self.assertIsNotNone(result.report, "report.json missing" + result.describe())
        self.assertEqual(result.report.get("exit_status"), status, result.describe())

    def interpreter(self, result, index):
        """report.json's interpreters[] entry of run index `index`."""
        for interp in result.report["interpreters"]:
            if interp["index"] == index:
                return interp
        self.fail("no interpreter with index %d" % index + result.describe())

    def assertInterpreters(self, result, n=N):
        interps = result.report["interpreters"]
        self.assertEqual([i["index"] for i in interps], list(range(n)), result.describe())
        ids = [i["id"] for i in interps]
        self.assertTrue(all(isinstance(i, int) for i in ids), result.describe())
        self.assertEqual(len(set(ids)), n, "interpreter ids not distinct" + result.describe())
        return interps

    def threads_of(self, result, dump, index):
        """The dumped threads of the interpreter with run index `index`,
        checked to carry that interpreter's id too."""
        interp_id = self.interpreter(result, index)["id"]
        threads = [t for t in dump["threads"] if t.get("interpreter_index") == index]
        for t in threads:
            self.assertEqual(
                t.get("interpreter"),
                interp_id,
                "thread attributed to index %d has another id" % index + result.describe(),
            )
        return threads

    def assertThreadWaitingIn(self, result, dump, index, function):
        """Some thread of interpreter `index` has `function` in its dumped
        Python traceback; returns that thread."""
        threads = self.threads_of(result, dump, index)
        for t in threads:
            if function in names(t):
                return t
        self.fail(
            "no thread of interpreter index %d is in %s(); its threads: %s"
            % (index, function, [names(t) for t in threads])
            + result.describe()
        )

    def assertNativeStackHas(self, result, native_stack, function, module=None):
        """A frame of `native_stack` (report.json's symbolized lines,
        "#0 in FUNC (MODULE+0x..) at FILE:LINE") names `function`."""
        for line in native_stack:
            parts = line.split(" ")
            if (
                len(parts) >= 4
                and parts[2] == function
                and (module is None or parts[3].startswith("(" + module + "+"))
            ):
                return line
        self.fail(
            "no native frame in %s%s:\n%s"
            % (function, " of " + module if module else "", "\n".join(native_stack))
            + result.describe()
        )

    def assertCrash(self, result, signal_name, index, c_function=None, complete=True):
        """Status 4 and a crash object naming the signal, the faulting
        interpreter (by id and index) and, in its native stack, the C
        function that faulted."""
        self.assertStatus(result, EXIT_CRASH)
        self.assertInterpreters(result)
        crash = result.report.get("crash")
        self.assertIsInstance(crash, dict, "no crash object" + result.describe())
        self.assertNotIn("timeout", result.report, result.describe())
        self.assertEqual(crash.get("signal"), signal_name, result.describe())
        self.assertIs(crash.get("complete"), complete, result.describe())
        if index is not None:
            interp = self.interpreter(result, index)
            self.assertEqual(crash.get("interpreter_index"), index, result.describe())
            self.assertEqual(crash.get("interpreter"), interp["id"], result.describe())
            self.assertEqual(interp["status"], "crashed", result.describe())
        if c_function is not None:
            self.assertNativeStackHas(
                result, crash.get("native_stack", []), c_function, "crashers.so"
            )
        self.assertIn("==interpsan== FATAL: " + signal_name, result.stderr, result.describe())
        return crash


def main():
    unittest.main(verbosity=2)
