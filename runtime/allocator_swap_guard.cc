// allocator_swap_guard.cc: keeps CPython 3.12 from swapping out the
// allocators under running interpreters.
//
// CPython 3.12 temporarily replaces the process-wide raw allocator with the
// default one around some configuration code (_PyConfig_Write,
// _PyPathConfig_UpdateGlobal, PySys_AddWarnOption, ...), via
// _PyMem_SetDefaultAllocator(domain, &old) ... PyMem_SetAllocator(domain,
// &old). With own-GIL interpreters running in other threads, any block they
// allocate or free inside that window crosses allocators: a block from
// plain malloc reaches interpsan's PyMem_RawFree (an invalid free), or one
// of interpsan's header blocks reaches glibc's free ("free(): invalid size").
// Observed here: about 1 run in 8 of 4 interpreters crashed that way. This
// is a real CPython isolation bug (see README, known findings); without
// interpsan it is harmless only because the two allocators happen to agree.
//
// interpsan's hooks are valid for the whole life of the process, raw domain
// included, so there is nothing to switch away from: this definition
// (exported, so it interposes libpython's, like _Py_Dealloc) reports the
// current allocator as the "old" one and leaves it installed; the later
// restore is then a no-op. CPython 3.13 no longer exports the function, so
// this definition is simply unused there.
#include <Python.h>
#include <dlfcn.h>

#include "runtime/allocator_hooks.h"

extern "C" __attribute__((visibility("default"))) int
_PyMem_SetDefaultAllocator(PyMemAllocatorDomain domain,
                           PyMemAllocatorEx* old_alloc) {
  if (interpsan::AllocatorHooks::installed()) {
    if (old_alloc != nullptr) PyMem_GetAllocator(domain, old_alloc);
    return 0;
  }
  using Fn = int (*)(PyMemAllocatorDomain, PyMemAllocatorEx*);
  static Fn real =
      reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "_PyMem_SetDefaultAllocator"));
  if (real == nullptr) return -1;
  return real(domain, old_alloc);
}
