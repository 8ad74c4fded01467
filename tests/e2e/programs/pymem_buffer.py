"""broken_pymem_buffer's PyMem buffer in a C static: the interpreter with
index 0 allocates it (argv[2] bytes); the interpreter with index 1 then
resizes it (argv[1] == "realloc": expect cross-interpreter-realloc, once) or
frees it (argv[1] == "free": expect cross-interpreter-free). The owner waits until
the other interpreter has acted so that it is still alive."""
import sys
import time

import broken_pymem_buffer
import interpsan

MODE = sys.argv[1] if len(sys.argv) > 1 else "realloc"
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else 64
DEADLINE = time.monotonic() + 20

if interpsan.index == 0:
    broken_pymem_buffer.resize(SIZE)
    while broken_pymem_buffer.size() == SIZE and time.monotonic() < DEADLINE:
        time.sleep(0.001)
elif interpsan.index == 1:
    while broken_pymem_buffer.size() != SIZE and time.monotonic() < DEADLINE:
        time.sleep(0.001)
    if MODE == "realloc":
        broken_pymem_buffer.resize(SIZE * 2)  # VIOLATION-realloc
        # With --keep-going the run goes on: the buffer is now this
        # interpreter's own copy, so these are correct and must not be
        # reported.
        broken_pymem_buffer.resize(SIZE * 3)
        broken_pymem_buffer.resize(SIZE)
        broken_pymem_buffer.release()
    else:
        broken_pymem_buffer.release()  # VIOLATION-free
print("pymem_buffer done", interpsan.index)
