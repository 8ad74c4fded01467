// tracemalloc_module.h: `_interpsan_tracemalloc`, the C half of
// interpsan.tracemalloc. It mirrors stock `_tracemalloc`'s functions, so the
// stdlib's own tracemalloc.py runs on top of it unchanged (see
// tracemalloc_api.py), with two extensions: traces carry their
// interpreter's id as a fifth element, and _get_traces can cover every
// interpreter.
#ifndef INTERPSAN_TRACEMALLOC_TRACEMALLOC_MODULE_H_
#define INTERPSAN_TRACEMALLOC_TRACEMALLOC_MODULE_H_

#include <Python.h>

extern "C" PyObject* PyInit__interpsan_tracemalloc(void);

namespace interpsan {
// Builds the Python half, module "interpsan.tracemalloc", from the embedded
// tracemalloc_api.py (and registers it in sys.modules). New reference.
PyObject* CreateTracemallocApiModule();
}  // namespace interpsan

#endif  // INTERPSAN_TRACEMALLOC_TRACEMALLOC_MODULE_H_
