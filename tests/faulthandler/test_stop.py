"""Stopping a run, through the command line: Ctrl-C and SIGTERM.

  - Ctrl-C at a terminal sends SIGINT to the whole foreground process group
    (here: the process group of the launcher, which the test starts in a
    session of its own): the run of 2 sleeping interpreters ends with status
    130 and report.json's `interrupted` object has each interpreter's thread
    in sleeping_function(), every interpreter with status "interrupted";
  - SIGTERM sent to the supervisor alone (as `timeout`, CI runners and
    `kill` do): the same, with status 143;
  - a second Ctrl-C stops at once a run that ignores the dump request, and
    report.json is still written;
  - `interpsan exec` (a plain python that creates its own interpreter) is
    stopped the same way.
Each ends within 10 seconds of the signal (the issue's bound; the run
itself would sleep for ten minutes)."""

import os
import signal
import subprocess
import sys
import time

import fh_lib
from fh_lib import cli_testing  # tests/cli_testing.py, put on sys.path by fh_lib
from fh_lib import FaulthandlerTestCase, Result, names, program, scratch_dir, wait_for_file

STOP_WITHIN = 10  # seconds from the signal to the supervisor's exit


class StoppedRun:
    """A run started like a shell starts a foreground job: the launcher
    leads a process group of its own (a new session, so that signalling the
    group cannot reach the test)."""

    def __init__(self, args, report_dir):
        self.args, self.report_dir = args, report_dir
        self._dir = scratch_dir("stop-")
        self._out = open(os.path.join(self._dir, "stdout"), "w+b")
        self._err = open(os.path.join(self._dir, "stderr"), "w+b")
        self.proc = subprocess.Popen(
            args,
            env=fh_lib.environment(),
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=self._err,
            preexec_fn=cli_testing.no_core_dumps,
            start_new_session=True,
        )
        self.signalled_at = None

    def stderr(self):
        self._err.flush()
        with open(self._err.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def ctrl_c(self):
        """What a terminal does: SIGINT to the foreground process group."""
        self.signalled_at = self.signalled_at or time.monotonic()
        os.killpg(self.proc.pid, signal.SIGINT)

    def sigterm_supervisor(self):
        self.signalled_at = time.monotonic()
        os.kill(self.proc.pid, signal.SIGTERM)

    def finish(self):
        try:
            status = self.proc.wait(timeout=fh_lib.RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            status = "hung"
        took = time.monotonic() - self.signalled_at
        with open(self._out.name, encoding="utf-8", errors="replace") as f:
            stdout = f.read()
        result = Result(self.args, status, stdout, self.stderr(), self.report_dir, took)
        self._out.close()
        self._err.close()
        return result


def checked_process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its parent is gone for our purpose.
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


class StopTest(FaulthandlerTestCase):
    def start_sleepers(self, n=2, options=()):
        markers = scratch_dir("markers-")
        args, report_dir = fh_lib.command("sleepers.py", markers, n=n, options=options)
        run = StoppedRun(args, report_dir)
        pid = None
        for index in range(n):
            content = wait_for_file(os.path.join(markers, "sleeping-%d" % index))
            if content is None:
                run.ctrl_c()
                self.fail("interpreter %d never started sleeping\n%s" % (index, run.stderr()))
            pid = int(content)
        return run, pid

    def assertStopped(self, r, signal_name, status, n=2):
        d = r.describe()
        self.assertEqual(r.status, status, d)
        self.assertIsNotNone(r.report, "report.json missing" + d)
        self.assertEqual(r.report["exit_status"], status, d)
        self.assertLess(r.elapsed, STOP_WITHIN, "took too long to stop" + d)
        self.assertNotIn("crash", r.report, d)
        self.assertNotIn("timeout", r.report, d)
        interrupted = r.report.get("interrupted")
        self.assertIsInstance(interrupted, dict, d)
        self.assertEqual(interrupted.get("signal"), signal_name, d)
        return interrupted

    def assertEverySleeperDumped(self, r, interrupted, n=2):
        d = r.describe()
        self.assertIs(interrupted.get("complete"), True, d)
        self.assertInterpreters(r, n)
        for index in range(n):
            self.assertEqual(self.interpreter(r, index)["status"], "interrupted", d)
            thread = self.assertThreadWaitingIn(r, interrupted, index, "sleeping_function")
            self.assertEqual(names(thread)[-1], "sleeping_function", d)
            # Each thread's own native stack, symbolized: asleep in the kernel.
            self.assertTrue(thread.get("native_stack"), d)

    def test_ctrl_c(self):
        run, pid = self.start_sleepers()
        run.ctrl_c()
        r = run.finish()
        interrupted = self.assertStopped(r, "SIGINT", 130)
        self.assertEverySleeperDumped(r, interrupted)
        self.assertFalse(checked_process_alive(pid), r.describe())
        self.assertIn("SIGINT: dumping every interpreter's threads", r.stderr, r.describe())
        self.assertIn("stopped by SIGINT", r.stderr, r.describe())

    def test_sigterm_to_the_supervisor_alone(self):
        run, pid = self.start_sleepers()
        run.sigterm_supervisor()
        r = run.finish()
        interrupted = self.assertStopped(r, "SIGTERM", 143)
        self.assertEverySleeperDumped(r, interrupted)
        self.assertFalse(checked_process_alive(pid), r.describe())

    def test_second_ctrl_c_stops_at_once(self):
        # The program ignores the dump request, so only the second Ctrl-C
        # (not the grace period) can have ended this run.
        markers = scratch_dir("markers-")
        report_dir = scratch_dir("report-second-")
        args = [
            fh_lib.LAUNCHER,
            "--python",
            fh_lib.VERSION,
            "exec",
            "--report",
            report_dir,
            "--",
            sys.executable,
            program("ignores_dump_request.py"),
            markers,
        ]
        run = StoppedRun(args, report_dir)
        content = wait_for_file(os.path.join(markers, "sleeping-main"))
        if content is None:
            run.ctrl_c()
            self.fail("the program never started sleeping\n" + run.stderr())
        pid = int(content)
        run.ctrl_c()
        deadline = time.monotonic() + fh_lib.RUN_TIMEOUT
        while "press Ctrl-C again" not in run.stderr() and time.monotonic() < deadline:
            time.sleep(0.05)
        run.ctrl_c()
        r = run.finish()
        d = r.describe()
        interrupted = self.assertStopped(r, "SIGINT", 130, n=1)
        self.assertIn("interpsan: stopping at once", r.stderr, d)
        self.assertNotIn("killing the run", r.stderr, d)  # not the grace period
        # Written with what there was: no dump (the request was ignored).
        self.assertIs(interrupted.get("complete"), False, d)
        self.assertEqual([i["status"] for i in r.report["interpreters"]], ["interrupted"], d)
        self.assertFalse(checked_process_alive(pid), d)

    def test_ctrl_c_in_exec_mode(self):
        markers = scratch_dir("markers-")
        report_dir = scratch_dir("report-exec-stop-")
        args = [
            fh_lib.LAUNCHER,
            "--python",
            fh_lib.VERSION,
            "exec",
            "--report",
            report_dir,
            "--",
            sys.executable,
            program("exec_sleepers.py"),
            markers,
        ]
        run = StoppedRun(args, report_dir)
        for what in ("main", "sub"):
            content = wait_for_file(os.path.join(markers, "sleeping-" + what))
            if content is None:
                run.ctrl_c()
                self.fail("%s never started sleeping\n%s" % (what, run.stderr()))
        run.ctrl_c()
        r = run.finish()
        d = r.describe()
        interrupted = self.assertStopped(r, "SIGINT", 130)
        self.assertIs(interrupted.get("complete"), True, d)
        interps = r.report["interpreters"]
        self.assertEqual([i["index"] for i in interps], [0, 1], d)
        for interp in interps:
            self.assertEqual(interp["status"], "interrupted", d)
            self.assertThreadWaitingIn(r, interrupted, interp["index"], "sleeping_function")


if __name__ == "__main__":
    fh_lib.main()
