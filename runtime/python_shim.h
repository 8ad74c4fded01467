// python_shim.h: the few CPython internals interpsan reads, behind a C ABI.
//
// Everything that differs between CPython versions lives in one small C file
// per version (python_shim_312.c, python_shim_313.c), compiled with
// Py_BUILD_CORE against that version's internal headers. Supporting 3.14 is
// one more file. C, not C++, because the internal headers are C-only.
//
// Thread safety: every function here is safe to call from any thread. None
// of them allocates, takes a lock or calls back into Python, so they are safe
// inside allocator hooks; the ones marked "signal-safe" only read memory.
#ifndef INTERPSAN_RUNTIME_PYTHON_SHIM_H_
#define INTERPSAN_RUNTIME_PYTHON_SHIM_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _object PyObject;
typedef struct _ts PyThreadState;
typedef struct _is PyInterpreterState;

// One Python frame, copied into fixed storage so the result outlives the
// interpreter that produced it.
typedef struct InterpsanFrame {
  char filename[500];  // a longer path keeps its end, after "..."
  char name[100];
  int lineno;
} InterpsanFrame;

// "3.12" or "3.13": the version this shim was compiled for.
const char* interpsan_shim_version(void);

// The calling thread's thread state, or NULL. Never takes the GIL.
PyThreadState* interpsan_shim_current_tstate(void);

// Bytes that CPython puts before a PyObject* inside its memory block
// (PyGC_Head, managed dict/weakref pointers).
size_t interpsan_shim_preheader_size(PyObject* op);

// Usable size of a pymalloc small block; `p` must lie in a pymalloc arena.
size_t interpsan_shim_small_block_size(const void* p);

// ---- Inline layout reads (for the allocator hooks' traced paths) ---------
// The two reads above sit on every traced allocation, free and new object;
// out of line they cost a call each. The layout they need is one constant
// set, identical on 3.12.1 and 3.13.0; every per-version shim checks it
// against that version's internal headers with _Static_assert
// (python_shim_common.inc), so a version that changes it fails to build
// instead of reading the wrong bytes. Signal-safe: they only read memory.

// pymalloc (Include/internal/pycore_obmalloc.h): pools of 1 << 14 bytes
// (USE_LARGE_ARENAS), the pool header's `szidx` (uint) at byte 36, and
// INDEX2SIZE(i) = (i + 1) << ALIGNMENT_SHIFT.
#define INTERPSAN_POOL_SIZE_MASK ((uintptr_t)((1 << 14) - 1))
#define INTERPSAN_POOL_SZIDX_OFFSET 36
#define INTERPSAN_ALIGNMENT_SHIFT 4

// The same as interpsan_shim_small_block_size(p), inline.
static inline size_t interpsan_small_block_size_inline(const void* p) {
  uintptr_t pool = (uintptr_t)p & ~INTERPSAN_POOL_SIZE_MASK;
  return ((size_t) * (const unsigned int*)(pool + INTERPSAN_POOL_SZIDX_OFFSET) +
          1)
         << INTERPSAN_ALIGNMENT_SHIFT;
}

// The pre-header (_PyType_PreHeaderSize, Include/internal/pycore_object.h):
// sizeof(PyGC_Head) if the type has Py_TPFLAGS_HAVE_GC, plus two pointers
// if it has any of Py_TPFLAGS_PREHEADER (managed dict, managed weakref).
#define INTERPSAN_GC_HEAD_SIZE 16
#define INTERPSAN_TPFLAGS_HAVE_GC (1UL << 14)
#define INTERPSAN_TPFLAGS_PREHEADER ((1UL << 3) | (1UL << 4))

// The same as interpsan_shim_preheader_size(op), given Py_TYPE(op)'s
// tp_flags (readable without internal headers).
static inline size_t interpsan_preheader_size_of_flags(unsigned long flags) {
  return ((flags & INTERPSAN_TPFLAGS_HAVE_GC) ? INTERPSAN_GC_HEAD_SIZE : 0) +
         ((flags & INTERPSAN_TPFLAGS_PREHEADER) ? 2 * sizeof(void*) : 0);
}

// Whether `p` (inside a pymalloc arena) is a live small block: 0 if it is,
// 1 if it starts a block that is free, 2 if no block starts there (an
// interior or misaligned pointer). Walks the pool's free list (at most a
// pool's block count): for reports only. Call under the GIL of the
// interpreter whose arena holds `p`.
int interpsan_shim_small_block_state(const void* p);

// pymalloc's largest small request (512 on 3.12 and 3.13).
size_t interpsan_shim_small_request_threshold(void);

// Copies up to `max` frames of `tstate`'s Python stack, most recent call
// first. Returns the number written. Reads frame memory only.
int interpsan_shim_capture_traceback(PyThreadState* tstate, InterpsanFrame* out,
                                     int max);

// ---- Fast frame positions (for tracemalloc) --------------------------------
// The calling thread's innermost `max` Python frames as (code object,
// instruction index) pairs, most recent first: no line numbers, no string
// copies, no allocation. A thread's frames change only on that thread, so
// this is safe with or without the GIL. Code pointers are borrowed.
// `*depth` receives the whole stack's depth (capped at 65535), as stock
// tracemalloc's total_nframe, without walking past `max`: read from the
// thread's spent recursion budget.
int interpsan_shim_frame_positions(PyThreadState* tstate, void** codes,
                                   int* instrs, int max, int* depth);

// Resolves one position to file, function and line (allocation-free).
void interpsan_shim_resolve_position(void* code, int instr,
                                     InterpsanFrame* out);

// True if `op` is a code object (for invalidating position caches).
int interpsan_shim_is_code(PyObject* op);

// ---- Signal-safe variants (for the faulthandler) -------------------------
// These read CPython's structures through interpsan_shim_safe_copy, so a
// stale or corrupted pointer yields a short result, never a fault. They use
// no locks, allocate nothing and make only async-signal-safe system calls.

// Copies n bytes from src, or returns -1 if any of them is unreadable.
int interpsan_shim_safe_copy(void* dst, const void* src, size_t n);

typedef struct InterpsanThreadInfo {
  PyThreadState* tstate;
  int64_t interp_id;
  unsigned long thread_id;         // pthread_t, as threading.get_ident()
  unsigned long native_thread_id;  // kernel tid
  int is_main_interp;
} InterpsanThreadInfo;

// Every thread state of every interpreter, interpreters in creation order
// (newest first, as CPython links them). Returns the count written.
int interpsan_shim_list_threads_safe(InterpsanThreadInfo* out, int max);

// Like interpsan_shim_capture_traceback, through safe copies.
int interpsan_shim_capture_traceback_safe(PyThreadState* tstate,
                                          InterpsanFrame* out, int max);

// ---- Argument Clinic parsers (Include/cpython/modsupport.h) --------------
// What CPython's getargs.c recorded in one static _PyArg_Parser, copied out
// so that callers need no internal headers.
typedef struct InterpsanArgParser {
  const void* parser;           // the _PyArg_Parser itself
  const char* const* keywords;  // NULL-terminated; "" marks positional-only
  const char* fname;
  PyObject* kwtuple;  // tuple of the keyword names, or NULL
  int pos;            // number of positional-only parameters
  int kwtuple_owned;  // getargs.c created kwtuple (Clinic did not)
} InterpsanArgParser;

// If `kwtuple_field` is the address of the `kwtuple` field of a parser that
// getargs.c has finished initialising (it is on CPython's own list of them,
// _PyRuntime.getargs.static_parsers), fills *out and returns 1; otherwise
// returns 0. Reads only (the list is prepend-only while interpreters run).
int interpsan_shim_arg_parser_of_kwtuple_field(const void* kwtuple_field,
                                               InterpsanArgParser* out);

// 1 if this version's getargs.c creates a parser's keyword tuple in the main
// interpreter whichever interpreter parses first (3.13's _parser_init
// switches to it), 0 if in the interpreter that parses first (3.12).
int interpsan_shim_kwtuple_created_in_main(void);

// ---- Runtime re-initialisation ---------------------------------------------
// &_PyRuntime.preconfig. CPython's _PyRuntimeState_Init fills it with
// PyPreConfig_InitPythonConfig right after it has reset the whole runtime
// state from its static initializer (which it does when Py_Initialize runs
// again after Py_Finalize), so a call with this address says "the runtime
// was just (re)initialised" (3.12.1 and 3.13.0, Python/pystate.c).
const void* interpsan_shim_runtime_preconfig(void);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // INTERPSAN_RUNTIME_PYTHON_SHIM_H_
