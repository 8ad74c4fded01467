"""Every interpreter appends to broken_static_list's list in a C static:
the list's item buffer belongs to one interpreter and is resized by the
others (expect cross-interpreter-realloc)."""
import time

import broken_static_list
import interpsan

for i in range(200):
    broken_static_list.append("item-%d-%d" % (interpsan.index, i))  # VIOLATION
    time.sleep(0.0005)
print("static_list done", interpsan.index)
