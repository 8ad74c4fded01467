#include "tracemalloc/traceback_table.h"

#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "runtime/allocation_tracer.h"
#include "runtime/current_thread_state.h"

namespace interpsan {
namespace {

// ---- append-only chunked storage ---------------------------------------------

template <typename T, int kChunkBits, int kMaxChunks>
class ChunkedArray {
 public:
  static constexpr uint32_t kChunk = 1u << kChunkBits;
  // Lock-free; `index` must have been made available by Reserve.
  T& at(uint32_t index) {
    return chunks_[index >> kChunkBits].load(std::memory_order_acquire)
        [index & (kChunk - 1)];
  }
  // Caller holds the table mutex. Returns false when full.
  bool Reserve(uint32_t index) {
    uint32_t chunk = index >> kChunkBits;
    if (chunk >= static_cast<uint32_t>(kMaxChunks)) return false;
    if (chunks_[chunk].load(std::memory_order_relaxed) == nullptr) {
      chunks_[chunk].store(new T[kChunk](), std::memory_order_release);
      bytes_ += sizeof(T) * kChunk;
    }
    return true;
  }
  size_t bytes() const { return bytes_; }

 private:
  std::atomic<T*> chunks_[kMaxChunks] = {};
  size_t bytes_ = 0;
};

std::mutex g_mu;  // guards the maps and appends below
ChunkedArray<InterpsanFrame, 12, 4096> g_frames;        // up to 16M frames
ChunkedArray<TraceRecord, 14, 4096> g_traces;           // up to 64M traces
ChunkedArray<TraceStats, 14, 4096> g_stats;
std::atomic<uint32_t> g_frame_count{0};  // ids 0..count-1
std::atomic<uint32_t> g_trace_count{0};  // ids 1..count
std::unordered_map<std::string, FrameId>* g_frame_ids = nullptr;
std::unordered_map<std::string, TraceId>* g_trace_ids = nullptr;
size_t g_frame_storage = 0;

// ---- thread-local caches -------------------------------------------------------

constexpr int kFrameCacheSize = 4096;  // power of two
constexpr int kTraceCacheSize = 4096;

struct FrameCacheEntry {
  void* code;
  int instr;
  FrameId id;
};
struct TraceCacheEntry {
  uint64_t hash;
  TraceId id;
};
struct ThreadCaches {
  uint32_t code_epoch = 0;
  FrameCacheEntry frames[kFrameCacheSize];
  TraceCacheEntry traces[kTraceCacheSize];
};
thread_local ThreadCaches* t_caches = nullptr;

ThreadCaches* Caches() {
  ThreadCaches* c = t_caches;
  if (__builtin_expect(c == nullptr, 0)) {
    // glibc calloc, not a Python allocator. Freed never: a few hundred KiB
    // per thread that ever allocated while tracing.
    c = static_cast<ThreadCaches*>(calloc(1, sizeof(ThreadCaches)));
    t_caches = c;
  }
  return c;
}

inline uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  return h;
}

FrameId InternFrameSlow(void* code, int instr) {
  InterpsanFrame frame;
  interpsan_shim_resolve_position(code, instr, &frame);
  std::string key = frame.filename;
  key.push_back('\0');
  key += frame.name;
  key.push_back('\0');
  key += std::to_string(frame.lineno);
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_frame_ids == nullptr) g_frame_ids = new std::unordered_map<std::string, FrameId>();
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
  uint64_t h = Mix(reinterpret_cast<uintptr_t>(code) >> 4, static_cast<uint64_t>(instr));
  FrameCacheEntry& e = c->frames[h & (kFrameCacheSize - 1)];
  if (__builtin_expect(e.code == code && e.instr == instr, 1)) return e.id;
  FrameId id = InternFrameSlow(code, instr);
  e.code = code;
  e.instr = instr;
  e.id = id;
  return id;
}

bool SameTrace(const TraceRecord& r, Domain domain, OwnerSlot slot,
               uint16_t generation, const FrameId* frames, int n) {
  return r.slot == slot && r.domain == domain && r.generation == generation &&
         r.nframes == n && memcmp(r.frames, frames, n * sizeof(FrameId)) == 0;
}

TraceId InternSlow(Domain domain, OwnerSlot slot, uint16_t generation,
                   const FrameId* frames, int n) {
  std::string key(reinterpret_cast<const char*>(frames), n * sizeof(FrameId));
  key.push_back(static_cast<char>(domain));
  key.append(reinterpret_cast<const char*>(&slot), sizeof(slot));
  key.append(reinterpret_cast<const char*>(&generation), sizeof(generation));
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_trace_ids == nullptr) g_trace_ids = new std::unordered_map<std::string, TraceId>();
  auto it = g_trace_ids->find(key);
  if (it != g_trace_ids->end()) return it->second;
  TraceId id = g_trace_count.load(std::memory_order_relaxed) + 1;
  if (!g_traces.Reserve(id) || !g_stats.Reserve(id)) return 0;
  FrameId* copy = new FrameId[n > 0 ? n : 1];
  memcpy(copy, frames, n * sizeof(FrameId));
  g_frame_storage += n * sizeof(FrameId) + key.size() + 64;
  g_traces.at(id) = TraceRecord{slot, generation, domain,
                                static_cast<uint16_t>(n), copy};
  g_trace_count.store(id, std::memory_order_release);
  (*g_trace_ids)[key] = id;
  return id;
}

}  // namespace

TraceId TracebackTable::Intern(Domain domain, OwnerSlot slot,
                               uint16_t generation, const FrameId* frames,
                               int nframes) {
  ThreadCaches* c = Caches();
  uint64_t h = Mix(Mix(Mix(slot, static_cast<uint64_t>(domain)), generation), nframes);
  for (int i = 0; i < nframes; i++) h = Mix(h, frames[i]);
  TraceCacheEntry& e = c->traces[h & (kTraceCacheSize - 1)];
  if (__builtin_expect(e.hash == h && e.id != 0, 1)) {
    const TraceRecord& r = g_traces.at(e.id);
    if (SameTrace(r, domain, slot, generation, frames, nframes)) return e.id;
  }
  TraceId id = InternSlow(domain, slot, generation, frames, nframes);
  e.hash = h;
  e.id = id;
  return id;
}

TraceId TracebackTable::TraceCurrent(Domain domain, OwnerSlot slot,
                                     uint16_t generation, int nframes) {
  if (nframes > kMaxTraceFrames) nframes = kMaxTraceFrames;
  void* codes[kMaxTraceFrames];
  int instrs[kMaxTraceFrames];
  int n = interpsan_shim_frame_positions(CurrentThreadState::Get(), codes,
                                         instrs, nframes);
  ThreadCaches* c = Caches();
  uint32_t epoch = g_code_epoch.load(std::memory_order_acquire);
  if (__builtin_expect(c->code_epoch != epoch, 0)) {
    memset(c->frames, 0, sizeof(c->frames));
    c->code_epoch = epoch;
  }
  FrameId ids[kMaxTraceFrames];
  for (int i = 0; i < n; i++) ids[i] = FrameOf(c, codes[i], instrs[i]);
  return Intern(domain, slot, generation, ids, n);
}

bool TracebackTable::Get(TraceId id, TraceRecord* out) {
  if (id == 0 || id > g_trace_count.load(std::memory_order_acquire)) return false;
  *out = g_traces.at(id);
  return true;
}

const InterpsanFrame& TracebackTable::Frame(FrameId id) { return g_frames.at(id); }

TraceStats& TracebackTable::Stats(TraceId id) { return g_stats.at(id); }

uint32_t TracebackTable::Count() {
  return g_trace_count.load(std::memory_order_acquire);
}

size_t TracebackTable::MemoryUsage() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_frames.bytes() + g_traces.bytes() + g_stats.bytes() + g_frame_storage;
}

}  // namespace interpsan
