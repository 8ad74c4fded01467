// cross_interpreter_error.h: `interpsan.CrossInterpreterError`, the
// exception a C-API call gets when interpsan refuses to perform it.
//
// In fatal mode (the default) the first violation ends the run and nothing
// is refused. With --keep-going, a C-API call that a check found to act on
// another interpreter's object (debug/capi_boundary_checks.cc) is not
// performed: the caller gets this exception, through the function's own
// error return (NULL or -1), as if the call had failed. The type is a
// subclass of RuntimeError, created per interpreter (a heap type in each
// interpreter's `interpsan` module), so catching it never touches another
// interpreter's objects.
//
// Thread safety: call with the GIL of the current interpreter held (the
// interposed C-API function's caller holds it). Not async-signal-safe.
#ifndef INTERPSAN_DEBUG_CROSS_INTERPRETER_ERROR_H_
#define INTERPSAN_DEBUG_CROSS_INTERPRETER_ERROR_H_

#include <string>

typedef struct _object PyObject;

namespace interpsan {

// The exception's name as Python code spells it.
constexpr const char kCrossInterpreterErrorName[] =
    "interpsan.CrossInterpreterError";

// Creates CrossInterpreterError and adds it to `module` (the interpsan
// module's exec slot calls this). Returns 0, or -1 with an exception set.
int AddCrossInterpreterError(PyObject* module);

// Sets CrossInterpreterError(message) as the current exception of the
// calling interpreter, replacing any pending one. Falls back to
// RuntimeError where the interpsan module cannot be imported (an
// interpreter being finalized).
void RaiseCrossInterpreterError(const std::string& message);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_CROSS_INTERPRETER_ERROR_H_
