// own_gil_interpreter.h: the one configuration interpsan checks programs
// in: an interpreter with its own GIL and obmalloc state (PEP 684),
// multi-phase extensions only (the strict check), threads but no daemon
// threads, no fork or exec. The runner, the dump benchmark and the unit
// tests create their interpreters here, so they cannot drift apart.
//
// Thread safety: call on a thread with no current thread state (after
// PyEval_SaveThread, or a new thread), as Py_NewInterpreterFromConfig
// requires; the new interpreter is current on that thread on return. Not
// async-signal-safe.
#ifndef INTERPSAN_RUNTIME_OWN_GIL_INTERPRETER_H_
#define INTERPSAN_RUNTIME_OWN_GIL_INTERPRETER_H_

#include <string>

typedef struct _ts PyThreadState;

namespace interpsan {

// Returns the new interpreter's thread state, or nullptr with *error (if
// given) set to CPython's reason.
PyThreadState* NewOwnGilInterpreter(std::string* error);

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_OWN_GIL_INTERPRETER_H_
