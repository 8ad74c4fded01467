"""Shared by the faulthandler test programs: makes every thread of every
interpreter wait in a known Python function, named after its interpreter's
index, and lets one thread wait until all the others are in place.

In interpreter N:
  waiting_in_interpreter_N()     the interpreter's main thread
  helper_of_interpreter_N()      a second Python thread (threading.Thread)
Each writes a marker file into MARKER_DIR once it is inside its function,
then sleeps there until release() or the end of the run.
"""

import os
import threading
import time

import interpsan

WAIT_SECONDS = 60


def _mark(marker_dir, what):
    path = os.path.join(marker_dir, "%s-%d" % (what, interpsan.index))
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)


def _sleep_until_released(marker_dir):
    # Mostly asleep: a dump taken from another thread reads this thread's
    # frames while it runs, and a running thread's frames can be caught
    # half-updated (own-GIL interpreters really run at the same time).
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(marker_dir, "release")):
            return
        time.sleep(0.25)


# One function per interpreter and role, so that a dump shows which
# interpreter each thread belongs to by name alone.
def waiting_in_interpreter_0(d): _mark(d, "main"); _sleep_until_released(d)
def waiting_in_interpreter_1(d): _mark(d, "main"); _sleep_until_released(d)
def waiting_in_interpreter_2(d): _mark(d, "main"); _sleep_until_released(d)
def waiting_in_interpreter_3(d): _mark(d, "main"); _sleep_until_released(d)
def helper_of_interpreter_0(d): _mark(d, "helper"); _sleep_until_released(d)
def helper_of_interpreter_1(d): _mark(d, "helper"); _sleep_until_released(d)
def helper_of_interpreter_2(d): _mark(d, "helper"); _sleep_until_released(d)
def helper_of_interpreter_3(d): _mark(d, "helper"); _sleep_until_released(d)


def start_helper(marker_dir):
    """Starts this interpreter's helper thread (not a daemon: own-GIL
    interpreters allow none)."""
    target = globals()["helper_of_interpreter_%d" % interpsan.index]
    thread = threading.Thread(target=target, args=(marker_dir,),
                              name="helper-%d" % interpsan.index)
    thread.start()
    return thread


def wait_here(marker_dir):
    """The calling (main) thread waits in waiting_in_interpreter_N()."""
    globals()["waiting_in_interpreter_%d" % interpsan.index](marker_dir)


def wait_for_others(marker_dir, n, timeout=30, exclude=()):
    """Waits until every other thread of the run (n interpreters x main and
    helper, less the calling one and the interpreters in `exclude`) is
    inside its waiting function."""
    me = "main-%d" % interpsan.index
    wanted = {"%s-%d" % (what, i) for i in range(n) for what in ("main", "helper")
              if i not in exclude} - {me}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if wanted <= set(os.listdir(marker_dir)):
            time.sleep(0.1)  # let the last ones reach their sleep
            return
        time.sleep(0.02)
    raise RuntimeError("threads never got into place: missing %s"
                       % sorted(wanted - set(os.listdir(marker_dir))))
