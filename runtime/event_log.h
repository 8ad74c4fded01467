// event_log.h: the channel from the checked process to its supervisor.
//
// One JSON object per line, appended to a file the supervisor named in
// $INTERPSAN_EVENTS. The supervisor builds report.json from these lines
// after the checked process ends, however it ends: every line written
// before an abort or a fatal signal survives it (write(2), no buffering).
//
// Thread safety: Write is thread-safe (one mutex, report path only; never
// on an allocation's fast path). Not async-signal-safe: the fatal-signal
// handler writes to fd() with write(2) itself, through a stack buffer
// (faulthandler/signal_safe_writer.h's SignalSafeWriter).
#ifndef INTERPSAN_RUNTIME_EVENT_LOG_H_
#define INTERPSAN_RUNTIME_EVENT_LOG_H_

#include <string>

namespace interpsan {

class EventLog {
 public:
  // Opens $INTERPSAN_EVENTS (or `path` if given) for appending. Returns
  // false if no event file is configured; events are then dropped.
  static bool Open(const char* path = nullptr);

  // Appends `json` (one object, no newline) and a newline.
  static void Write(const std::string& json);

  // The descriptor, or -1. For the signal handler, which writes with
  // write(2) directly.
  static int fd();
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_EVENT_LOG_H_
