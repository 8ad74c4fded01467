// tracer.h: process-wide tracemalloc, attributed per interpreter.
//
// Installs itself as the allocator hooks' AllocationTracer. Each
// interpreter traces (or not) on its own, with its own frame limit and its
// own current/peak accounting: `--trace-malloc N` turns it on for every
// interpreter; interpsan.tracemalloc.start()/stop() for the calling one.
// When an interpreter ends, every block it still owns is a leak, reported
// (grouped by allocation site) as a "leaks" event and a short summary.
//
// Thread safety: the allocation path takes no lock (see traceback_table.h);
// counters are relaxed atomics on per-trace and per-interpreter cache lines,
// so interpreters never contend with each other.
#ifndef INTERPSAN_TRACEMALLOC_TRACER_H_
#define INTERPSAN_TRACEMALLOC_TRACER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/owner_record.h"
#include "tracemalloc/traceback_table.h"

namespace interpsan {

struct SiteStats {
  std::string filename;
  int lineno;
  int64_t bytes;
  int64_t blocks;
};

class Tracer {
 public:
  // Hooks the tracer into the allocator hooks and the interpreter-end
  // listener. Idempotent. `report_leaks`: emit leak events at interpreter end.
  static void Install(bool report_leaks);

  // --trace-malloc N: every interpreter traces with N frames unless it
  // says otherwise. 0 turns the default off.
  static void SetDefaultFrames(int nframes);

  // Files under `prefix` (the standard library) count as CPython's own in
  // leak summaries, like <frozen ...> and frame-less allocations.
  static void SetRuntimePrefix(const std::string& prefix);

  static void Start(OwnerSlot slot, int nframes);
  static void Stop(OwnerSlot slot);  // also clears the slot's traces
  static bool IsTracing(OwnerSlot slot);
  static int Frames(OwnerSlot slot);
  // Forget the slot's traces (its live blocks stay allocated, untraced).
  static void ClearTraces(OwnerSlot slot);

  // True if `id` belongs to `slot`'s current tracing generation while it
  // traces (traces of before clear_traces()/stop() do not count).
  static bool IsCurrentTrace(OwnerSlot slot, TraceId id);

  static int64_t CurrentBytes(OwnerSlot slot);
  static int64_t PeakBytes(OwnerSlot slot);
  static void ResetPeak(OwnerSlot slot);

  // Calls fn for every trace with live blocks: of `slot` (kNoOwner: every
  // slot), current tracing generation only if asked.
  static void ForEachLiveTrace(
      OwnerSlot slot, bool current_generation_only,
      const std::function<void(TraceId, const TraceRecord&, int64_t bytes,
                               int64_t blocks)>& fn);

  // Live traced memory of `slot` grouped by the innermost frame's file and
  // line, largest first, at most `limit` sites.
  static std::vector<SiteStats> TopSites(OwnerSlot slot, size_t limit,
                                         bool current_generation_only);

  // The "leaks" event for an interpreter that ended (also called by the
  // runner for interpreters that outlive the hook), then its full stacks
  // ("tracemalloc_traces", what "leaks").
  static void ReportLeaks(OwnerSlot slot);

  // The "tracemalloc" event: top sites of `slot` (at program end), then
  // its full stacks ("tracemalloc_traces", what "live").
  static void ReportTop(OwnerSlot slot, size_t limit);
};

}  // namespace interpsan

#endif  // INTERPSAN_TRACEMALLOC_TRACER_H_
