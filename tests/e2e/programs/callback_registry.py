"""broken_callback_registry keeps the first callback registered in a C
static and calls it from every interpreter (expect cross-interpreter-call
on a 'function'). The interpreter with index 0 registers; the others
wait for it, then fire it. With --keep-going each foreign call is refused with
interpsan.CrossInterpreterError instead of running index 0's code. The
owner waits until the others are done so that the callback outlives them."""
import sys
import time

import broken_callback_registry
import interpsan

DEADLINE = time.monotonic() + 20
seen = []


def on_event(n):
    seen.append({"n": n, "by": interpsan.index, "text": str(n) * 4})
    return len(seen)


if interpsan.index == 0:
    broken_callback_registry.register_callback(on_event)
    broken_callback_registry.fire(50)
    while broken_callback_registry.fired() < 3 and time.monotonic() < DEADLINE:
        time.sleep(0.001)
else:
    while not broken_callback_registry.registered() and time.monotonic() < DEADLINE:
        time.sleep(0.001)
    broken_callback_registry.register_callback(on_event)  # kept: index 0's stays
    refused = 0
    for _ in range(50):
        try:
            broken_callback_registry.fire(20)  # VIOLATION
        except interpsan.CrossInterpreterError:
            refused += 1
    broken_callback_registry.done_firing()
    sys.stdout.write("refused %d %d\n" % (interpsan.index, refused))
# One write per line: the interpreters print at the same time.
sys.stdout.write("callback_registry done %d\n" % interpsan.index)
