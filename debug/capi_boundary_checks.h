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
// In fatal mode the report ends the run. With --keep-going a reported call
// is refused, never performed on the foreign object (README, "What
// --keep-going does"): functions with an error return return it with
// interpsan.CrossInterpreterError set (debug/cross_interpreter_error.h);
// lookups that cannot fail (PyDict_GetItem, PyCapsule_IsValid) answer
// "not found"/"not valid"; Py_IncRef/Py_DecRef make the object immortal.
// A suppressed violation is not refused.
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

// What a refused call does instead (only with --keep-going).
enum class Refusal {
  kRaise,     // set CrossInterpreterError; the caller returns the error value
  kAnswerNo,  // no exception (the function reports none): "not found"
  kImmortalize,  // no exception; the object becomes immortal (refcounting)
};

// Checks one argument of `function` (argument number `index`, 1-based).
// Returns true if the call must not be performed: a violation was reported
// (or repeated) and the run goes on; `refusal` says what has been done
// instead. Defined next to the interposed functions, its only callers.
bool CheckCapiArgument(const char* function, int index, PyObject* arg,
                       bool is_callable, Refusal refusal = Refusal::kRaise);

// Drops the reference a refused PyList_SetItem/PyTuple_SetItem stole, as
// the real functions do on failure, unless `item` is another
// interpreter's (then it is leaked: dropping it would be one more
// cross-interpreter refcount change).
void ReleaseStolenReference(PyObject* item);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_CAPI_BOUNDARY_CHECKS_H_
