// dealloc_hook.h: sees every deallocation in the process.
//
// The executable (linked with -rdynamic) or the LD_PRELOAD library defines
// _Py_Dealloc. libpython calls its own exported functions through the PLT
// (the pyenv builds are not -fno-semantic-interposition), so this definition
// runs for every object whose refcount drops to zero: in extensions and in
// CPython itself, and before tp_dealloc can put the object on a freelist.
// That is where a cross-interpreter deallocation is caught; at free time it
// would be too late (freelists) or never (the block is reused).
//
// Thread safety: runs under the GIL of the calling interpreter; no locks.
#ifndef INTERPSAN_RUNTIME_DEALLOC_HOOK_H_
#define INTERPSAN_RUNTIME_DEALLOC_HOOK_H_

namespace interpsan {

// Resolves CPython's real _Py_Dealloc. Call once before Py_Initialize.
// Returns false if this process's libpython cannot be interposed (then
// deallocation checks are off and the runner says so).
bool InitDeallocHook();

// True if our _Py_Dealloc is the one the process uses.
bool DeallocHookActive();

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_DEALLOC_HOOK_H_
