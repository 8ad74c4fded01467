"""broken_shared_dict's dict in a C static: the interpreter with index 0
creates it and fills it; every other interpreter then inserts into it
(expect cross-interpreter-argument, PyDict_SetItem, on a 'dict'). With
--keep-going each foreign insertion is refused with
interpsan.CrossInterpreterError, so the dict only ever grows in its owner.
The owner waits until the others are done so that the dict outlives them."""
import sys
import time

import broken_shared_dict
import interpsan

N = 300
DEADLINE = time.monotonic() + 20
refused = 0
if interpsan.index == 0:
    for i in range(N):
        broken_shared_dict.store("own-%d" % i, [i])
else:
    while not broken_shared_dict.created() and time.monotonic() < DEADLINE:
        time.sleep(0.001)
    for i in range(N):
        try:
            broken_shared_dict.store("key-%d-%d" % (interpsan.index, i), [i])  # VIOLATION
        except interpsan.CrossInterpreterError:
            refused += 1
broken_shared_dict.finish()
if interpsan.index == 0:
    while broken_shared_dict.finished() < 4 and time.monotonic() < DEADLINE:
        time.sleep(0.001)
# One write per line: the interpreters print at the same time.
sys.stdout.write("shared_dict done %d %d\n" % (interpsan.index, refused))
