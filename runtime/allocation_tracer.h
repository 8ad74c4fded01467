// allocation_tracer.h: the allocator hooks' second client (after the
// checks): tracemalloc. The hooks call these on every traced block; the
// tracemalloc package installs the implementation. Keeping it behind two
// function pointers keeps runtime/ free of tracemalloc's tables, and keeps
// one hook layer serving both clients (no second PyMem_SetAllocator layer).
//
// Trace ids: 0 means "not traced". A traced block's id is stored in its
// owner record: the header's trace_id field, or for pymalloc small blocks
// the per-arena side table (small_block_traces.h).
//
// Thread safety: the callbacks run on the allocating/freeing thread, with
// that interpreter's GIL for the mem/obj domains and possibly without any
// for raw. They must not allocate from the Python allocators.
#ifndef INTERPSAN_RUNTIME_ALLOCATION_TRACER_H_
#define INTERPSAN_RUNTIME_ALLOCATION_TRACER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "runtime/owner_record.h"
#include "runtime/python_shim.h"

namespace interpsan {

struct AllocationTracer {
  // A new block of `size` bytes for interpreter `slot`: returns its trace id
  // (0 to leave it untraced).
  uint32_t (*on_alloc)(Domain domain, OwnerSlot slot, size_t size);
  // A traced block of `size` bytes is gone.
  void (*on_free)(uint32_t trace_id, size_t size);
  // A traced block became a new object without a new allocation (a freelist
  // reused it): returns its trace id for the current stack (`trace_id` if
  // unchanged), moving the block's bytes between the two traces.
  uint32_t (*on_retrace)(uint32_t trace_id, size_t size);
  // The frames of a trace, most recent call first, for reports (the
  // allocation side of a violation). May be null.
  int (*frames)(uint32_t trace_id, InterpsanFrame* out, int max);
};

// True while any interpreter traces: the hooks' only cost when off is this
// load.
extern std::atomic<bool> g_tracing;
// True once tracing has ever been on: frees must then look for trace ids.
extern std::atomic<bool> g_traced_ever;
extern AllocationTracer g_tracer;

void InstallAllocationTracer(const AllocationTracer& tracer);

// Bumped whenever a code object is deallocated (by the _Py_Dealloc hook):
// caches keyed by code object addresses must then be dropped.
extern std::atomic<uint32_t> g_code_epoch;

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_ALLOCATION_TRACER_H_
