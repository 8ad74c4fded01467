// CPython 3.13: the innermost frame is tstate->current_frame, a frame's
// code object is f_executable (or None) and its position instr_ptr.
#define Py_BUILD_CORE 1
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>

#include "internal/pycore_frame.h"
#include "tracemalloc/frame_layout.h"

#if PY_VERSION_HEX < 0x030D0000 || PY_VERSION_HEX >= 0x030E0000
#error "frame_layout_313.c needs CPython 3.13 headers"
#endif

#include "tracemalloc/frame_layout_common.inc"

INTERPSAN_TM_CHECK(offsetof(PyThreadState, current_frame) ==
                   INTERPSAN_TM_TSTATE_FRAME);
INTERPSAN_TM_CHECK(offsetof(_PyInterpreterFrame, f_executable) ==
                   INTERPSAN_TM_FRAME_CODE);
INTERPSAN_TM_CHECK(offsetof(_PyInterpreterFrame, instr_ptr) ==
                   INTERPSAN_TM_FRAME_INSTR);
INTERPSAN_TM_CHECK(INTERPSAN_TM_CFRAME_FRAME == -1);
