// interpsan_module.h: the `interpsan` module every interpreter of a run can
// import: `interpsan.index` (0..N-1, its place in the run; -1 for the main
// interpreter), `interpsan.interpreter_id`, and the runner's private
// `_emit(json_line)` channel to the supervisor.
//
// Multi-phase init, declared Py_MOD_PER_INTERPRETER_GIL_SUPPORTED: it keeps
// no state outside the module object.
#ifndef INTERPSAN_TOOLS_INTERPSAN_MODULE_H_
#define INTERPSAN_TOOLS_INTERPSAN_MODULE_H_

#include <Python.h>

extern "C" PyObject* PyInit_interpsan(void);

#endif  // INTERPSAN_TOOLS_INTERPSAN_MODULE_H_
