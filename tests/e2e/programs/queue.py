"""Objects carried between interpreters through broken_queue's C static
array: the interpreter with index 0 puts objects of the kind named by
argv[1] (float, dict, tuple, list); every other interpreter drains them,
dropping the last references inside the C function (expect
cross-interpreter-dealloc with that object type). The producer waits until
everything is drained so that the objects' owner is still alive."""
import sys
import time

import broken_queue
import interpsan

KIND = sys.argv[1] if len(sys.argv) > 1 else "float"
COUNT = 16
DEADLINE = time.monotonic() + 20


def make(i):
    # Fresh, mortal objects created by this interpreter.
    if KIND == "float":
        return float(i) + 0.25 + interpsan.index
    if KIND == "dict":
        return {"index": interpsan.index, "i": i, "payload": [i] * 3}
    if KIND == "tuple":
        return (float(i) + 0.5, [i], "item-%d" % i)
    if KIND == "list":
        return [i, float(i) + 0.5, "item-%d" % i]
    raise SystemExit("unknown kind %r" % KIND)


if interpsan.index == 0:
    for i in range(COUNT):
        broken_queue.put(make(i))
    while broken_queue.drained() < COUNT and time.monotonic() < DEADLINE:
        time.sleep(0.001)
else:
    while broken_queue.drained() < COUNT and time.monotonic() < DEADLINE:
        if broken_queue.size():
            broken_queue.drain()  # VIOLATION
        time.sleep(0.0005)
print("queue done", interpsan.index, broken_queue.drained())
