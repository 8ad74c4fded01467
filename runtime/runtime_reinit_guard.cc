// runtime_reinit_guard.cc: keeps the allocator hooks across a second
// Py_Initialize in the same process (embedders, pybind11's embedding tests).
//
// Py_Finalize leaves the runtime "initialised"; the next Py_Initialize
// resets _PyRuntime wholesale from its static initializer
// (_PyRuntimeState_Init: `memcpy(runtime, &initial, sizeof(*runtime))`,
// Python/pystate.c in 3.12.1 and 3.13.0). That drops interpsan's PEP 445
// hooks and arena allocator: the new runtime would allocate with plain
// malloc and pymalloc and free the previous runtime's header blocks with
// them (3.12.1: SIGSEGV in free() from _PyPathConfig_UpdateGlobal).
//
// The first call _PyRuntimeState_Init makes after that reset that goes
// through the PLT on both versions is
// PyPreConfig_InitPythonConfig(&runtime->preconfig), before the new runtime
// allocates anything. This definition (exported, so it interposes
// libpython's, like _Py_Dealloc) recognises that call by its argument and
// puts the hooks back. Any other caller (an embedder filling its own
// PyPreConfig) passes through untouched.
//
// Thread safety: runs where CPython calls it, single-threaded during
// runtime initialisation.
#include <Python.h>

#include <atomic>

#include "runtime/allocator_hooks.h"
#include "runtime/python_shim.h"
#include "runtime/symbol_interposition.h"

namespace {

using InitPreConfigFn = void (*)(PyPreConfig*);
std::atomic<InitPreConfigFn> g_real_init_preconfig{nullptr};

}  // namespace

extern "C" __attribute__((visibility("default"))) void
PyPreConfig_InitPythonConfig(PyPreConfig* config) {
  if (!interpsan::ResolveNext(&g_real_init_preconfig,
                              "PyPreConfig_InitPythonConfig")) {
    return;  // cannot happen in a process that links libpython
  }
  g_real_init_preconfig.load(std::memory_order_acquire)(config);
  if (config == interpsan_shim_runtime_preconfig()) {
    interpsan::AllocatorHooks::ReinstallIfReset();
  }
}
