"""crash_after_violations.py MARKER_DIR (run with -n 2 --keep-going)

Index 0 frees 11 PyObject_Malloc blocks with PyMem_Free (one site), then 3
PyMem_Malloc blocks with PyObject_Free (another site), says so in
MARKER_DIR/done-0 and sleeps. Index 1 frees 11 at the first site, waits for
done-0 and kills the process with SIGSEGV. Expect status 4 and the counts
of the violations seen before the crash: 22 and 3 (neither a power of two)."""
import os
import signal
import sys
import threading
import time

import broken_wrong_domain
import interpsan

marker_dir = sys.argv[1]
for _ in range(11):
    broken_wrong_domain.object_malloc_mem_free(48)  # VIOLATION-repeated
if interpsan.index == 0:
    for _ in range(3):
        broken_wrong_domain.mem_malloc_object_free(48)  # VIOLATION-other
    with open(os.path.join(marker_dir, "done-0"), "w"):
        pass
    time.sleep(600)
else:
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(marker_dir, "done-0")) and time.monotonic() < deadline:
        time.sleep(0.01)
    # In this thread (os.kill could hit any thread of the process).
    signal.pthread_kill(threading.get_ident(), signal.SIGSEGV)
