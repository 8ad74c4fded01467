"""deadlock.py MARKER_DIR DEADLOCK_INDEX

The interpreter with index DEADLOCK_INDEX starts a helper thread that
waits in helper_of_interpreter_N() (waiting.py) and deadlocks its main
thread in deadlocked_function() (a threading.Lock acquired twice). The
other interpreters finish at once."""

import sys
import threading

import interpsan
import waiting

marker_dir, deadlock_index = sys.argv[1], int(sys.argv[2])


def deadlocked_function():
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()  # never returns


if interpsan.index == deadlock_index:
    waiting.start_helper(marker_dir)
    deadlocked_function()
