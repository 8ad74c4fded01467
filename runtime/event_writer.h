// event_writer.h: writes one event, {"event": NAME, ...fields}, to the
// event log (runtime/event_log.h) in one call, so that every place that
// reports a fact does not repeat the build-end-write sequence.
//
//   WriteEvent("interpreter_end", [&](JsonObject& o) {
//     o.Int("index", info.index).Int("id", info.id);
//   });
//
// Thread safety: as EventLog::Write (thread-safe). Not async-signal-safe:
// it allocates (std::string); signal handlers write to EventLog::fd() with
// faulthandler/signal_safe_writer.h instead.
#ifndef INTERPSAN_RUNTIME_EVENT_WRITER_H_
#define INTERPSAN_RUNTIME_EVENT_WRITER_H_

#include <string>

#include "runtime/event_log.h"
#include "runtime/json_writer.h"

namespace interpsan {

// `fill(JsonObject&)` adds the fields after "event".
template <typename Fill>
void WriteEvent(const char* name, Fill fill) {
  std::string out;
  JsonObject o(&out);
  o.Str("event", name);
  fill(o);
  o.End();
  EventLog::Write(out);
}

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_EVENT_WRITER_H_
