"""fatal_signal.py KIND MARKER_DIR FAULT_INDEX

Every interpreter starts a helper thread and waits in known functions
(waiting.py); once every thread of the run is in place, the interpreter
with index FAULT_INDEX calls crashers.KIND() from fault_in_interpreter()
(segv, bus, fpe, ill or abort), killing the process with that signal."""

import sys

import crashers
import interpsan
import waiting

kind, marker_dir, fault_index = sys.argv[1], sys.argv[2], int(sys.argv[3])


def fault_in_interpreter():
    getattr(crashers, kind)()


waiting.start_helper(marker_dir)
if interpsan.index == fault_index:
    waiting.wait_for_others(marker_dir, 4)
    fault_in_interpreter()
    raise SystemExit("crashers.%s() returned" % kind)
waiting.wait_here(marker_dir)
