// allocator_hooks.h: interpsan's PEP 445 hooks on the raw, mem and obj
// domains. One hook serves every client (checks now, tracemalloc later), so
// nothing is stacked twice.
//
// Routing (see owner_record.h for the two kinds of owner record):
//
//   domain  request           block comes from           owner record
//   ------  ----------------  -------------------------  -------------------
//   obj     1..512 bytes      pymalloc (per interpreter)  arena map
//   mem     1..512 bytes      pymalloc (per interpreter)  arena map + mem bit
//   obj     0 or > 512 bytes  malloc + header             header
//   mem     0 or > 512 bytes  malloc + header             header
//   raw     any               malloc + header             header
//
// mem and obj share pymalloc as in stock CPython (no header, no malloc
// call for most PyMem_Malloc buffers). Which domain a small block came from
// is one bit per 16 bytes of its arena (arena_map.h), kept while the free
// or domain check is on: so PyMem_Free on a PyObject_Malloc block (and vice
// versa) is still told apart exactly, and a second PyMem_Free of a small
// block is told from a wrong-domain one by pymalloc's own pool state.
//
// Install() must run before Py_Initialize (or from an LD_PRELOAD
// constructor). Thread safety: the hooks take no lock; see anomaly.h for
// what they call on a mismatch.
#ifndef INTERPSAN_RUNTIME_ALLOCATOR_HOOKS_H_
#define INTERPSAN_RUNTIME_ALLOCATOR_HOOKS_H_

#include <cstddef>
#include <cstdint>

#include "runtime/python_shim.h"

namespace interpsan {

class AllocatorHooks {
 public:
  // Wraps CPython's current allocators; `checks` are CheckBits.
  static void Install(uint32_t checks);
  static bool installed();

  // Puts the hooks back if CPython has replaced them with its defaults.
  // A second Py_Initialize after Py_Finalize resets the whole runtime state,
  // allocators included, from its static initializer (_PyRuntimeState_Init's
  // memcpy); runtime_reinit_guard.cc calls this right after that reset,
  // before the new runtime allocates. The defaults are the very allocators
  // the hooks wrap, so the blocks of both runtimes stay consistent.
  // Returns true if it reinstalled them.
  static bool ReinstallIfReset();

  // Usable size of a block from any domain, or 0 if unknown.
  static size_t BlockSize(const void* p);

  // A live block starts a new life as an object without being allocated
  // (_Py_NewReference on a freelist entry): if it is traced, trace it again
  // with the current stack, as stock tracemalloc does. Call only while
  // g_tracing; cheap for a block the calling thread just allocated.
  static void RetraceBlock(const void* p);

  // RetraceBlock(p) for a block that TakeLastTraced(p) refused, then
  // then(op) as a tail call: _Py_NewReference's retrace and its call of
  // CPython's own in one stack frame.
  static void RetraceBlockThen(const void* p, void (*then)(PyObject*),
                               PyObject* op);

  // RetraceBlock's common case, inline (for every new object while
  // tracing): true if `p` is the block the calling thread traced last, which
  // needs no retrace (it is then forgotten); false if RetraceBlock must run.
  static inline bool TakeLastTraced(const void* p) {
    if (p != last_traced) return false;
    last_traced = nullptr;
    return true;
  }

  // The block this thread traced last. An object's _Py_NewReference
  // follows its allocation on the same thread with the same Python stack,
  // so a block equal to this one already has the right trace: only blocks
  // reused from freelists need RetraceBlock's stack walk. Written only by
  // the hooks (allocator_hooks.cc); inline with a constant initializer, so
  // no TLS wrapper call.
  static inline thread_local const void* last_traced = nullptr;

  // The trace id recorded for a live block (0 if untraced or unknown).
  static uint32_t TraceIdOf(const void* p);
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_ALLOCATOR_HOOKS_H_
