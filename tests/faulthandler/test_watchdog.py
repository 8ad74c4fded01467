"""The hang side of the faulthandler, through the command line, in runs of
4 own-GIL interpreters:

  - --timeout 2 on a deadlocked interpreter: exit status 5, and
    report.json's timeout object has every remaining thread's Python
    traceback (the deadlocked one in deadlocked_function(), attributed to
    its interpreter) and each thread's own native stack;
  - SIGUSR1 sent to the checked process (the runner, not the supervisor)
    dumps every interpreter's threads to stderr on demand, and the run
    carries on to a clean end (status 0)."""

import os
import re
import signal
import time

import fh_lib
from fh_lib import (
    EXIT_OK,
    EXIT_TIMEOUT,
    Background,
    FaulthandlerTestCase,
    names,
    run_program,
    scratch_dir,
    wait_for_file,
)

DEADLOCK_INDEX = 1


class WatchdogTest(FaulthandlerTestCase):
    def test_deadlock_under_timeout(self):
        r = run_program(
            "deadlock.py", scratch_dir("markers-"), str(DEADLOCK_INDEX), options=["--timeout", "2"]
        )
        d = r.describe()
        self.assertStatus(r, EXIT_TIMEOUT)
        self.assertInterpreters(r)
        self.assertNotIn("crash", r.report, d)
        timeout = r.report.get("timeout")
        self.assertIsInstance(timeout, dict, d)
        self.assertEqual(timeout.get("seconds"), 2, d)
        self.assertIs(timeout.get("complete"), True, d)
        self.assertLess(r.elapsed, 30, d)
        # The deadlocked interpreter timed out; the others had finished.
        for interp in r.report["interpreters"]:
            expected = "timeout" if interp["index"] == DEADLOCK_INDEX else "ok"
            self.assertEqual(interp["status"], expected, d)

        blocked = self.assertThreadWaitingIn(r, timeout, DEADLOCK_INDEX, "deadlocked_function")
        self.assertEqual(names(blocked)[-1], "deadlocked_function", d)
        helper = self.assertThreadWaitingIn(
            r, timeout, DEADLOCK_INDEX, "helper_of_interpreter_%d" % DEADLOCK_INDEX
        )
        # Each thread's own native stack (it answered the watchdog's
        # SIGUSR2 itself), symbolized: the blocked one is inside the lock.
        for thread in (blocked, helper):
            stack = thread.get("native_stack")
            self.assertTrue(stack, "no native_stack for thread %s" % names(thread) + d)
        self.assertNotEqual(blocked["native_stack"], helper["native_stack"], d)
        self.assertTrue(
            any(
                re.search(r" in \S*(acquire|Lock|lock)\S* \(libpython", line)
                for line in blocked["native_stack"]
            ),
            "the deadlocked thread's native stack is not in a lock" + d,
        )
        # Threads of interpreters that had ended are not in the dump.
        for index in range(fh_lib.N):
            if index != DEADLOCK_INDEX:
                self.assertEqual(self.threads_of(r, timeout, index), [], d)
        self.assertIn("watchdog", r.stderr, d)
        self.assertIn(" in deadlocked_function\n", r.stderr, d)


class OnDemandDumpTest(FaulthandlerTestCase):
    def test_sigusr1_dumps_and_the_run_continues(self):
        markers = scratch_dir("markers-")
        run = Background("on_demand.py", markers)
        try:
            # Every thread in place; the marker holds the checked process's pid.
            for index in range(fh_lib.N):
                for what in ("main", "helper"):
                    content = wait_for_file(os.path.join(markers, "%s-%d" % (what, index)))
                    self.assertIsNotNone(
                        content, "%s-%d never started\n%s" % (what, index, run.stderr())
                    )
            pid = int(content)
            # os.getpid() inside the program is the runner, a child of the
            # supervisor (the process we started), not the supervisor itself.
            self.assertNotEqual(pid, run.proc.pid)
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            self.assertEqual(ppid, run.proc.pid)

            os.kill(pid, signal.SIGUSR1)
            header = "==interpsan== request: dumping every interpreter's threads"
            self.assertTrue(run.wait_for_stderr(header), run.stderr())
            self.assertTrue(run.wait_for_stderr("Native stack of the dumping thread"), run.stderr())
            dump = run.stderr()
            for index in range(fh_lib.N):
                self.assertIn(" in waiting_in_interpreter_%d\n" % index, dump)
                self.assertIn(" in helper_of_interpreter_%d\n" % index, dump)
                self.assertRegex(dump, r"Interpreter \d+ \(index %d\):" % index)
            self.assertIn("Interpreter 0 (main):", dump)
            # The process is still running after the dump.
            time.sleep(0.3)
            self.assertIsNone(run.proc.poll(), run.stderr())
            # A second request works too.
            os.kill(pid, signal.SIGUSR1)
            deadline = time.monotonic() + 30
            while run.stderr().count(header) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(run.stderr().count(header), 2, run.stderr())
            open(os.path.join(markers, "release"), "w").close()
            r = run.finish()
        finally:
            run.kill()
        d = r.describe()
        self.assertStatus(r, EXIT_OK)
        self.assertNotIn("crash", r.report, d)
        self.assertNotIn("timeout", r.report, d)
        self.assertEqual(r.report["violations"], [], d)
        for interp in self.assertInterpreters(r):
            self.assertEqual(interp["status"], "ok", d)
            self.assertEqual(interp["exit_code"], 0, d)


if __name__ == "__main__":
    fh_lib.main()
