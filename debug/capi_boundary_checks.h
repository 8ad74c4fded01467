// capi_boundary_checks.h: checks at the C-API boundary, without rebuilding.
//
// The process (runner executable or preload library) defines the C-API
// functions that extensions lean on most (PyList_Append, PyDict_SetItem,
// PyObject_Call, PyErr_SetObject, PyModule_AddObjectRef, ...; see
// capi_boundary_checks.cc for the list and why). libpython resolves them
// through the PLT too, so each definition first asks who called: only calls
// from outside CPython and interpsan, i.e. from extensions, are checked;
// CPython's own calls go straight through. A checked call verifies that
// every object argument is immortal or owned by the calling interpreter,
// then forwards to libpython.
//
// A foreign callable (function, code object, globals) is reported as
// "cross-interpreter-call": another interpreter's code about to run here;
// any other foreign argument as "cross-interpreter-argument".
//
// Thread safety: lock-free on the fast path (two address compares for
// CPython's own calls).
#ifndef INTERPSAN_DEBUG_CAPI_BOUNDARY_CHECKS_H_
#define INTERPSAN_DEBUG_CAPI_BOUNDARY_CHECKS_H_

#include <cstdint>

typedef struct _object PyObject;

namespace interpsan {

// Finds the code ranges of libpython and of interpsan itself. Call once
// before Py_Initialize (InstallChecks does).
void InitCallerRanges();

// Code ranges of libpython and interpsan (filled by InitCallerRanges).
struct CodeRange {
  uintptr_t start = 0, end = 0;
};
constexpr int kMaxCodeRanges = 8;
extern CodeRange g_code_ranges[kMaxCodeRanges];
extern int g_code_range_count;
// True once InitCallerRanges ran and the capi check is on.
extern bool g_capi_active;

// True if `return_address` lies in an extension (not libpython, not
// interpsan). Inline: every interposed call asks.
inline bool CalledFromExtension(const void* return_address) {
  uintptr_t a = reinterpret_cast<uintptr_t>(return_address);
  for (int i = 0; i < g_code_range_count; i++) {
    if (a >= g_code_ranges[i].start && a < g_code_ranges[i].end) return false;
  }
  return true;
}

// Checks one argument of `function` (argument number `index`, 1-based).
// Defined next to the interposed functions, its only callers.
void CheckCapiArgument(const char* function, int index, PyObject* arg,
                       bool is_callable);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_CAPI_BOUNDARY_CHECKS_H_
