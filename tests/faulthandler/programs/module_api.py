"""module_api.py OUT_DIR

Exercises interpsan.faulthandler (the stdlib faulthandler API, served by
interpsan's process-wide handler) inside each own-GIL interpreter. Any
failed check raises, which makes the interpreter's program fail (status 1).
Function names carry the interpreter's index, so the outputs (OUT_DIR/*,
kept for the test to read too) show whose traceback they hold."""

import os
import signal
import sys
import time

import interpsan

out_dir = sys.argv[1]
index = interpsan.index
N = 4


def path(name):
    return os.path.join(out_dir, "%s-%d.txt" % (name, index))


def read(name):
    with open(path(name), encoding="utf-8", errors="replace") as f:
        return f.read()


def barrier(name, timeout=30):
    open(os.path.join(out_dir, "barrier-%s-%d" % (name, index)), "w").close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(os.path.exists(os.path.join(out_dir, "barrier-%s-%d" % (name, i)))
               for i in range(N)):
            return
        time.sleep(0.02)
    raise AssertionError("barrier %s: not every interpreter arrived" % name)


def wait_for_output(name, predicate, timeout=10):
    # A dump reads this thread's frames from another thread (a watchdog, a
    # signal handler) while this one may be running: the check is for an
    # output that holds the waiting function, from any one of the dumps.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate(read(name)):
            return read(name)
        time.sleep(0.1)
    raise AssertionError("%s: expected output never came; got %r" % (name, read(name)))


def signal_until_dumped(signum, function, tries=5):
    """Sends `signum` to the process (any thread may take it; this one is
    in `function` either way) until a dump shows `function`."""
    for _ in range(tries):
        os.kill(os.getpid(), signum)
        try:
            return wait_for_output("registered", lambda t: function in t, timeout=2)
        except AssertionError:
            continue
    raise AssertionError("registered: no dump in %s after %d signals; got %r"
                         % (function, tries, read("registered")))


# ---- import faulthandler ---------------------------------------------------

import faulthandler  # stock faulthandler raises ImportError in an own-GIL interpreter

assert faulthandler is interpsan.faulthandler, faulthandler
assert sys.modules["faulthandler"] is interpsan.faulthandler
for attr in ("enable", "disable", "is_enabled", "dump_traceback", "dump_traceback_later",
             "cancel_dump_traceback_later", "register", "unregister"):
    assert callable(getattr(faulthandler, attr)), attr

# ---- enable / disable / is_enabled ----------------------------------------

assert faulthandler.is_enabled() is False
with open(path("enabled"), "w") as enabled_file:
    assert faulthandler.enable(file=enabled_file) is None
    assert faulthandler.is_enabled() is True
    assert faulthandler.disable() is True
    assert faulthandler.is_enabled() is False
    assert faulthandler.disable() is False
faulthandler.enable()  # sys.stderr
assert faulthandler.is_enabled() is True
faulthandler.disable()

# ---- dump_traceback ---------------------------------------------------------


def dumping_function_0(f, all_threads): faulthandler.dump_traceback(file=f, all_threads=all_threads)
def dumping_function_1(f, all_threads): faulthandler.dump_traceback(file=f, all_threads=all_threads)
def dumping_function_2(f, all_threads): faulthandler.dump_traceback(file=f, all_threads=all_threads)
def dumping_function_3(f, all_threads): faulthandler.dump_traceback(file=f, all_threads=all_threads)


dumping_function = globals()["dumping_function_%d" % index]
with open(path("dump_current"), "w") as f:
    f.write("before\n")  # buffered: dump_traceback flushes it first
    DUMP_CURRENT_LINE = sys._getframe().f_lineno + 1
    dumping_function(f, False)
text = read("dump_current")
assert text.startswith("before\n"), text
assert "Current thread" in text, text
assert ' in dumping_function_%d\n' % index in text, text
assert ' in <module>\n' in text, text
assert ' line %d in <module>\n' % DUMP_CURRENT_LINE in text, text
for other in range(N):
    if other != index:
        assert "dumping_function_%d" % other not in text, text
# One thread: this one.
import re
assert len(re.findall(r"^  (Current thread|Thread) 0x", text, re.M)) == 1, text

# With a descriptor instead of a file object.
fd = os.open(path("dump_fd"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
dumping_function(fd, False)
os.close(fd)
assert ' in dumping_function_%d\n' % index in read("dump_fd")

# all_threads: every interpreter's threads, each under its interpreter.
barrier("all-started")
with open(path("dump_all"), "w") as f:
    dumping_function(f, True)
text = read("dump_all")
assert "Interpreter 0 (main):" in text, text
assert "Interpreter %d (index %d):" % (interpsan.interpreter_id, index) in text, text
barrier("all-dumped")

# ---- dump_traceback_later ---------------------------------------------------

with open(path("later_cancelled"), "w") as f:
    faulthandler.dump_traceback_later(0.5, exit=False, file=f)
    faulthandler.cancel_dump_traceback_later()
    time.sleep(1.0)
assert read("later_cancelled") == "", read("later_cancelled")


def waiting_for_later_dump_0(f):
    faulthandler.dump_traceback_later(0.2, repeat=True, exit=False, file=f)
    return wait_for_output("later", lambda t: "later_dump_0" in t)
def waiting_for_later_dump_1(f):
    faulthandler.dump_traceback_later(0.2, repeat=True, exit=False, file=f)
    return wait_for_output("later", lambda t: "later_dump_1" in t)
def waiting_for_later_dump_2(f):
    faulthandler.dump_traceback_later(0.2, repeat=True, exit=False, file=f)
    return wait_for_output("later", lambda t: "later_dump_2" in t)
def waiting_for_later_dump_3(f):
    faulthandler.dump_traceback_later(0.2, repeat=True, exit=False, file=f)
    return wait_for_output("later", lambda t: "later_dump_3" in t)


with open(path("later"), "w") as f:
    text = globals()["waiting_for_later_dump_%d" % index](f)
    faulthandler.cancel_dump_traceback_later()
    assert read("later").count("Timeout (0:00:00)!\n") >= 1
assert text.startswith("Timeout (0:00:00)!\n"), text
assert " in waiting_for_later_dump_%d\n" % index in text, text

with open(path("later_repeat"), "w") as f:
    faulthandler.dump_traceback_later(0.1, repeat=True, file=f)
    wait_for_output("later_repeat", lambda t: t.count("Timeout (") >= 2)
    faulthandler.cancel_dump_traceback_later()
    size = len(read("later_repeat"))
    time.sleep(0.4)
    assert len(read("later_repeat")) == size, "dumps went on after cancel"

try:
    faulthandler.dump_traceback_later(0)
except ValueError:
    pass
else:
    raise AssertionError("dump_traceback_later(0) accepted")

# ---- register / unregister ----------------------------------------------------
# SIGUSR1 and SIGUSR2 belong to interpsan itself; each interpreter uses its
# own real-time signal. One interpreter at a time: see the test.


def waiting_for_signal_dump_0(signum): return signal_until_dumped(signum, "waiting_for_signal_dump_0")
def waiting_for_signal_dump_1(signum): return signal_until_dumped(signum, "waiting_for_signal_dump_1")
def waiting_for_signal_dump_2(signum): return signal_until_dumped(signum, "waiting_for_signal_dump_2")
def waiting_for_signal_dump_3(signum): return signal_until_dumped(signum, "waiting_for_signal_dump_3")


signum = signal.SIGRTMIN + 1 + index
if index > 0:
    wait = os.path.join(out_dir, "registered-done-%d" % (index - 1))
    deadline = time.monotonic() + 30
    while not os.path.exists(wait) and time.monotonic() < deadline:
        time.sleep(0.02)
with open(path("registered"), "w") as f:
    assert faulthandler.register(signum, file=f, all_threads=True) is None
    text = globals()["waiting_for_signal_dump_%d" % index](signum)
    assert faulthandler.unregister(signum) is True
    assert faulthandler.unregister(signum) is False
open(os.path.join(out_dir, "registered-done-%d" % index), "w").close()
assert " in waiting_for_signal_dump_%d\n" % index in text, text
assert "Interpreter %d (index %d):" % (interpsan.interpreter_id, index) in text, text

for fatal in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT):
    try:
        faulthandler.register(fatal)
    except RuntimeError:
        pass
    else:
        raise AssertionError("register(%d) accepted a fatal signal" % fatal)

print("module_api: interpreter %d: all checks passed" % index)
