// options.h: the one configuration path of a checked process.
//
// The supervisor (tools/supervisor/interpsan.py) configures the process it
// checks, whether interpsan's runner (`run`) or any program with the preload
// library
// (`exec`), through ONE environment variable, INTERPSAN_OPTIONS, so that the
// checked process's argv stays exactly what `python` itself would have
// (sys.orig_argv, Py_GetArgcArgv, /proc/self/cmdline). Its value is a list of
// space-separated `key=value` words; values are percent-encoded (%20 for a
// space, %25 for '%'), so a path may hold any byte but NUL:
//
//   events=/tmp/r/events.jsonl interpreters=4 checks=free,dealloc
//   keep_going=1 trace_malloc=5 suppressions=/home/me/my%20app.supp
//   audit=changed
//
// Every key is optional; an unknown key or a bad value is an error (the
// supervisor and the checked process must agree on one vocabulary).
//
// Thread-safe: the functions keep no state (ReadOptionsFromEnvironment
// changes the environment: call it before any thread starts).
// Async-signal-safe: no (they allocate).
#ifndef INTERPSAN_TOOLS_OPTIONS_H_
#define INTERPSAN_TOOLS_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "debug/report.h"

namespace interpsan {

inline constexpr char kOptionsVariable[] = "INTERPSAN_OPTIONS";

struct ProcessOptions {
  std::string events_path;  // the event log; "" writes none
  int interpreters = 4;     // `run` only: interpreters at once
  uint32_t checks = 0;      // bits of ParseChecks; set from checks_list
  std::string checks_list = "all";
  bool keep_going = false;
  int trace_frames = 0;  // --trace-malloc N
  std::string suppressions_path;
  std::string audit = "changed";          // --audit: changed, each-test or end
  std::vector<Suppression> suppressions;  // loaded from suppressions_path
};

// Parses an INTERPSAN_OPTIONS value into *out (starting from the defaults
// above, "all" checks included) and loads the suppressions file it names.
// Returns false and sets *error to one line on any problem.
bool ParseProcessOptions(const std::string& text, ProcessOptions* out,
                         std::string* error);

// Reads INTERPSAN_OPTIONS, then removes it from the environment: the
// program under test sees the environment plain python would give it, and
// its own subprocesses do not report into this run. Returns false when the
// variable is absent or empty (*present = false) or does not parse
// (*present = true, *error set).
bool ReadOptionsFromEnvironment(ProcessOptions* out, bool* present,
                                std::string* error);

}  // namespace interpsan

#endif  // INTERPSAN_TOOLS_OPTIONS_H_
