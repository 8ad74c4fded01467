// capi_boundary_checks.h: checks at the C-API boundary, without rebuilding.
//
// The process (runner executable or preload library) defines the C-API
// functions that extensions lean on most (PyList_Append, PyDict_SetItem,
// PyObject_Call, PyErr_SetObject, PyModule_AddObjectRef, ...: the list,
// one line a function, and why each refusal is right, is
// capi_wrapped_functions.inc; capi_boundary_checks.cc generates the
// definitions from it). libpython resolves them through the PLT too, so
// each definition first asks who called: only calls from outside CPython
// and interpsan, i.e. from extensions, are checked; CPython's own calls go
// straight through. A checked call verifies that every object argument is
// immortal or owned by the calling interpreter, then forwards to
// libpython. "Who called" is the return address: an extension that reaches
// a wrapped function by a tail call (a jump) is taken for its own caller,
// usually libpython, and that call is not checked.
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
// Thread safety: lock-free on the fast path (a load and two address
// compares for CPython's own calls; for an extension's, an owner lookup
// per object argument and one of the calling interpreter). Not
// async-signal-safe (neither is the C API).
#ifndef INTERPSAN_DEBUG_CAPI_BOUNDARY_CHECKS_H_
#define INTERPSAN_DEBUG_CAPI_BOUNDARY_CHECKS_H_

namespace interpsan {

// Finds the code ranges of libpython and of interpsan itself, which tell
// CPython's own calls from extensions'. Call once before Py_Initialize,
// after the enabled checks are set (process_setup.cc does).
void InitCallerRanges();

// What a refused call does instead (only with --keep-going); each function
// of capi_wrapped_functions.inc names one.
enum class Refusal {
  kRaise,     // set CrossInterpreterError; the caller returns the error value
  kAnswerNo,  // no exception (the function reports none): "not found"
  kImmortalize,  // no exception; the object becomes immortal (refcounting)
};

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_CAPI_BOUNDARY_CHECKS_H_
