"""teardown.py MARKER_DIR FAULT_INDEX

The interpreter with index FAULT_INDEX registers an atexit handler that
calls crashers.segv(), and its program ends: the handler runs inside
Py_EndInterpreter, while the interpreter is being torn down. The other
interpreters wait in known functions (waiting.py) meanwhile."""

import atexit
import sys

import crashers
import interpsan
import waiting

marker_dir, fault_index = sys.argv[1], int(sys.argv[2])


def crash_at_exit():
    crashers.segv()


if interpsan.index == fault_index:
    atexit.register(crash_at_exit)
    # No helper thread here: Py_EndInterpreter waits for it before atexit.
    waiting.wait_for_others(marker_dir, 4, exclude=(fault_index,))
else:
    waiting.start_helper(marker_dir)
    waiting.wait_here(marker_dir)
