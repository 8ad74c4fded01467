// frame_layout.h: where a thread's innermost Python frames are, as byte
// offsets known at compile time, so that tracemalloc's per-allocation stack
// read (traceback_table.cc) is a few loads instead of a call into the shim.
//
// C++ cannot include CPython's internal headers (they are C-only), so the
// offsets are written here per version, and the per-version C files
// (frame_layout_312.c, frame_layout_313.c), compiled with Py_BUILD_CORE
// against that version's internal headers, check every one of them with a
// _Static_assert: a CPython whose layout differs does not build.
//
// The walk that uses them makes exactly the choices of
// interpsan_shim_frame_positions: skip frames owned by the C stack, frames
// whose executable is not a code object, and incomplete frames (counted
// out of the depth, as stock tracemalloc does).
//
// Thread safety: constants; interpsan_tm_code_line reads a live code object
// and writes only the caller's cursor. Not async-signal-safe (it is not
// meant for signal handlers: the code object must be alive).
#ifndef INTERPSAN_TRACEMALLOC_FRAME_LAYOUT_H_
#define INTERPSAN_TRACEMALLOC_FRAME_LAYOUT_H_

#include <patchlevel.h>  // PY_VERSION_HEX
#include <stddef.h>
#include <stdint.h>

#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
// PyThreadState.current_frame
#define INTERPSAN_TM_TSTATE_FRAME 72
#define INTERPSAN_TM_CFRAME_FRAME (-1)  // no _PyCFrame level
#define INTERPSAN_TM_FRAME_CODE 0       // f_executable
#define INTERPSAN_TM_FRAME_INSTR 56     // instr_ptr
#define INTERPSAN_TM_CODE_BYTECODE 200  // co_code_adaptive
#define INTERPSAN_TM_CODE_FIRSTTRACEABLE 184
#define INTERPSAN_TM_TSTATE_RECURSION_LIMIT 48
#define INTERPSAN_TM_TSTATE_RECURSION_REMAINING 44
#elif PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030D0000
// PyThreadState.cframe, then _PyCFrame.current_frame (a null cframe: no
// frame)
#define INTERPSAN_TM_TSTATE_FRAME 56
#define INTERPSAN_TM_CFRAME_FRAME 0
#define INTERPSAN_TM_FRAME_CODE 0    // f_code
#define INTERPSAN_TM_FRAME_INSTR 56  // prev_instr
#define INTERPSAN_TM_CODE_BYTECODE 192
#define INTERPSAN_TM_CODE_FIRSTTRACEABLE 176
#define INTERPSAN_TM_TSTATE_RECURSION_LIMIT 32
#define INTERPSAN_TM_TSTATE_RECURSION_REMAINING 28
#else
#error "frame_layout.h: offsets for CPython 3.12 and 3.13 only"
#endif
// The same in both.
#define INTERPSAN_TM_FRAME_PREVIOUS 8
#define INTERPSAN_TM_FRAME_OWNER 70  // char
#define INTERPSAN_TM_OBJECT_TYPE 8   // PyObject.ob_type
#define INTERPSAN_TM_OWNED_BY_GENERATOR 1
#define INTERPSAN_TM_OWNED_BY_CSTACK 3

#ifdef __cplusplus
extern "C" {
#endif

// A position in one code object's line table (CPython's
// PyCodeAddressRange), kept between calls so that positions of one code
// object resolved in order cost the distance between them, not a walk from
// the table's start each (PyCode_Addr2Line's cost, quadratic over a module
// body's allocations at import). code == NULL: empty. The caller empties it
// when the code object may have died.
typedef struct InterpsanLineCursor {
  const void* code;
  uint64_t range[8];
} InterpsanLineCursor;

// The line of instruction `instr` of `code` (a live code object), as
// PyCode_Addr2Line(code, instr * 2) gives it. Reads only; no allocation.
int interpsan_tm_code_line(void* code, int instr, InterpsanLineCursor* cursor);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // INTERPSAN_TRACEMALLOC_FRAME_LAYOUT_H_
