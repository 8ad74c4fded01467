// new_reference_hook.h: sees every object that starts a life.
//
// Like dealloc_hook, the executable (-rdynamic) or the LD_PRELOAD library
// defines _Py_NewReference, which libpython calls through the PLT for every
// new object: fresh ones, and ones reused from a freelist without any
// allocation. Stock tracemalloc retraces the latter there
// (_PyTraceMalloc_NewReference); so does interpsan's tracemalloc, through
// AllocatorHooks::RetraceBlock. With tracing off the hook costs one load.
//
// Thread safety: runs on the thread creating the object; no locks.
#ifndef INTERPSAN_RUNTIME_NEW_REFERENCE_HOOK_H_
#define INTERPSAN_RUNTIME_NEW_REFERENCE_HOOK_H_

namespace interpsan {

// Resolves CPython's real _Py_NewReference. Call once before Py_Initialize.
bool InitNewReferenceHook();

// True if our _Py_NewReference is the one the process uses.
bool NewReferenceHookActive();

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_NEW_REFERENCE_HOOK_H_
