"""thread_pair.py MARKER_DIR FAULT_INDEX

Every interpreter waits in known functions (waiting.py); once every thread
is in place, the interpreter with index FAULT_INDEX calls
crashers.crash_in_thread_pair(): two native threads (no Python thread
state) write through NULL at the same moment."""

import sys

import crashers
import interpsan
import waiting

marker_dir, fault_index = sys.argv[1], int(sys.argv[2])


def crash_two_threads():
    crashers.crash_in_thread_pair()


waiting.start_helper(marker_dir)
if interpsan.index == fault_index:
    waiting.wait_for_others(marker_dir, 4)
    crash_two_threads()
    raise SystemExit("crash_in_thread_pair() returned")
waiting.wait_here(marker_dir)
