"""broken_wrong_domain releases blocks through the wrong allocator family,
each interpreter on its own blocks (expect wrong-domain-free, interpreter ==
owner_interpreter). argv[1]: "object_mem" (PyObject_Malloc + PyMem_Free) or
"mem_object" (PyMem_Malloc + PyObject_Free)."""
import sys

import broken_wrong_domain
import interpsan

MODE = sys.argv[1] if len(sys.argv) > 1 else "object_mem"
for i in range(20):
    if MODE == "object_mem":
        broken_wrong_domain.object_malloc_mem_free(48)  # VIOLATION-object_mem
    else:
        broken_wrong_domain.mem_malloc_object_free(48)  # VIOLATION-mem_object
print("wrong_domain done", interpsan.index)
