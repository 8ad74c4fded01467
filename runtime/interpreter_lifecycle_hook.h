// interpreter_lifecycle_hook.h: notices every interpreter that ends.
//
// Like _Py_Dealloc (dealloc_hook.h), PyInterpreterState_Delete is defined
// here and interposes libpython's: Py_EndInterpreter and Py_FinalizeEx
// reach it through the PLT. The registry then retires the interpreter's
// slot, whoever created the interpreter (the runner, `exec` mode programs,
// _interpreters), so a new interpreter that CPython happens to allocate at
// the same address never inherits the old one's identity, and listeners
// (tracemalloc's leak report) learn that the interpreter is gone.
//
// Thread safety: runs in the thread that deletes the interpreter.
#ifndef INTERPSAN_RUNTIME_INTERPRETER_LIFECYCLE_HOOK_H_
#define INTERPSAN_RUNTIME_INTERPRETER_LIFECYCLE_HOOK_H_

#include "runtime/owner_record.h"

namespace interpsan {

// Called with the slot of an interpreter that has just been deleted.
using InterpreterEndListener = void (*)(OwnerSlot slot);

// At most a few listeners; register before interpreters start.
void AddInterpreterEndListener(InterpreterEndListener listener);

// Resolves libpython's PyInterpreterState_Delete. Call before Py_Initialize.
bool InitInterpreterLifecycleHook();

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_INTERPRETER_LIFECYCLE_HOOK_H_
