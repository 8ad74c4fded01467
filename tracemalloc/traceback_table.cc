#include "tracemalloc/traceback_table.h"

#include <Python.h>  // PyCode_Type

#include <cstring>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>

#include "runtime/allocation_tracer.h"
#include "runtime/current_thread_state.h"
#include "runtime/interpreter_registry.h"
#include "tracemalloc/frame_layout.h"

namespace interpsan {

namespace traceback_internal {
std::atomic<TraceRecord*> g_trace_chunks[kMaxTraceChunks];
std::atomic<TraceStats*> g_stats_chunks[kMaxTraceChunks];
// Highest trace id reserved; ids in 1..count without a record are unused.
std::atomic<uint32_t> g_trace_count{0};
}  // namespace traceback_internal

namespace {

// ---- append-only chunked storage
// ---------------------------------------------

template <typename T, int kChunkBits, int kMaxChunks>
class ChunkedArray {
 public:
  static constexpr uint32_t kChunk = 1u << kChunkBits;
  // `chunks`: the directory, kMaxChunks pointers (zero-initialised static
  // storage; some are declared in the header for inline readers).
  explicit constexpr ChunkedArray(std::atomic<T*>* chunks) : chunks_(chunks) {}
  // Lock-free; `index` must have been made available by Reserve.
  T& at(uint32_t index) {
    return chunks_[index >> kChunkBits].load(
        std::memory_order_acquire)[index & (kChunk - 1)];
  }
  // Caller holds the table mutex. Returns false when full.
  bool Reserve(uint32_t index) {
    uint32_t chunk = index >> kChunkBits;
    if (chunk >= static_cast<uint32_t>(kMaxChunks)) return false;
    if (chunks_[chunk].load(std::memory_order_relaxed) == nullptr) {
      // Cache-line aligned, so that a line of elements is a line of memory.
      chunks_[chunk].store(new (std::align_val_t{64}) T[kChunk](),
                           std::memory_order_release);
      bytes_ += sizeof(T) * kChunk;
    }
    return true;
  }
  size_t bytes() const { return bytes_; }

 private:
  std::atomic<T*>* const chunks_;
  size_t bytes_ = 0;
};

using traceback_internal::g_trace_count;
using traceback_internal::kMaxTraceChunks;
using traceback_internal::kTraceChunkBits;

std::mutex g_mu;  // guards the maps and appends below
std::atomic<InterpsanFrame*> g_frame_chunks[4096];
ChunkedArray<InterpsanFrame, 12, 4096> g_frames(g_frame_chunks);  // 16M frames
ChunkedArray<TraceRecord, kTraceChunkBits, kMaxTraceChunks> g_traces(
    traceback_internal::g_trace_chunks);  // up to 64M traces
ChunkedArray<TraceStats, kTraceChunkBits, kMaxTraceChunks> g_stats(
    traceback_internal::g_stats_chunks);
std::atomic<uint32_t> g_frame_count{0};  // ids 0..count-1
std::unordered_map<std::string, FrameId>* g_frame_ids = nullptr;
std::unordered_map<std::string, TraceId>* g_trace_ids = nullptr;

// Trace ids are handed out to each interpreter slot in blocks that fill
// exactly one cache line of g_stats: the counters bumped on every traced
// allocation and free of one interpreter never share a line with another
// interpreter's (false sharing would make own-GIL interpreters contend).
constexpr uint32_t kIdsPerBlock = 64 / sizeof(TraceStats);
static_assert(kIdsPerBlock * sizeof(TraceStats) == 64,
              "a block is one cache line");
struct IdBlock {
  TraceId next = 0;
  TraceId end = 0;
};
std::unordered_map<OwnerSlot, IdBlock>* g_id_blocks = nullptr;

// The next free id of `slot`'s block, starting a block if needed (0 when
// the tables are full). Caller holds g_mu.
TraceId NextTraceId(OwnerSlot slot) {
  if (g_id_blocks == nullptr)
    g_id_blocks = new std::unordered_map<OwnerSlot, IdBlock>();
  IdBlock& block = (*g_id_blocks)[slot];
  if (block.next == block.end) {
    uint32_t count = g_trace_count.load(std::memory_order_relaxed);
    TraceId first =
        (count / kIdsPerBlock + 1) * kIdsPerBlock;  // id 0 stays unused
    if (!g_traces.Reserve(first) || !g_stats.Reserve(first)) return 0;
    block.next = first;
    block.end = first + kIdsPerBlock;
    g_trace_count.store(block.end - 1, std::memory_order_release);
  }
  return block.next++;
}
size_t g_frame_storage = 0;

// ---- thread-local caches
// -------------------------------------------------------

constexpr int kFrameCacheSize = 4096;  // power of two
constexpr int kTraceCacheSize = 4096;

// Keyed by the code object's address tagged with the low 16 bits of the
// code epoch (user addresses fit in 48 bits): a dead code object's entries
// stop matching without clearing 64 KiB each time one dies (thousands do
// while an interpreter shuts down). The table is cleared only when the
// epoch's upper bits change, so a tag can never come back.
struct FrameCacheEntry {
  uint64_t tagged_code;
  int instr;
  FrameId id;
};

inline uint64_t TagCode(const void* code, uint32_t epoch) {
  return reinterpret_cast<uintptr_t>(code) |
         (static_cast<uint64_t>(epoch & 0xFFFF) << 48);
}
// Everything but the frames of a trace's identity in one word, so that
// caches compare it at once: slot 16 | generation 16 | depth 16 |
// frame count 8 (<= kMaxTraceFrames) | domain 8.
inline uint64_t PackTraceHeader(OwnerSlot slot, uint16_t generation,
                                uint16_t depth, int nframes, Domain domain) {
  return static_cast<uint64_t>(slot) | static_cast<uint64_t>(generation) << 16 |
         static_cast<uint64_t>(depth) << 32 |
         static_cast<uint64_t>(static_cast<uint8_t>(nframes)) << 48 |
         static_cast<uint64_t>(domain) << 56;
}
static_assert(kMaxTraceFrames < 256, "frame count packs into 8 bits");

// The whole key of traces of up to kInlineFrames frames (the common
// limits are 1 and a few), so that a hit reads one cache line: the trace
// record and its frame array are only read to compare deeper frames.
constexpr int kInlineFrames = 5;
struct TraceCacheEntry {
  uint64_t header;  // PackTraceHeader
  TraceId id;       // 0: empty
  FrameId frames[kInlineFrames];
};
static_assert(sizeof(TraceCacheEntry) == 32, "two entries per cache line");

// The inputs and result of this thread's last TraceCurrent. Allocations
// come in runs from one Python position (everything json.loads() builds
// has the same stack), so many calls end here: same positions, same
// depth, same trace, without a frame lookup or a hash. Only for up to
// kMemoFrames frames (copying more on every miss would cost more than it
// saves).
constexpr int kMemoFrames = 8;
struct LastTrace {
  uint64_t header;  // PackTraceHeader
  uint32_t code_epoch;
  TraceId id;  // 0: empty
  void* codes[kMemoFrames];
  int instrs[kMemoFrames];
};

// Traces of up to kPositionFrames frames (the default limit, 1, and 2)
// skip the frame ids: (header, positions) -> trace id, one entry in one
// line, no frame-id lookups, no second hash. A position is the code
// object's address with the instruction index in the top 16 bits (user
// addresses fit in 48 bits; a position that does not fit goes the
// frame-id way). An entry holds for one code epoch: once any code object
// has died, its address may come back as another code object's.
constexpr int kPositionFrames = 2;
constexpr int kPositionCacheSize = 4096;  // power of two
struct PositionCacheEntry {
  uint64_t header;                      // PackTraceHeader
  uint64_t positions[kPositionFrames];  // unused: 0
  uint32_t code_epoch;
  TraceId id;  // 0: empty
};
static_assert(sizeof(PositionCacheEntry) == 32, "two entries per cache line");

struct ThreadCaches {
  uint32_t code_epoch = 0;
  // Line lookups of frame-cache misses; emptied with the frame cache when
  // the code epoch moves.
  InterpsanLineCursor line_cursor;
  LastTrace last;
  alignas(64) PositionCacheEntry positions[kPositionCacheSize];
  alignas(64) FrameCacheEntry frames[kFrameCacheSize];
  alignas(64) TraceCacheEntry traces[kTraceCacheSize];
};
// The caches of the calling thread: null until first used, then owned by
// t_caches_owner, whose destructor frees them when the thread exits (a
// program that starts thousands of threads must not keep 320 KiB for each).
// Allocations can still be traced after that, while the thread's state is
// torn down: they then go uncached (kCachesGone).
ThreadCaches* const kCachesGone = reinterpret_cast<ThreadCaches*>(1);
thread_local ThreadCaches* t_caches = nullptr;

struct ThreadCachesOwner {
  bool active = false;
  ~ThreadCachesOwner() {
    if (t_caches != kCachesGone) free(t_caches);
    t_caches = kCachesGone;
  }
};
// Touched only when a thread's caches are created: a thread_local with a
// destructor costs a guard check on every access.
thread_local ThreadCachesOwner t_caches_owner;

__attribute__((noinline)) ThreadCaches* CreateCaches() {
  if (t_caches == kCachesGone) return nullptr;
  // glibc, not a Python allocator. Aligned: no entry straddles two lines.
  auto* c = static_cast<ThreadCaches*>(aligned_alloc(64, sizeof(ThreadCaches)));
  if (c == nullptr) return nullptr;
  memset(static_cast<void*>(c), 0, sizeof(ThreadCaches));
  t_caches = c;
  t_caches_owner.active = true;  // registers the destructor for this thread
  return c;
}

// The calling thread's caches, or null (the thread is exiting, or out of
// memory): callers then use the tables' locked slow paths.
inline ThreadCaches* Caches() {
  ThreadCaches* c = t_caches;
  if (__builtin_expect(reinterpret_cast<uintptr_t>(c) > 1, 1)) return c;
  return CreateCaches();
}

inline uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

__attribute__((noinline, cold)) FrameId InternFrameSlow(
    void* code, int instr, InterpsanLineCursor* cursor) {
  InterpsanFrame frame;
  // Names only (a negative position is the first line: no table walk),
  // then the line through the cursor.
  interpsan_shim_resolve_position(code, -1, &frame);
  InterpsanLineCursor local = {};
  frame.lineno =
      interpsan_tm_code_line(code, instr, cursor != nullptr ? cursor : &local);
  std::string key = frame.filename;
  key.push_back('\0');
  key += frame.name;
  key.push_back('\0');
  key += std::to_string(frame.lineno);
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_frame_ids == nullptr)
    g_frame_ids = new std::unordered_map<std::string, FrameId>();
  auto it = g_frame_ids->find(key);
  if (it != g_frame_ids->end()) return it->second;
  FrameId id = g_frame_count.load(std::memory_order_relaxed);
  if (!g_frames.Reserve(id)) return 0;
  g_frames.at(id) = frame;
  g_frame_count.store(id + 1, std::memory_order_release);
  (*g_frame_ids)[key] = id;
  g_frame_storage += key.size() + 64;
  return id;
}

inline FrameId FrameOf(ThreadCaches* c, void* code, int instr) {
  uint64_t h =
      Mix(reinterpret_cast<uintptr_t>(code) >> 4, static_cast<uint64_t>(instr));
  FrameCacheEntry& e = c->frames[h & (kFrameCacheSize - 1)];
  uint64_t tagged = TagCode(code, c->code_epoch);
  if (__builtin_expect(e.tagged_code == tagged && e.instr == instr, 1))
    return e.id;
  FrameId id = InternFrameSlow(code, instr, &c->line_cursor);
  e.tagged_code = tagged;
  e.instr = instr;
  e.id = id;
  return id;
}

__attribute__((noinline)) TraceId InternSlow(Domain domain, OwnerSlot slot,
                                             uint16_t generation,
                                             const FrameId* frames, int n,
                                             uint16_t depth) {
  std::string key(reinterpret_cast<const char*>(frames), n * sizeof(FrameId));
  key.push_back(static_cast<char>(domain));
  key.append(reinterpret_cast<const char*>(&slot), sizeof(slot));
  key.append(reinterpret_cast<const char*>(&generation), sizeof(generation));
  key.append(reinterpret_cast<const char*>(&depth), sizeof(depth));
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_trace_ids == nullptr)
    g_trace_ids = new std::unordered_map<std::string, TraceId>();
  auto it = g_trace_ids->find(key);
  if (it != g_trace_ids->end()) return it->second;
  TraceId id = NextTraceId(slot);
  if (id == 0) return 0;
  FrameId* copy = new FrameId[n > 0 ? n : 1];
  memcpy(copy, frames, n * sizeof(FrameId));
  g_frame_storage += n * sizeof(FrameId) + key.size() + 64;
  TraceRecord& r = g_traces.at(id);
  r.slot = slot;
  r.generation = generation;
  r.domain = domain;
  r.nframes = static_cast<uint16_t>(n);
  r.depth = depth;
  // Published last: readers that walk every id (ForEachLiveTrace) take a
  // record without frames for an unused id.
  __atomic_store_n(&r.frames, copy, __ATOMIC_RELEASE);
  (*g_trace_ids)[key] = id;
  return id;
}

}  // namespace

namespace {

inline uint16_t ClampDepth(int depth, int nframes) {
  return static_cast<uint16_t>(
      depth < nframes ? nframes : (depth > 65535 ? 65535 : depth));
}

// Multiply-xor over the key; the cache index is taken from the top bits,
// which every input bit reaches.
inline uint32_t TraceCacheIndex(uint64_t header, const FrameId* frames,
                                int nframes) {
  uint64_t h = header * 0x9e3779b97f4a7c15ull;
  for (int i = 0; i < nframes; i++) h = (h ^ frames[i]) * 0xff51afd7ed558ccdull;
  static_assert(kTraceCacheSize == 1 << 12, "index is 12 bits");
  return static_cast<uint32_t>(h >> 52);
}

__attribute__((always_inline)) inline TraceId InternPacked(
    ThreadCaches* c, uint64_t header, Domain domain, OwnerSlot slot,
    uint16_t generation, const FrameId* frames, int nframes, uint16_t depth) {
  if (__builtin_expect(c == nullptr, 0)) {
    return InternSlow(domain, slot, generation, frames, nframes, depth);
  }
  TraceCacheEntry& e = c->traces[TraceCacheIndex(header, frames, nframes)];
  if (__builtin_expect(e.header == header && e.id != 0, 1)) {
    int inline_n = nframes < kInlineFrames ? nframes : kInlineFrames;
    bool same = true;
    for (int i = 0; i < inline_n; i++) same &= e.frames[i] == frames[i];
    if (same && nframes > kInlineFrames) {
      const TraceRecord& r = g_traces.at(e.id);
      for (int i = kInlineFrames; i < nframes; i++) {
        if (r.frames[i] != frames[i]) {
          same = false;
          break;
        }
      }
    }
    if (__builtin_expect(same, 1)) return e.id;
  }
  TraceId id = InternSlow(domain, slot, generation, frames, nframes, depth);
  e.header = header;
  e.id = id;
  for (int i = 0; i < nframes && i < kInlineFrames; i++)
    e.frames[i] = frames[i];
  return id;
}

}  // namespace

TraceId TracebackTable::Intern(Domain domain, OwnerSlot slot,
                               uint16_t generation, const FrameId* frames,
                               int nframes, int depth) {
  uint16_t total = ClampDepth(depth, nframes);
  return InternPacked(Caches(),
                      PackTraceHeader(slot, generation, total, nframes, domain),
                      domain, slot, generation, frames, nframes, total);
}

namespace {

// One multiply: its top bits depend on every bit below them (the
// positions' low bits: the instruction; the header's: slot, depth, ...).
inline uint32_t PositionIndex(uint64_t header, uint64_t p0, uint64_t p1) {
  uint64_t h =
      ((p0 ^ header) + p1 * 0x9e3779b97f4a7c15ull) * 0xff51afd7ed558ccdull;
  static_assert(kPositionCacheSize == 1 << 12, "index is 12 bits");
  return static_cast<uint32_t>(h >> 52);
}

// Positions -> frame ids -> trace id, through the frame and trace caches.
TraceId TraceByFrames(ThreadCaches* c, uint32_t epoch, uint64_t header,
                      Domain domain, OwnerSlot slot, uint16_t generation,
                      void* const* codes, const int* instrs, int n,
                      uint16_t total) {
  if (__builtin_expect(c->code_epoch != epoch, 0)) {
    if ((c->code_epoch >> 16) != (epoch >> 16))
      memset(c->frames, 0, sizeof(c->frames));
    c->code_epoch = epoch;
    c->line_cursor.code = nullptr;  // its code object may be gone
  }
  FrameId ids[kMaxTraceFrames];
  ids[0] = 0;  // (n may be 0)
  for (int i = 0; i < n; i++) ids[i] = FrameOf(c, codes[i], instrs[i]);
  return InternPacked(c, header, domain, slot, generation, ids, n, total);
}

}  // namespace

namespace {

template <typename T>
inline T Field(const char* base, ptrdiff_t offset) {
  T value;
  memcpy(&value, base + offset, sizeof(T));
  return value;
}

// The innermost `max` complete Python frames of `tstate`: their
// instruction pointers (unique while the code object lives) and code
// objects, most recent first; *depth as interpsan_shim_frame_positions
// gives it (the same frames skipped, the same clamping to [n, 65535]).
// Offsets: frame_layout.h.
__attribute__((always_inline)) inline int WalkFrames(const char* tstate,
                                                     const char** instrs,
                                                     const char** codes,
                                                     int max, int* depth) {
  const char* frame = Field<const char*>(tstate, INTERPSAN_TM_TSTATE_FRAME);
  if (INTERPSAN_TM_CFRAME_FRAME >= 0 && frame != nullptr) {
    frame = Field<const char*>(frame, INTERPSAN_TM_CFRAME_FRAME);
  }
  int n = 0;
  int skipped = 0;
  for (; frame != nullptr && n < max;
       frame = Field<const char*>(frame, INTERPSAN_TM_FRAME_PREVIOUS)) {
    char owner = Field<char>(frame, INTERPSAN_TM_FRAME_OWNER);
    if (owner == INTERPSAN_TM_OWNED_BY_CSTACK) continue;
    const char* code = Field<const char*>(frame, INTERPSAN_TM_FRAME_CODE);
    if (code == nullptr ||
        Field<const void*>(code, INTERPSAN_TM_OBJECT_TYPE) != &PyCode_Type) {
      continue;
    }
    const char* instr = Field<const char*>(frame, INTERPSAN_TM_FRAME_INSTR);
    if (owner != INTERPSAN_TM_OWNED_BY_GENERATOR &&
        instr < code + INTERPSAN_TM_CODE_BYTECODE +
                    2 * static_cast<ptrdiff_t>(Field<int>(
                            code, INTERPSAN_TM_CODE_FIRSTTRACEABLE))) {
      skipped++;  // incomplete: not yet at its first traceable instruction
      continue;
    }
    instrs[n] = instr;
    codes[n] = code;
    n++;
  }
  int total = Field<int>(tstate, INTERPSAN_TM_TSTATE_RECURSION_LIMIT) -
              Field<int>(tstate, INTERPSAN_TM_TSTATE_RECURSION_REMAINING) -
              skipped;
  *depth = total < n ? n : (total > 65535 ? 65535 : total);
  return n;
}

// The innermost frames of a position-cache key: instruction pointers
// (the key) and their code objects (to resolve them on a miss).
struct FramePair {
  const char* instrs[kPositionFrames];
  const char* codes[kPositionFrames];
};

// A position-cache miss: through the frame ids, then remember the answer.
// Everything else of the key is in `header` (PackTraceHeader).
__attribute__((noinline)) TraceId PositionMiss(ThreadCaches* c,
                                               PositionCacheEntry* e,
                                               uint64_t header, uint32_t epoch,
                                               const FramePair* f) {
  OwnerSlot slot = static_cast<OwnerSlot>(header & 0xFFFF);
  uint16_t generation = static_cast<uint16_t>(header >> 16);
  uint16_t total = static_cast<uint16_t>(header >> 32);
  int n = static_cast<int>((header >> 48) & 0xFF);
  Domain domain = static_cast<Domain>(header >> 56);
  void* codes[kPositionFrames] = {};
  int instrs[kPositionFrames] = {};
  for (int i = 0; i < n; i++) {
    codes[i] = const_cast<char*>(f->codes[i]);
    instrs[i] = static_cast<int>(
        (f->instrs[i] - (f->codes[i] + INTERPSAN_TM_CODE_BYTECODE)) / 2);
  }
  TraceId id = TraceByFrames(c, epoch, header, domain, slot, generation, codes,
                             instrs, n, total);
  e->header = header;
  e->positions[0] = reinterpret_cast<uintptr_t>(f->instrs[0]);
  e->positions[1] = reinterpret_cast<uintptr_t>(f->instrs[1]);
  e->code_epoch = epoch;
  e->id = id;
  return id;
}

}  // namespace

namespace {

// Any frame limit; memo, frame cache and trace cache.
__attribute__((noinline)) TraceId TraceGeneral(ThreadCaches* c,
                                               PyThreadState* tstate,
                                               Domain domain, OwnerSlot slot,
                                               uint16_t generation,
                                               int nframes) {
  if (nframes > kMaxTraceFrames) nframes = kMaxTraceFrames;
  void* codes[kMaxTraceFrames];
  int instrs[kMaxTraceFrames];
  int depth = 0;
  int n =
      interpsan_shim_frame_positions(tstate, codes, instrs, nframes, &depth);
  uint16_t total = ClampDepth(depth, n);
  uint64_t header = PackTraceHeader(slot, generation, total, n, domain);
  if (__builtin_expect(c == nullptr, 0)) {
    FrameId ids[kMaxTraceFrames];
    for (int i = 0; i < n; i++)
      ids[i] = InternFrameSlow(codes[i], instrs[i], nullptr);
    return InternSlow(domain, slot, generation, ids, n, total);
  }
  uint32_t epoch = g_code_epoch.load(std::memory_order_acquire);
  LastTrace& last = c->last;
  if (last.header == header && last.code_epoch == epoch && last.id != 0) {
    bool same = true;
    for (int i = 0; i < n; i++) {
      same &= last.codes[i] == codes[i] && last.instrs[i] == instrs[i];
    }
    if (__builtin_expect(same, 1)) return last.id;
  }
  TraceId id = TraceByFrames(c, epoch, header, domain, slot, generation, codes,
                             instrs, n, total);
  if (n <= kMemoFrames) {
    last.header = header;
    last.code_epoch = epoch;
    last.id = id;
    for (int i = 0; i < n; i++) {
      last.codes[i] = codes[i];
      last.instrs[i] = instrs[i];
    }
  } else {
    last.id = 0;
  }
  return id;
}

}  // namespace

namespace {

// The innermost `nframes` (1 or 2) complete frames of the thread state
// `ts` into *f (unused entries null), their count returned, *depth the
// stack's depth. The innermost frame is almost always a complete Python
// frame: it is read straight; WalkFrames only when it is not, or for 2.
__attribute__((always_inline)) inline int ReadTop(const char* ts, int nframes,
                                                  FramePair* f, int* depth) {
  const char* frame = Field<const char*>(ts, INTERPSAN_TM_TSTATE_FRAME);
  if (INTERPSAN_TM_CFRAME_FRAME >= 0 && frame != nullptr) {
    frame = Field<const char*>(frame, INTERPSAN_TM_CFRAME_FRAME);
  }
  f->instrs[1] = nullptr;
  f->codes[1] = nullptr;
  if (__builtin_expect(nframes == 1 && frame != nullptr, 1)) {
    char owner = Field<char>(frame, INTERPSAN_TM_FRAME_OWNER);
    const char* code = Field<const char*>(frame, INTERPSAN_TM_FRAME_CODE);
    const char* instr = Field<const char*>(frame, INTERPSAN_TM_FRAME_INSTR);
    if (__builtin_expect(
            owner != INTERPSAN_TM_OWNED_BY_CSTACK && code != nullptr &&
                Field<const void*>(code, INTERPSAN_TM_OBJECT_TYPE) ==
                    &PyCode_Type &&
                (owner == INTERPSAN_TM_OWNED_BY_GENERATOR ||
                 instr >= code + INTERPSAN_TM_CODE_BYTECODE +
                              2 * static_cast<ptrdiff_t>(Field<int>(
                                      code, INTERPSAN_TM_CODE_FIRSTTRACEABLE))),
            1)) {
      f->instrs[0] = instr;
      f->codes[0] = code;
      int total = Field<int>(ts, INTERPSAN_TM_TSTATE_RECURSION_LIMIT) -
                  Field<int>(ts, INTERPSAN_TM_TSTATE_RECURSION_REMAINING);
      if (__builtin_expect(static_cast<unsigned>(total - 1) > 65534u, 0)) {
        total = total < 1 ? 1 : 65535;
      }
      *depth = total;
      return 1;
    }
  }
  f->instrs[0] = nullptr;
  f->codes[0] = nullptr;
  return WalkFrames(ts, f->instrs, f->codes, nframes, depth);
}

__attribute__((always_inline)) inline TraceId Lookup(PyThreadState* tstate,
                                                     Domain domain,
                                                     OwnerSlot slot,
                                                     uint16_t generation,
                                                     int nframes) {
  ThreadCaches* c = Caches();
  if (__builtin_expect(
          nframes > kPositionFrames || c == nullptr || tstate == nullptr, 0)) {
    return TraceGeneral(c, tstate, domain, slot, generation, nframes);
  }
  FramePair f;
  int depth;
  int n = ReadTop(reinterpret_cast<const char*>(tstate), nframes, &f, &depth);
  const char* i0 = f.instrs[0];
  const char* i1 = f.instrs[1];
  uint64_t header = PackTraceHeader(slot, generation,
                                    static_cast<uint16_t>(depth), n, domain);
  uint32_t epoch = g_code_epoch.load(std::memory_order_acquire);
  uint64_t p0 = reinterpret_cast<uintptr_t>(i0);
  uint64_t p1 = reinterpret_cast<uintptr_t>(i1);
  PositionCacheEntry& e = c->positions[PositionIndex(header, p0, p1)];
  if (__builtin_expect(e.header == header && e.positions[0] == p0 &&
                           e.positions[1] == p1 && e.code_epoch == epoch &&
                           e.id != 0,
                       1)) {
    return e.id;
  }
  return PositionMiss(c, &e, header, epoch, &f);
}

}  // namespace

TraceId TracebackTable::TraceCurrent(Domain domain, OwnerSlot slot,
                                     uint16_t generation, int nframes) {
  return Lookup(CurrentThreadState::Get(), domain, slot, generation, nframes);
}

int TracebackTable::InlinePositionsForTest(int nframes, void** codes,
                                           int* instrs, int* depth) {
  PyThreadState* tstate = CurrentThreadState::Get();
  if (nframes < 1 || nframes > kPositionFrames || tstate == nullptr) return -1;
  FramePair f;
  int n = ReadTop(reinterpret_cast<const char*>(tstate), nframes, &f, depth);
  for (int i = 0; i < n; i++) {
    codes[i] = const_cast<char*>(f.codes[i]);
    instrs[i] = static_cast<int>(
        (f.instrs[i] - (f.codes[i] + INTERPSAN_TM_CODE_BYTECODE)) / 2);
  }
  return n;
}

int TracebackTable::ShimPositionsForTest(int nframes, void** codes, int* instrs,
                                         int* depth) {
  return interpsan_shim_frame_positions(CurrentThreadState::Get(), codes,
                                        instrs, nframes, depth);
}

TraceId TracebackTable::TraceAlloc(Domain domain, OwnerSlot slot,
                                   uint16_t generation, int nframes,
                                   size_t size, SlotCounters* counters) {
  PyThreadState* tstate = CurrentThreadState::Get();
  TraceId id = Lookup(tstate, domain, slot, generation, nframes);
  if (__builtin_expect(id == 0, 0)) return 0;
  TraceStats& stats = Stats(id);
  int64_t bytes = static_cast<int64_t>(size);
  int64_t now;
  if (__builtin_expect(domain != Domain::kRaw && tstate != nullptr &&
                           InterpreterRegistry::OwnerIsCurrentFast(slot),
                       1)) {
    // `slot` is the allocating thread's interpreter, whose GIL it holds.
    AddTo(stats.bytes, bytes, true);
    AddTo(stats.blocks, 1, true);
    now = counters->current.load(std::memory_order_relaxed) + bytes;
    counters->current.store(now, std::memory_order_relaxed);
    now += counters->raw_current.load(std::memory_order_relaxed);
  } else {
    AddTo(stats.bytes, bytes, false);
    AddTo(stats.blocks, 1, false);
    now = counters->raw_current.fetch_add(bytes, std::memory_order_relaxed) +
          bytes + counters->current.load(std::memory_order_relaxed);
  }
  if (now > counters->peak.load(std::memory_order_relaxed)) {
    counters->peak.store(now, std::memory_order_relaxed);
  }
  return id;
}

TraceId TracebackTable::Retrace(TraceId id, Domain domain, OwnerSlot slot,
                                uint16_t generation, int nframes, size_t size) {
  PyThreadState* tstate = CurrentThreadState::Get();
  TraceId now = Lookup(tstate, domain, slot, generation, nframes);
  if (now == 0 || now == id) return id;
  // Exclusive if the block is the calling thread's interpreter's own (a
  // freelist of another interpreter's blocks is a cross-interpreter bug).
  bool exclusive = domain != Domain::kRaw && tstate != nullptr &&
                   InterpreterRegistry::OwnerIsCurrentFast(slot);
  int64_t bytes = static_cast<int64_t>(size);
  TraceStats& before = Stats(id);
  AddTo(before.bytes, -bytes, exclusive);
  AddTo(before.blocks, -1, exclusive);
  TraceStats& after = Stats(now);
  AddTo(after.bytes, bytes, exclusive);
  AddTo(after.blocks, 1, exclusive);
  return now;
}

bool TracebackTable::Get(TraceId id, TraceRecord* out) {
  if (id == 0 || id > g_trace_count.load(std::memory_order_acquire))
    return false;
  const TraceRecord& r = g_traces.at(id);
  const FrameId* frames = __atomic_load_n(&r.frames, __ATOMIC_ACQUIRE);
  if (frames == nullptr) return false;  // unused id of a block
  *out = r;
  out->frames = frames;
  return true;
}

const InterpsanFrame& TracebackTable::Frame(FrameId id) {
  return g_frames.at(id);
}

size_t TracebackTable::MemoryUsage() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_frames.bytes() + g_traces.bytes() + g_stats.bytes() +
         g_frame_storage;
}

}  // namespace interpsan
