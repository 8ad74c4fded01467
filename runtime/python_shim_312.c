// CPython 3.12 internals: frames hang off tstate->cframe, and a frame's code
// object is f_code.
#define Py_BUILD_CORE 1
#define Py_BUILD_CORE_MODULE 1  // _PyThreadState_GET via the exported call
#include <Python.h>

#include "internal/pycore_frame.h"
#include "python_shim.h"

#if PY_VERSION_HEX < 0x030C0000 || PY_VERSION_HEX >= 0x030D0000
#error "python_shim_312.c needs CPython 3.12 headers"
#endif

#define SHIM_CURRENT_FRAME(tstate) \
  ((tstate)->cframe ? (tstate)->cframe->current_frame : NULL)
#define SHIM_FRAME_CODE(frame) ((PyObject*)(frame)->f_code)

int interpsan_shim_safe_copy(void* dst, const void* src, size_t n);
static inline _PyInterpreterFrame* ShimCurrentFrameSafe(PyThreadState* tstate) {
  _PyCFrame* cframe = NULL;
  _PyInterpreterFrame* frame = NULL;
  if (interpsan_shim_safe_copy(&cframe, &tstate->cframe, sizeof(cframe)) < 0 ||
      cframe == NULL ||
      interpsan_shim_safe_copy(&frame, &cframe->current_frame, sizeof(frame)) <
          0) {
    return NULL;
  }
  return frame;
}
#define SHIM_CURRENT_FRAME_SAFE(tstate) ShimCurrentFrameSafe(tstate)

const char* interpsan_shim_version(void) { return "3.12"; }

// Argument Clinic parsers (Python/getargs.c, v3.12.1): _parser_init sets
// `initialized` to 1 when it created the keyword tuple itself, -1 when
// Clinic supplied a static one; it creates the tuple with new_kwtuple in
// whichever interpreter parses first, and that interpreter owns it.
#define SHIM_PARSER_INITIALIZED(p) ((p)->initialized != 0)
#define SHIM_PARSER_KWTUPLE_OWNED(p) ((p)->initialized == 1)
#define SHIM_KWTUPLE_CREATED_IN_MAIN 0

#include "python_shim_common.inc"
