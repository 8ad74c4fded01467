"""hang_after_violations.py (run with -n 4 --keep-going --timeout S)

Every interpreter frees 5 PyObject_Malloc blocks with PyMem_Free (one site,
20 occurrences in all); then the interpreter with index 1 hangs in
hung_function() while the others finish. Expect status 5, index 1 "timeout"
(not "violation"), the others "violation"."""
import time

import broken_wrong_domain
import interpsan


def hung_function():
    time.sleep(600)


for _ in range(5):
    broken_wrong_domain.object_malloc_mem_free(48)  # VIOLATION
if interpsan.index == 1:
    hung_function()
print("hang_after_violations done", interpsan.index)
