// CPython 3.12: the innermost frame hangs off tstate->cframe, a frame's
// code object is f_code and its position prev_instr.
#define Py_BUILD_CORE 1
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>

#include "internal/pycore_frame.h"
#include "tracemalloc/frame_layout.h"

#if PY_VERSION_HEX < 0x030C0000 || PY_VERSION_HEX >= 0x030D0000
#error "frame_layout_312.c needs CPython 3.12 headers"
#endif

#include "tracemalloc/frame_layout_common.inc"

INTERPSAN_TM_CHECK(offsetof(PyThreadState, cframe) ==
                   INTERPSAN_TM_TSTATE_FRAME);
INTERPSAN_TM_CHECK(offsetof(_PyCFrame, current_frame) ==
                   INTERPSAN_TM_CFRAME_FRAME);
INTERPSAN_TM_CHECK(offsetof(_PyInterpreterFrame, f_code) ==
                   INTERPSAN_TM_FRAME_CODE);
INTERPSAN_TM_CHECK(offsetof(_PyInterpreterFrame, prev_instr) ==
                   INTERPSAN_TM_FRAME_INSTR);
