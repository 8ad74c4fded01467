"""Live progress of an interpsan run on a terminal.

The supervisor (tools/supervisor/interpsan.py) follows DIR/events.jsonl while the
checked process runs and feeds every event to a Progress, which keeps one
status line up to date (redrawn in place with a carriage return):

    [interp 0: 12 tests ✓ | interp 1: 10 tests, 1 failed | interp 2: 7 tests…] violations: 2

API:
    Progress(stream=None, interpreters=None, enabled=None, min_interval=0.1)
        stream: where to draw (default sys.stderr). enabled=None means "only
        if stream is a terminal" (isatty() and TERM is not "dumb"), unless
        INTERPSAN_PROGRESS=0 (never) or =1 (always) says otherwise; when not
        enabled, feed() only keeps counts and nothing is ever written.
        interpreters: how many to expect (shown as "waiting" until started).
    Progress.feed(event: dict)     one event of events.jsonl
    Progress.close()               final redraw, then a newline; idempotent
    Progress.line() -> str         the current status line (for tests)

    tail_events(path, callback, stop_event, poll_interval=0.05, idle=None) -> int
        Follows a growing JSON-lines file: waits for it to appear, calls
        callback(event_dict) for every complete line as it is written
        (partial lines are held until their newline arrives; lines that are
        not JSON are skipped), notices the file being replaced or truncated,
        and returns (the number of events delivered) once stop_event is set
        and everything written so far has been read. Meant to run in a thread.

    follow(path, progress) -> Follower
        Both of the above in a daemon thread: Follower.stop() sets the stop
        event, waits for the last events, and closes the progress line.

Quiet when the output is not a terminal, so logs and CI output stay clean.
"""

import json
import os
import shutil
import sys
import threading
import time

__all__ = ["Progress", "tail_events", "follow", "Follower"]


class _Interp:
    __slots__ = (
        "index",
        "id",
        "started",
        "done",
        "tests",
        "failed",
        "errors",
        "skipped",
        "violations",
        "status",
    )

    def __init__(self, index):
        self.index = index
        self.id = None
        self.started = False
        self.done = False
        self.tests = 0
        self.failed = 0
        self.errors = 0
        self.skipped = 0
        self.violations = 0
        self.status = None  # final status from interpreter_result


class Progress:
    """Counts tests and violations per interpreter from events and shows them
    on one terminal line."""

    def __init__(
        self, stream=None, interpreters=None, enabled=None, min_interval=0.1, clock=time.monotonic
    ):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            setting = os.environ.get("INTERPSAN_PROGRESS", "")
            if setting in ("0", "1"):
                enabled = setting == "1"
            else:
                enabled = _is_terminal(self.stream)
        self.enabled = bool(enabled)
        self.min_interval = min_interval
        self._clock = clock
        self._interps = {}
        self._expected = interpreters or 0
        self._violations = 0  # distinct violations
        self._occurrences = {}  # violation id -> count
        self._ending = None  # "crash" / "timeout" once a dump starts
        self._last_draw = None
        self._last_len = 0
        self._last_text = None
        self._dirty = False
        self._closed = False
        self._lock = threading.Lock()
        self._check_mark, self._ellipsis, self._sep = "\u2713", "\u2026", " | "
        encoding = getattr(self.stream, "encoding", None) or "utf-8"
        try:
            ("\u2713\u2026").encode(encoding)
        except (UnicodeEncodeError, LookupError):
            self._check_mark, self._ellipsis = "ok", "..."

    # ---- state ----------------------------------------------------------------

    def _interp(self, index):
        entry = self._interps.get(index)
        if entry is None:
            entry = self._interps[index] = _Interp(index)
        return entry

    def feed(self, event):
        """Takes one event (a dict from events.jsonl) and redraws if due."""
        if not isinstance(event, dict):
            return
        with self._lock:
            if self._closed:
                return
            important = self._apply(event)
            self._dirty = True
            self._maybe_draw(force=important)

    def _apply(self, e):
        """Updates the counts; True if the line should be redrawn at once."""
        kind = e.get("event")
        index = e.get("index")
        if kind == "start":
            n = e.get("interpreters")
            if isinstance(n, int) and n > 0:
                self._expected = max(self._expected, n)
            return True
        if kind == "interpreter_start" and isinstance(index, int):
            entry = self._interp(index)
            entry.started = True
            entry.id = e.get("id", entry.id)
            return True
        if kind == "test" and isinstance(index, int):
            entry = self._interp(index)
            entry.started = True
            entry.tests += 1  # every result, skipped ones included
            outcome = e.get("outcome")
            if outcome == "failure":
                entry.failed += 1
                return True
            if outcome == "error":
                entry.errors += 1
                return True
            if outcome == "skipped":
                entry.skipped += 1
            return False
        if kind == "interpreter_result" and isinstance(index, int):
            entry = self._interp(index)
            entry.started = True
            entry.status = e.get("status") or ("ok" if e.get("exit_code") == 0 else "failed")
            tests = e.get("tests") or {}
            # The interpreter's own totals win (e.g. tests that were not
            # reported one by one).
            if isinstance(tests.get("run"), int) and tests["run"] >= entry.tests:
                entry.tests = tests["run"]
                entry.failed = tests.get("failed", entry.failed) or 0
                entry.errors = tests.get("errors", entry.errors) or 0
                entry.skipped = tests.get("skipped", entry.skipped) or 0
            return True
        if kind == "interpreter_create_failed" and isinstance(index, int):
            entry = self._interp(index)
            entry.started = True
            entry.done = True
            entry.status = "failed"
            return True
        if kind == "interpreter_end" and isinstance(index, int):
            self._interp(index).done = True
            return True
        if kind == "violation":
            self._violations += 1
            v = e.get("violation") or {}
            self._occurrences[e.get("id", self._violations)] = 1
            vi = v.get("interpreter_index")
            if isinstance(vi, int) and vi >= 0:
                self._interp(vi).violations += 1
            return True
        if kind == "violation_count":
            key = e.get("id")
            if key in self._occurrences and isinstance(e.get("count"), int):
                self._occurrences[key] = max(self._occurrences[key], e["count"])
            return False
        if kind == "dump_begin":
            self._ending = e.get("reason") or "crash"
            return True
        return False

    # ---- drawing --------------------------------------------------------------

    def _interp_text(self, entry, compact):
        label = ("%d:" % entry.index) if compact else ("interp %d:" % entry.index)
        if not entry.started:
            return label + (" -" if compact else " waiting")
        finished = entry.status is not None or entry.done
        bad = entry.failed + entry.errors
        if entry.tests:
            body = (
                ("%d" % entry.tests)
                if compact
                else "%d test%s" % (entry.tests, "" if entry.tests == 1 else "s")
            )
        else:
            body = "done" if finished else "running"
        text = "%s %s" % (label, body)
        if bad:
            text += (" %dF" % bad) if compact else ", %d failed" % bad
        if entry.violations:
            text += (
                (" %dV" % entry.violations)
                if compact
                else ", %d violation%s" % (entry.violations, "" if entry.violations == 1 else "s")
            )
        if not finished:
            return text + self._ellipsis
        if entry.status in (None, "ok") and not bad and not entry.violations:
            return text + " " + self._check_mark
        if entry.status not in (None, "ok") and not (entry.status == "failed" and bad):
            text += " (%s)" % entry.status
        return text

    def line(self):
        """The status line as it would be drawn now (no terminal codes)."""
        n = max([self._expected] + [i + 1 for i in self._interps if i >= 0])
        entries = [self._interps.get(i) or _Interp(i) for i in range(n)]
        tail = " violations: %d" % self._violations
        total = sum(self._occurrences.values())
        if total > self._violations:
            tail += " (%d occurrences)" % total
        if self._ending == "crash":
            tail += " - crashed, dumping"
        elif self._ending == "timeout":
            tail += " - timed out, dumping"
        elif self._ending == "interrupted":
            tail += " - stopping, dumping"
        width = _terminal_width(self.stream)
        for compact in (False, True):
            text = "[" + self._sep.join(self._interp_text(e, compact) for e in entries) + "]" + tail
            if len(text) < width:
                return text
        # Too many interpreters for one line: totals only.
        started = sum(1 for e in entries if e.started)
        finished = sum(1 for e in entries if e.status is not None or e.done)
        tests = sum(e.tests for e in entries)
        bad = sum(e.failed + e.errors for e in entries)
        text = "[%d interpreters: %d running, %d finished | %d tests, %d failed]%s" % (
            n,
            started - finished,
            finished,
            tests,
            bad,
            tail,
        )
        return text[: max(width - 1, 10)]

    def _maybe_draw(self, force=False):
        if not self.enabled or not self._dirty:
            return
        now = self._clock()
        if not force and self._last_draw is not None and now - self._last_draw < self.min_interval:
            return
        self._draw()
        self._last_draw = now

    def _draw(self):
        text = self.line()
        if text == self._last_text:
            self._dirty = False
            return
        self._last_text = text
        # \r back to column 0, the line, then clear what a longer previous
        # line left behind.
        try:
            self.stream.write("\r" + text + "\x1b[K")
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False  # the terminal went away
        self._last_len = len(text)
        self._dirty = False

    def refresh(self):
        """Redraws now if anything changed since the last draw (for a timer)."""
        with self._lock:
            if not self._closed:
                self._maybe_draw(force=True)

    def close(self):
        """Draws the final line and ends it with a newline (terminal only)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if not self.enabled:
                return
            if self._dirty or self._last_draw is not None:
                if self._dirty:
                    self._draw()
                try:
                    self.stream.write("\n")
                    self.stream.flush()
                except (OSError, ValueError):
                    pass


def _is_terminal(stream):
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _terminal_width(stream):
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size((100, 24)).columns or 100


# ---- following events.jsonl -------------------------------------------------------


def tail_events(path, callback, stop_event, poll_interval=0.05, idle=None):
    """Calls callback(event) for each JSON line appended to `path` until
    stop_event is set (then drains what is left); returns how many events
    were delivered. Safe to start before the file exists. idle(), if given,
    is called after each polling round (e.g. Progress.refresh)."""
    delivered = 0
    f = None
    inode = None
    buffer = b""

    def deliver(raw):
        nonlocal delivered
        raw = raw.strip()
        if not raw:
            return
        try:
            event = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            return  # a line cut short by a crash, or not ours
        if isinstance(event, dict):
            delivered += 1
            try:
                callback(event)
            except Exception:  # a display problem must not stop the run
                pass

    try:
        while True:
            stopping = stop_event.is_set()
            if f is None:
                try:
                    f = open(path, "rb")
                    inode = os.fstat(f.fileno()).st_ino
                    buffer = b""
                except FileNotFoundError:
                    f = None
            if f is not None:
                while True:
                    chunk = f.read(65536)
                    if not chunk:
                        break
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for raw in lines:
                        deliver(raw)
                # Replaced (a new run) or truncated: start over.
                try:
                    st = os.stat(path)
                    if st.st_ino != inode or st.st_size < f.tell():
                        f.close()
                        f = None
                        continue
                except FileNotFoundError:
                    pass
            if stopping:
                if buffer:
                    deliver(buffer)  # a last line without its newline
                    buffer = b""
                return delivered
            if idle is not None:
                try:
                    idle()
                except Exception:
                    pass
            stop_event.wait(poll_interval)
    finally:
        if f is not None:
            f.close()


class Follower:
    """A thread running tail_events(path, progress.feed, ...)."""

    def __init__(self, path, progress, poll_interval=0.05):
        self.progress = progress
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=tail_events,
            args=(path, progress.feed, self._stop, poll_interval, progress.refresh),
            name="interpsan-progress",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout=5.0):
        """Reads what is left, stops the thread and closes the progress line."""
        self._stop.set()
        self._thread.join(timeout)
        self.progress.close()


def follow(path, progress, poll_interval=0.05):
    """Starts following `path` into `progress`; returns a Follower (call
    .stop() when the checked process has ended)."""
    return Follower(path, progress, poll_interval)
