// CPython 3.13 internals: frames hang off tstate->current_frame, and a
// frame's code object is f_executable (which may also be None).
#define Py_BUILD_CORE 1
#define Py_BUILD_CORE_MODULE 1  // _PyThreadState_GET via the exported call
#include <Python.h>

#include "internal/pycore_frame.h"
#include "python_shim.h"

#if PY_VERSION_HEX < 0x030D0000 || PY_VERSION_HEX >= 0x030E0000
#error "python_shim_313.c needs CPython 3.13 headers"
#endif

#define SHIM_CURRENT_FRAME(tstate) ((tstate)->current_frame)
#define SHIM_FRAME_CODE(frame) ((frame)->f_executable)

int interpsan_shim_safe_copy(void* dst, const void* src, size_t n);
static inline _PyInterpreterFrame* ShimCurrentFrameSafe(PyThreadState* tstate) {
  _PyInterpreterFrame* frame = NULL;
  if (interpsan_shim_safe_copy(&frame, &tstate->current_frame, sizeof(frame)) <
      0) {
    return NULL;
  }
  return frame;
}
#define SHIM_CURRENT_FRAME_SAFE(tstate) ShimCurrentFrameSafe(tstate)

const char* interpsan_shim_version(void) { return "3.13"; }

// Argument Clinic parsers (Python/getargs.c, v3.13.0): parser_init runs
// _parser_init once (`once` ends at _Py_ONCE_INITIALIZED); when it creates
// the keyword tuple (is_kwtuple_owned) from a subinterpreter, it first
// switches to a new thread state of the main interpreter
// (PyThreadState_New(_PyInterpreterState_Main()), PyThreadState_Swap), so
// new_kwtuple allocates in the main interpreter and interns the names as
// immortal strings; _PyArg_Fini releases the tuple when the main
// interpreter finalizes.
#include "internal/pycore_lock.h"
#define SHIM_PARSER_INITIALIZED(p) \
  (__atomic_load_n(&(p)->once.v, __ATOMIC_ACQUIRE) == _Py_ONCE_INITIALIZED)
#define SHIM_PARSER_KWTUPLE_OWNED(p) ((p)->is_kwtuple_owned != 0)
#define SHIM_KWTUPLE_CREATED_IN_MAIN 1

#include "python_shim_common.inc"
