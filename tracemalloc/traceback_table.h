// traceback_table.h: tracemalloc's interned frames and tracebacks.
//
// A trace is (interpreter slot, tracing generation, domain, stack depth,
// frames); it is interned once into a 32-bit id that the block's owner
// record keeps. Per trace id, live bytes and blocks are counted, which is
// all statistics, snapshots and leak reports need: nothing walks the heap.
//
//   allocation ──> positions of the innermost N frames (code*, instr)
//                   │  + the stack's depth (the recursion counter)
//                   │
//                   ├─ N <= 2: frames read inline (frame_layout.h); the
//                   │  instruction pointers + the rest of the key ──>
//                   │  thread-local position cache ──> trace id (one line)
//                   ├─ N > 2: same as this thread's last trace? ──> its id
//                   v  miss
//                 frame ids ──> thread-local cache ──> trace id
//                   │ miss       (whole key inline)      │ miss
//                   v                                    v
//                 global frame table (mutex)        global trace table (mutex)
//
// The frame cache is keyed by code address tagged with the code epoch (a
// code object died: old entries stop matching); position-cache entries
// hold for one code epoch. A frame-cache miss finds its line through a
// per-thread cursor in the code object's line table (frame_layout.h). Trace ids
// come in per-interpreter blocks that fill one cache line of counters, so two
// interpreters never write the same line.
//
// Frames copy their file and function names into interpsan's own storage,
// so an ended interpreter's strings are never read again.
//
// Thread safety: TraceCurrent takes no lock when the position cache, the
// memo or both other caches hit (the steady state); misses take one mutex.
// Readers (Frame, Get, Stats) are lock-free: tables are append-only chunked
// arrays that never move, and a record is published by a release store of its
// frames.
#ifndef INTERPSAN_TRACEMALLOC_TRACEBACK_TABLE_H_
#define INTERPSAN_TRACEMALLOC_TRACEBACK_TABLE_H_

#include <atomic>
#include <cstdint>

#include "runtime/current_thread_state.h"
#include "runtime/interpreter_registry.h"
#include "runtime/owner_record.h"
#include "runtime/python_shim.h"

namespace interpsan {

constexpr int kMaxTraceFrames = 128;
using FrameId = uint32_t;
using TraceId = uint32_t;  // 0: not traced

struct TraceRecord {
  OwnerSlot slot;
  uint16_t generation;  // the slot's tracing generation (clear_traces)
  Domain domain;
  uint16_t nframes;
  // The stack's whole depth when the block was allocated (stock
  // tracemalloc's total_nframe); part of the trace's identity, as in stock.
  uint16_t depth;
  const FrameId* frames;  // most recent call first
};

// An interpreter's traced bytes now and at most (tracer.cc keeps one per
// interpreter slot, on its own cache line).
//
// Counters without a lock-prefixed read-modify-write: a thread running in
// the counters' own interpreter (InterpreterRegistry::OwnerIsCurrentFast
// of the slot, with a thread state) holds its GIL whenever it allocates or
// frees a mem/obj block (the C API requires it), so for those it adds with
// a plain load and store, and only raw blocks (any thread, no GIL needed)
// and blocks of another interpreter (a cross-interpreter free, which
// interpsan reports; or an answer that needs the registry's slow path)
// take atomic adds. The
// same holds for a trace's TraceStats (a trace belongs to one interpreter
// and one domain). Every access is a std::atomic operation, so nothing is
// a data race; the one imprecision is that a cross-interpreter free racing
// with the owner's own update of the same counter can lose one of them.
struct SlotCounters {
  std::atomic<int64_t> current{0};      // mem/obj blocks
  std::atomic<int64_t> raw_current{0};  // raw blocks (always atomic adds)
  std::atomic<int64_t> peak{0};         // of current + raw_current
  // The interpreter these count for (PyInterpreterState*), set by its own
  // threads' traced allocations, cleared when it ends.
  std::atomic<const void*> interp{nullptr};
};

struct TraceStats {
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> blocks{0};
};

// `a += v`: a plain load and store when the caller is the counter's only
// writer (`exclusive`), else an atomic add.
inline void AddTo(std::atomic<int64_t>& a, int64_t v, bool exclusive) {
  if (exclusive) {
    a.store(a.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
  } else {
    a.fetch_add(v, std::memory_order_relaxed);
  }
}

// True if the calling thread has a thread state and runs in `slot`'s
// interpreter (inline, no call; false whenever that takes a slow path).
inline bool RunsInSlot(OwnerSlot slot) {
  PyThreadState* tstate;
  return CurrentThreadState::TryGetFast(&tstate) && tstate != nullptr &&
         InterpreterRegistry::OwnerIsCurrentFast(slot);
}

namespace traceback_internal {
// The tables' chunk directories, for the inline readers below (defined in
// traceback_table.cc; a chunk, once published, never moves).
constexpr int kTraceChunkBits = 14;
constexpr int kMaxTraceChunks = 4096;
extern std::atomic<TraceRecord*> g_trace_chunks[kMaxTraceChunks];
extern std::atomic<TraceStats*> g_stats_chunks[kMaxTraceChunks];
extern std::atomic<uint32_t> g_trace_count;
}  // namespace traceback_internal

class TracebackTable {
 public:
  // Interns the calling thread's innermost `nframes` frames for `slot`.
  static TraceId TraceCurrent(Domain domain, OwnerSlot slot,
                              uint16_t generation, int nframes);
  // TraceCurrent for a new block of `size` bytes, counted in its trace's
  // statistics and in the interpreter's `current` (and `peak`) in the same
  // call (the allocation hook's path). 0: untraced, nothing counted.
  static TraceId TraceAlloc(Domain domain, OwnerSlot slot, uint16_t generation,
                            int nframes, size_t size, SlotCounters* counters);
  // A traced block of `size` bytes (trace `id`, of `slot`'s current
  // generation) became a new object: its trace for the current stack, the
  // bytes moved from `id`'s statistics to it if it differs.
  static TraceId Retrace(TraceId id, Domain domain, OwnerSlot slot,
                         uint16_t generation, int nframes, size_t size);

  // Interns explicit frame ids (tests, and traces with no Python frame);
  // `depth` >= nframes is the stack's whole depth.
  static TraceId Intern(Domain domain, OwnerSlot slot, uint16_t generation,
                        const FrameId* frames, int nframes, int depth);

  // For tests: the calling thread's innermost `nframes` (1 or 2) frames as
  // TraceCurrent's inline read sees them, as (code object, instruction
  // index) pairs and the stack's depth, like interpsan_shim_frame_positions
  // gives them. Returns the count, or -1 if nframes is out of range or the
  // thread has no thread state.
  static int InlinePositionsForTest(int nframes, void** codes, int* instrs,
                                    int* depth);
  // The same through the shim's walk (interpsan_shim_frame_positions), the
  // reference the inline read must match.
  static int ShimPositionsForTest(int nframes, void** codes, int* instrs,
                                  int* depth);

  // False for 0, unused or unknown ids.
  static bool Get(TraceId id, TraceRecord* out);
  static const InterpsanFrame& Frame(FrameId id);
  // Inline: on every traced allocation and free. `id` must be a trace id
  // that Intern/TraceCurrent returned (not 0).
  static TraceStats& Stats(TraceId id) {
    using namespace traceback_internal;
    return g_stats_chunks[id >> kTraceChunkBits].load(
        std::memory_order_acquire)[id & ((1u << kTraceChunkBits) - 1)];
  }
  // The record of such an id (its frames pointer is valid too: the id was
  // handed out after the record was complete).
  static const TraceRecord& Record(TraceId id) {
    using namespace traceback_internal;
    return g_trace_chunks[id >> kTraceChunkBits].load(
        std::memory_order_acquire)[id & ((1u << kTraceChunkBits) - 1)];
  }
  // Ids handed out so far are in 1..Count(); not every one is used (ids
  // come in per-interpreter blocks): Get() says which.
  static uint32_t Count() {
    return traceback_internal::g_trace_count.load(std::memory_order_acquire);
  }
  // Bytes used by the tables themselves.
  static size_t MemoryUsage();
};

}  // namespace interpsan

#endif  // INTERPSAN_TRACEMALLOC_TRACEBACK_TABLE_H_
