"""broken_handoff: the interpreter with index 0 parks a list in a C static;
the one with index 1 moves it into its own module state and then uses it
through the C API (expect cross-interpreter-argument, held by
broken_handoff's module state). The owner waits until the others are done
so that the list outlives its use."""
import sys
import time

import broken_handoff
import interpsan

DEADLINE = time.monotonic() + 20
Refused = getattr(interpsan, "CrossInterpreterError", RuntimeError)
if interpsan.index == 0:
    broken_handoff.give([1, 2, 3])
elif interpsan.index == 1:
    while not broken_handoff.take() and time.monotonic() < DEADLINE:
        time.sleep(0.001)
    try:
        broken_handoff.use()  # VIOLATION
    except Refused:
        pass
broken_handoff.finish()
if interpsan.index == 0:
    while broken_handoff.finished() < 4 and time.monotonic() < DEADLINE:
        time.sleep(0.001)
sys.stdout.write("handoff done %d\n" % interpsan.index)
