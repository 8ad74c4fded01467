#include "tracemalloc/tracer.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "runtime/allocation_tracer.h"
#include "runtime/anomaly.h"
#include "runtime/event_writer.h"
#include "runtime/interpreter_lifecycle_hook.h"
#include "runtime/interpreter_registry.h"
#include "runtime/json_writer.h"

namespace interpsan {
namespace {

struct alignas(64) SlotState {
  SlotCounters counters;
  std::atomic<int16_t> frames{0};  // 0: default; -1: off; > 0: explicit
  std::atomic<uint16_t> generation{0};
};

SlotState g_slots[kMaxSlots];
std::atomic<int> g_default_frames{0};
bool g_report_leaks = false;
std::string* g_runtime_prefix = nullptr;  // the standard library's directory

inline int EffectiveFrames(const SlotState& s) {
  int f = s.frames.load(std::memory_order_relaxed);
  return f == 0 ? g_default_frames.load(std::memory_order_relaxed) : f;
}

uint32_t OnAlloc(Domain domain, OwnerSlot slot, size_t size) {
  if (slot == kNoOwner) return 0;  // raw memory of no interpreter
  SlotState& s = g_slots[slot];
  int nframes = EffectiveFrames(s);
  if (nframes <= 0) return 0;
  return TracebackTable::TraceAlloc(
      domain, slot, s.generation.load(std::memory_order_relaxed), nframes, size,
      &s.counters);
}

// `id` comes from a block, so it is one OnAlloc/OnRetrace returned: its
// record is complete and needs no Get() checks. The bound check stays as a
// guard against a corrupted owner record.
void OnFree(uint32_t id, size_t size) {
  if (__builtin_expect(id > TracebackTable::Count(), 0)) return;
  const TraceRecord& record = TracebackTable::Record(id);
  SlotState& s = g_slots[record.slot];
  // Plain adds only from the block's own interpreter (SlotCounters).
  bool raw = record.domain == Domain::kRaw;
  bool exclusive = !raw && RunsInSlot(record.slot);
  int64_t bytes = static_cast<int64_t>(size);
  TraceStats& stats = TracebackTable::Stats(id);
  AddTo(stats.bytes, -bytes, exclusive);
  AddTo(stats.blocks, -1, exclusive);
  if (record.generation == s.generation.load(std::memory_order_relaxed)) {
    AddTo(raw ? s.counters.raw_current : s.counters.current, -bytes, exclusive);
  }
}

// Stock tracemalloc retraces in _Py_NewReference only blocks it still
// traces: here, traces of the slot's current tracing generation.
uint32_t OnRetrace(uint32_t id, size_t size) {
  if (__builtin_expect(id > TracebackTable::Count(), 0)) return id;
  const TraceRecord& record = TracebackTable::Record(id);
  SlotState& s = g_slots[record.slot];
  int nframes = EffectiveFrames(s);
  uint16_t generation = s.generation.load(std::memory_order_relaxed);
  if (nframes <= 0 || record.generation != generation) return id;
  return TracebackTable::Retrace(id, record.domain, record.slot, generation,
                                 nframes, size);
}

int FramesOf(uint32_t id, InterpsanFrame* out, int max) {
  TraceRecord record;
  if (!TracebackTable::Get(id, &record)) return 0;
  int n = record.nframes < max ? record.nframes : max;
  for (int i = 0; i < n; i++) out[i] = TracebackTable::Frame(record.frames[i]);
  return n;
}

void RecomputeTracing() {
  bool any = g_default_frames.load() > 0;
  if (!any) {
    for (const SlotState& s : g_slots) {
      if (s.frames.load(std::memory_order_relaxed) > 0) {
        any = true;
        break;
      }
    }
  }
  if (any) g_traced_ever.store(true);
  g_tracing.store(any);
}

void OnInterpreterEnd(OwnerSlot slot) {
  if (g_report_leaks) Tracer::ReportLeaks(slot);
}

std::string SitesJson(const std::vector<SiteStats>& sites) {
  std::string out = "[";
  for (size_t i = 0; i < sites.size(); i++) {
    if (i) out += ",";
    JsonObject o(&out);
    o.Str("filename", sites[i].filename)
        .Int("lineno", sites[i].lineno)
        .Int("size", sites[i].bytes)
        .Int("count", sites[i].blocks);
    o.End();
  }
  return out + "]";
}

std::string HumanBytes(int64_t b) {
  char buf[32];
  if (b >= 10 * 1024 * 1024) {
    snprintf(buf, sizeof(buf), "%.1f MiB", b / 1048576.0);
  } else if (b >= 10 * 1024) {
    snprintf(buf, sizeof(buf), "%.1f KiB", b / 1024.0);
  } else {
    snprintf(buf, sizeof(buf), "%lld B", static_cast<long long>(b));
  }
  return buf;
}

}  // namespace

void Tracer::Install(bool report_leaks) {
  static bool installed = false;
  g_report_leaks = g_report_leaks || report_leaks;
  if (installed) return;
  installed = true;
  InstallAllocationTracer(
      AllocationTracer{&OnAlloc, &OnFree, &OnRetrace, &FramesOf});
  AddInterpreterEndListener(&OnInterpreterEnd);
}

void Tracer::SetDefaultFrames(int nframes) {
  g_default_frames.store(std::min(std::max(nframes, 0), kMaxTraceFrames));
  RecomputeTracing();
}

void Tracer::SetRuntimePrefix(const std::string& prefix) {
  g_runtime_prefix = new std::string(prefix);
}

void Tracer::Start(OwnerSlot slot, int nframes) {
  if (slot == kNoOwner) return;
  if (nframes < 1) nframes = 1;
  g_slots[slot].frames.store(
      static_cast<int16_t>(std::min(nframes, kMaxTraceFrames)));
  RecomputeTracing();
}

void Tracer::Stop(OwnerSlot slot) {
  if (slot == kNoOwner) return;
  g_slots[slot].frames.store(-1);
  ClearTraces(slot);
  RecomputeTracing();
}

bool Tracer::IsTracing(OwnerSlot slot) {
  return slot != kNoOwner && EffectiveFrames(g_slots[slot]) > 0;
}

int Tracer::Frames(OwnerSlot slot) {
  if (slot == kNoOwner) return 0;
  int f = EffectiveFrames(g_slots[slot]);
  return f > 0 ? f : 1;  // stock get_traceback_limit() is 1 when stopped
}

void Tracer::ClearTraces(OwnerSlot slot) {
  if (slot == kNoOwner) return;
  g_slots[slot].generation.fetch_add(1);
  g_slots[slot].counters.current.store(0);
  g_slots[slot].counters.raw_current.store(0);
  g_slots[slot].counters.peak.store(0);
}

bool Tracer::IsCurrentTrace(OwnerSlot slot, TraceId id) {
  TraceRecord r;
  if (!IsTracing(slot) || !TracebackTable::Get(id, &r)) return false;
  return r.slot == slot && r.generation == g_slots[slot].generation.load(
                                               std::memory_order_relaxed);
}

int64_t Tracer::CurrentBytes(OwnerSlot slot) {
  if (slot == kNoOwner) return 0;
  return g_slots[slot].counters.current.load() +
         g_slots[slot].counters.raw_current.load();
}

int64_t Tracer::PeakBytes(OwnerSlot slot) {
  return slot == kNoOwner ? 0 : g_slots[slot].counters.peak.load();
}

void Tracer::ResetPeak(OwnerSlot slot) {
  if (slot == kNoOwner) return;
  g_slots[slot].counters.peak.store(CurrentBytes(slot));
}

void Tracer::ForEachLiveTrace(
    OwnerSlot slot, bool current_generation_only,
    const std::function<void(TraceId, const TraceRecord&, int64_t, int64_t)>&
        fn) {
  uint32_t count = TracebackTable::Count();
  for (TraceId id = 1; id <= count; id++) {
    TraceRecord r;
    if (!TracebackTable::Get(id, &r)) continue;
    if (slot != kNoOwner && r.slot != slot) continue;
    if (current_generation_only &&
        r.generation !=
            g_slots[r.slot].generation.load(std::memory_order_relaxed)) {
      continue;
    }
    TraceStats& stats = TracebackTable::Stats(id);
    int64_t blocks = stats.blocks.load(std::memory_order_relaxed);
    if (blocks <= 0) continue;
    fn(id, r, stats.bytes.load(std::memory_order_relaxed), blocks);
  }
}

std::vector<SiteStats> Tracer::TopSites(OwnerSlot slot, size_t limit,
                                        bool current_generation_only) {
  std::map<std::pair<std::string, int>, std::pair<int64_t, int64_t>> sites;
  ForEachLiveTrace(
      slot, current_generation_only,
      [&](TraceId, const TraceRecord& r, int64_t bytes, int64_t blocks) {
        std::pair<std::string, int> key("<unknown>", 0);
        if (r.nframes > 0) {
          const InterpsanFrame& f = TracebackTable::Frame(r.frames[0]);
          key = {f.filename, f.lineno};
        }
        auto& v = sites[key];
        v.first += bytes;
        v.second += blocks;
      });
  std::vector<SiteStats> out;
  for (const auto& kv : sites) {
    out.push_back(
        {kv.first.first, kv.first.second, kv.second.first, kv.second.second});
  }
  std::sort(out.begin(), out.end(), [](const SiteStats& a, const SiteStats& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.blocks > b.blocks;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

namespace {

// Leak sites that are CPython's own doing rather than the program's: code
// and interned strings kept by the import system, and blocks allocated with
// no Python frame (interpreter start-up, C-level caches).
bool IsRuntimeSite(const SiteStats& s) {
  if (!s.filename.empty() && s.filename[0] == '<') return true;  // <frozen ..>
  return g_runtime_prefix != nullptr && !g_runtime_prefix->empty() &&
         s.filename.rfind(*g_runtime_prefix, 0) == 0;
}

}  // namespace

namespace {

// Most traces listed per "tracemalloc_traces" event; the rest is summed
// into other_bytes/other_blocks (a test suite can have tens of thousands).
constexpr size_t kMaxTracesPerEvent = 2000;

// The "tracemalloc_traces" event: every live trace of `slot` with its full
// stack, for flame graphs (tools/report/tracemalloc_export.py). Traces that
// differ only in domain or depth are merged: a flame graph shows stacks.
void WriteTracesEvent(OwnerSlot slot, const char* what,
                      bool current_generation_only) {
  struct Merged {
    const FrameId* frames;
    int nframes;
    int64_t bytes = 0;
    int64_t blocks = 0;
  };
  std::map<std::vector<FrameId>, Merged> merged;
  Tracer::ForEachLiveTrace(
      slot, current_generation_only,
      [&](TraceId, const TraceRecord& r, int64_t bytes, int64_t blocks) {
        std::vector<FrameId> key(r.frames, r.frames + r.nframes);
        Merged& m = merged.emplace(std::move(key), Merged{r.frames, r.nframes})
                        .first->second;
        m.bytes += bytes;
        m.blocks += blocks;
      });
  if (merged.empty()) return;
  std::vector<const Merged*> order;
  order.reserve(merged.size());
  for (const auto& kv : merged) order.push_back(&kv.second);
  std::sort(order.begin(), order.end(), [](const Merged* a, const Merged* b) {
    return a->bytes != b->bytes ? a->bytes > b->bytes : a->blocks > b->blocks;
  });
  int64_t other_bytes = 0, other_blocks = 0;
  std::string traces = "[";
  for (size_t i = 0; i < order.size(); i++) {
    const Merged& m = *order[i];
    if (i >= kMaxTracesPerEvent) {
      other_bytes += m.bytes;
      other_blocks += m.blocks;
      continue;
    }
    if (i) traces += ",";
    std::string frames = "[";
    // Most recent call last, like python_traceback in report.json.
    for (int f = m.nframes - 1; f >= 0; f--) {
      const InterpsanFrame& frame = TracebackTable::Frame(m.frames[f]);
      if (frames.size() > 1) frames += ",";
      JsonObject o(&frames);
      o.Str("filename", frame.filename)
          .Int("lineno", frame.lineno)
          .Str("name", frame.name);
      o.End();
    }
    frames += "]";
    JsonObject t(&traces);
    t.Raw("frames", frames).Int("size", m.bytes).Int("count", m.blocks);
    t.End();
  }
  traces += "]";
  InterpreterInfo info = InterpreterRegistry::Info(slot);
  WriteEvent("tracemalloc_traces", [&](JsonObject& o) {
    o.Str("what", what)
        .Int("interpreter", info.id)
        .Int("index", info.index)
        .Int("frames", Tracer::Frames(slot))
        .Raw("traces", traces)
        .Int("other_bytes", other_bytes)
        .Int("other_blocks", other_blocks);
  });
}

}  // namespace

void Tracer::ReportLeaks(OwnerSlot slot) {
  ReentryGuard guard;  // our own bookkeeping must not be traced
  InterpreterInfo info = InterpreterRegistry::Info(slot);
  if (info.index < 0) return;  // the runner's main interpreter: CPython's own
  std::vector<SiteStats> sites = TopSites(slot, 1u << 30, false);
  int64_t bytes = 0, blocks = 0;
  for (const SiteStats& s : sites) {
    bytes += s.bytes;
    blocks += s.blocks;
  }
  if (blocks == 0) return;
  std::vector<SiteStats> program_sites;
  int64_t runtime_bytes = 0, runtime_blocks = 0;
  for (const SiteStats& s : sites) {
    if (IsRuntimeSite(s)) {
      runtime_bytes += s.bytes;
      runtime_blocks += s.blocks;
    } else {
      program_sites.push_back(s);
    }
  }
  std::vector<SiteStats> shown(
      sites.begin(), sites.begin() + std::min<size_t>(sites.size(), 50));
  WriteEvent("leaks", [&](JsonObject& o) {
    o.Int("interpreter", info.id)
        .Int("index", info.index)
        .Int("blocks", blocks)
        .Int("bytes", bytes)
        .Int("site_count", static_cast<int64_t>(sites.size()))
        .Int("runtime_blocks", runtime_blocks)
        .Int("runtime_bytes", runtime_bytes)
        .Raw("sites", SitesJson(shown));
  });
  WriteTracesEvent(slot, "leaks", false);
  if (program_sites.empty()) return;  // only CPython's own: not worth a shout
  int64_t program_blocks = blocks - runtime_blocks;
  std::string text = "==interpsan== interpreter " + std::to_string(info.id) +
                     " (index " + std::to_string(info.index) + ") ended with " +
                     std::to_string(program_blocks) + " blocks (" +
                     HumanBytes(bytes - runtime_bytes) +
                     ") allocated outside CPython still alive; largest:\n";
  for (size_t i = 0; i < program_sites.size() && i < 3; i++) {
    text += "    " + program_sites[i].filename + ":" +
            std::to_string(program_sites[i].lineno) + ": " +
            std::to_string(program_sites[i].blocks) + " blocks, " +
            HumanBytes(program_sites[i].bytes) + "\n";
  }
  fputs(text.c_str(), stderr);
}

void Tracer::ReportTop(OwnerSlot slot, size_t limit) {
  ReentryGuard guard;
  InterpreterInfo info = InterpreterRegistry::Info(slot);
  WriteEvent("tracemalloc", [&](JsonObject& o) {
    o.Int("interpreter", info.id)
        .Int("index", info.index)
        .Int("frames", Frames(slot))
        .Int("current_bytes", CurrentBytes(slot))
        .Int("peak_bytes", PeakBytes(slot))
        .Raw("top", SitesJson(TopSites(slot, limit, true)));
  });
  WriteTracesEvent(slot, "live", true);
}

}  // namespace interpsan
