"""Tests of tools/report/progress.py: the live status line, drawn in a real
pseudo-terminal (pty), silent when the output is not a terminal, and
tail_events following a growing events.jsonl."""

import fcntl
import io
import json
import os
import pty
import select
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
import unittest

import report_lib  # noqa: F401  (puts tools/ on sys.path)

import progress

# Synthetic events of a run: 2 interpreters, interpreter 0 runs 3 tests and
# passes, interpreter 1 runs 2 (one fails) and has a violation.
EVENTS = [
    {"event": "start", "mode": "run", "interpreters": 2},
    {"event": "interpreter_start", "index": 0, "id": 1},
    {"event": "interpreter_start", "index": 1, "id": 2},
    {"event": "test", "index": 0, "test": "t.A.test_1", "outcome": "passed", "duration": 0.1},
    {"event": "test", "index": 1, "test": "t.A.test_1", "outcome": "passed", "duration": 0.1},
    {"event": "test", "index": 0, "test": "t.A.test_2", "outcome": "passed", "duration": 0.1},
    {
        "event": "test",
        "index": 1,
        "test": "t.A.test_2",
        "outcome": "failure",
        "duration": 0.1,
        "message": "x",
    },
    {
        "event": "violation",
        "id": 1,
        "violation": {"kind": "cross-interpreter-free", "interpreter_index": 1},
    },
    {"event": "violation_count", "id": 1, "count": 3},
    {"event": "test", "index": 0, "test": "t.A.test_3", "outcome": "skipped", "duration": 0.0},
    {
        "event": "interpreter_result",
        "index": 0,
        "id": 1,
        "exit_code": 0,
        "status": "ok",
        "tests": {"run": 3, "failed": 0, "errors": 0, "skipped": 1},
    },
    {"event": "interpreter_end", "index": 0, "id": 1},
]

FINAL_LINE = "[interp 0: 3 tests \u2713 | interp 1: 2 tests, 1 failed, 1 violation\u2026] violations: 1 (3 occurrences)"

# Runs in the child (under a pty or with pipes): feeds EVENTS to a Progress
# on stderr (auto-detecting a terminal), either directly or by following a
# file another thread writes, line by line and in pieces.
DRIVER = textwrap.dedent("""
    import json, os, sys, threading, time
    sys.path.insert(0, sys.argv[1])
    import progress
    events = json.loads(sys.argv[2])
    how = sys.argv[3]
    p = progress.Progress(min_interval=0)
    if how == "feed":
        for e in events:
            p.feed(e)
            time.sleep(0.01)
        p.close()
    else:
        path = os.path.join(sys.argv[4], "events.jsonl")
        follower = progress.follow(path, p, poll_interval=0.01)
        with open(path, "w") as f:
            for e in events:
                line = json.dumps(e) + "\\n"
                half = len(line) // 2
                f.write(line[:half]); f.flush(); time.sleep(0.01)
                f.write(line[half:]); f.flush(); time.sleep(0.01)
        follower.stop()
    print("DRIVER-DONE", file=sys.stderr)
""")


def run_in_pty(args, columns=200, timeout=30):
    """Runs args with stdin/stdout/stderr on a new pty of `columns` columns;
    returns (exit status, everything written to the terminal)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = dict(os.environ, TERM="xterm", PYTHONIOENCODING="utf-8")
    env.pop("INTERPSAN_PROGRESS", None)
    proc = subprocess.Popen(
        args,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
        start_new_session=True,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    else:
        proc.kill()
    status = proc.wait()
    os.close(master)
    return status, b"".join(chunks).decode("utf-8", "replace")


class PtyTest(unittest.TestCase):
    def driver(self, how, tmp=""):
        return [sys.executable, "-c", DRIVER, report_lib.TOOLS, json.dumps(EVENTS), how, tmp]

    def assertProgressDrawn(self, out):
        self.assertIn("DRIVER-DONE", out, out)
        # The line is redrawn in place: carriage returns, clear-to-end-of-line.
        self.assertIn("\r[interp 0: waiting | interp 1: waiting]", out, repr(out))
        self.assertIn(
            "\r[interp 0: 1 test\u2026 | interp 1: 1 test\u2026] violations: 0\x1b[K",
            out,
            repr(out),
        )
        self.assertIn("interp 1: 2 tests, 1 failed\u2026", out, repr(out))
        # The last state, and close() ends the line with a newline (the pty
        # turns \n into \r\n).
        self.assertIn("\r" + FINAL_LINE + "\x1b[K\r\n", out, repr(out))
        before_done = out.split("DRIVER-DONE")[0]
        self.assertEqual(before_done.count("\n"), 1, repr(out))

    def test_status_line_in_a_terminal(self):
        status, out = run_in_pty(self.driver("feed"))
        self.assertEqual(status, 0, out)
        self.assertProgressDrawn(out)

    def test_follows_a_growing_file_in_a_terminal(self):
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
            status, out = run_in_pty(self.driver("follow", tmp))
        self.assertEqual(status, 0, out)
        self.assertProgressDrawn(out)

    def test_narrow_terminal_uses_compact_then_totals(self):
        status, out = run_in_pty(self.driver("feed"), columns=60)
        self.assertEqual(status, 0, out)
        self.assertIn(
            "\r[0: 3 \u2713 | 1: 2 1F 1V\u2026] violations: 1 (3 occurrences)\x1b[K", out, repr(out)
        )
        status, out = run_in_pty(self.driver("feed"), columns=30)
        self.assertEqual(status, 0, out)
        for line in out.replace("\r\n", "\r").split("\r"):
            self.assertLess(len(line.replace("\x1b[K", "")), 30, repr(out))

    def test_quiet_when_not_a_terminal(self):
        for how in ("feed", "follow"):
            with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
                env = dict(os.environ, TERM="xterm")
                env.pop("INTERPSAN_PROGRESS", None)
                out = subprocess.run(
                    self.driver(how, tmp), capture_output=True, text=True, timeout=30, env=env
                )
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout, "")
            self.assertEqual(out.stderr, "DRIVER-DONE\n", "progress wrote to a pipe (%s)" % how)

    def test_environment_switch(self):
        status, out = run_in_pty(self.driver("feed") + [], columns=200)
        self.assertIn(FINAL_LINE, out)
        env_args = ["env", "INTERPSAN_PROGRESS=0"] + self.driver("feed")
        status, out = run_in_pty(env_args)
        self.assertEqual(status, 0, out)
        self.assertEqual(out, "DRIVER-DONE\r\n")
        out = subprocess.run(
            ["env", "INTERPSAN_PROGRESS=1"] + self.driver("feed"),
            capture_output=True,
            text=True,
            timeout=30,
        )
        self.assertIn(FINAL_LINE, out.stderr)

    def test_quiet_on_a_dumb_terminal(self):
        master, slave = pty.openpty()
        try:
            stream = os.fdopen(os.dup(slave), "w")
            old = os.environ.get("TERM")
            os.environ["TERM"] = "dumb"
            try:
                self.assertFalse(progress.Progress(stream=stream).enabled)
            finally:
                if old is None:
                    del os.environ["TERM"]
                else:
                    os.environ["TERM"] = old
            os.environ.setdefault("TERM", "xterm")
            if os.environ["TERM"] != "dumb":
                self.assertTrue(progress.Progress(stream=stream).enabled)
            stream.close()
        finally:
            os.close(master)
            os.close(slave)


class CommandLineProgressTest(unittest.TestCase):
    """tools/interpsan itself: the supervisor follows events.jsonl into a
    Progress."""

    def args(self, report_dir):
        return [
            report_lib.LAUNCHER,
            "--python",
            report_lib.VERSION,
            "run",
            "-n",
            "2",
            "--report",
            report_dir,
            "--",
            report_lib.program("unit.py"),
        ]

    def test_progress_in_a_terminal(self):
        report_dir = report_lib.scratch_dir("progress-cli-")
        status, out = run_in_pty(self.args(report_dir), timeout=report_lib.RUN_TIMEOUT)
        self.assertEqual(status, 1, out)
        self.assertIn(
            "[interp 0: 4 tests, 2 failed | interp 1: 4 tests, 2 failed] violations: 0", out, out
        )

    def test_no_progress_in_a_pipe(self):
        report_dir = report_lib.scratch_dir("progress-cli-")
        env = dict(os.environ)
        env.pop("INTERPSAN_PROGRESS", None)
        out = subprocess.run(
            self.args(report_dir),
            capture_output=True,
            text=True,
            timeout=report_lib.RUN_TIMEOUT,
            env=env,
        )
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertNotIn("[interp 0", out.stderr)
        self.assertNotIn("\x1b[K", out.stderr)


class ProgressUnitTest(unittest.TestCase):
    def test_line_after_each_event(self):
        p = progress.Progress(stream=io.StringIO(), enabled=False)
        for e in EVENTS:
            p.feed(e)
        self.assertEqual(p.stream.getvalue(), "")
        p.stream.isatty = lambda: True
        self.assertTrue(p.line().startswith("["))

    def test_totals_from_interpreter_result_win(self):
        p = progress.Progress(stream=io.StringIO(), enabled=False)
        p.feed({"event": "interpreter_start", "index": 0, "id": 1})
        p.feed(
            {
                "event": "interpreter_result",
                "index": 0,
                "status": "failed",
                "exit_code": 1,
                "tests": {"run": 7, "failed": 2, "errors": 1, "skipped": 0},
            }
        )
        self.assertIn("interp 0: 7 tests, 3 failed", p.line())
        p.feed({"event": "dump_begin", "reason": "timeout"})
        self.assertIn("timed out", p.line())

    def test_programs_without_tests(self):
        p = progress.Progress(stream=io.StringIO(), enabled=False, interpreters=2)
        p.feed({"event": "interpreter_start", "index": 0, "id": 1})
        self.assertTrue(p.line().startswith("[interp 0: running"), p.line())
        self.assertIn("interp 1: waiting", p.line())
        p.feed(
            {
                "event": "interpreter_result",
                "index": 0,
                "status": "ok",
                "exit_code": 0,
                "tests": {"run": 0, "failed": 0, "errors": 0, "skipped": 0},
            }
        )
        self.assertIn("interp 0: done \u2713", p.line())

    def test_throttled_redraws_and_close(self):
        now = [0.0]
        out = io.StringIO()
        p = progress.Progress(stream=out, enabled=True, min_interval=1.0, clock=lambda: now[0])
        p.feed({"event": "interpreter_start", "index": 0, "id": 1})  # drawn
        for i in range(50):  # passing tests within the interval: not drawn
            p.feed({"event": "test", "index": 0, "outcome": "passed"})
        self.assertEqual(out.getvalue().count("\r"), 1)
        now[0] = 2.0
        p.refresh()
        self.assertEqual(out.getvalue().count("\r"), 2)
        self.assertIn("50 tests", out.getvalue())
        p.close()
        p.close()
        self.assertTrue(out.getvalue().endswith("\n"))
        self.assertEqual(out.getvalue().count("\n"), 1)
        p.feed({"event": "test", "index": 0, "outcome": "passed"})  # after close: ignored
        self.assertEqual(out.getvalue().count("\r"), 2)

    def test_ascii_terminal(self):
        class Ascii(io.StringIO):
            encoding = "ascii"

        p = progress.Progress(stream=Ascii(), enabled=True, min_interval=0)
        for e in EVENTS:
            p.feed(e)
        self.assertIn("3 tests ok", p.line())
        self.assertIn("1 violation...", p.line())


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


class TailEventsTest(unittest.TestCase):
    def test_partial_lines_garbage_and_late_file(self):
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
            path = os.path.join(tmp, "events.jsonl")
            got = []
            stop = threading.Event()
            result = []
            t = threading.Thread(
                target=lambda: result.append(
                    progress.tail_events(path, got.append, stop, poll_interval=0.005)
                )
            )
            t.start()
            time.sleep(0.05)  # the file does not exist yet
            with open(path, "w") as f:
                f.write('{"event": "a", "n": 1}\n{"event": "b", ')
                f.flush()
                self.assertTrue(wait_for(lambda: len(got) >= 1))
                time.sleep(0.05)
                self.assertEqual([e["event"] for e in got], ["a"])  # "b" is incomplete
                f.write('"n": 2}\nnot json\n[1]\n\n{"event": "c"}')  # last line: no newline
                f.flush()
                self.assertTrue(wait_for(lambda: len(got) >= 2))
                time.sleep(0.05)
                self.assertEqual([e["event"] for e in got], ["a", "b"])
            stop.set()
            t.join(5)
            self.assertEqual([e["event"] for e in got], ["a", "b", "c"])
            self.assertEqual(result, [3])

    def test_replaced_file_is_read_from_the_start(self):
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
            path = os.path.join(tmp, "events.jsonl")
            with open(path, "w") as f:
                f.write('{"event": "old"}\n')
            got = []
            stop = threading.Event()
            t = threading.Thread(target=progress.tail_events, args=(path, got.append, stop, 0.005))
            t.start()
            self.assertTrue(wait_for(lambda: len(got) >= 1))
            os.unlink(path)
            with open(path, "w") as f:
                f.write('{"event": "new"}\n')
            self.assertTrue(wait_for(lambda: len(got) >= 2))
            stop.set()
            t.join(5)
            self.assertEqual([e["event"] for e in got], ["old", "new"])

    def test_callback_errors_do_not_stop_following(self):
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as tmp:
            path = os.path.join(tmp, "events.jsonl")
            with open(path, "w") as f:
                f.write('{"event": "a"}\n{"event": "b"}\n')
            got = []

            def callback(e):
                got.append(e)
                raise RuntimeError("display broke")

            stop = threading.Event()
            stop.set()  # drain and return
            self.assertEqual(progress.tail_events(path, callback, stop), 2)
            self.assertEqual(len(got), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
