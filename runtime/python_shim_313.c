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
  if (interpsan_shim_safe_copy(&frame, &tstate->current_frame, sizeof(frame)) < 0) {
    return NULL;
  }
  return frame;
}
#define SHIM_CURRENT_FRAME_SAFE(tstate) ShimCurrentFrameSafe(tstate)

const char* interpsan_shim_version(void) { return "3.13"; }

#include "python_shim_common.inc"
