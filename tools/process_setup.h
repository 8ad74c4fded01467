// process_setup.h: what every checked process sets up before
// Py_Initialize, whether it is interpsan's own runner (`run`) or any CPython
// program with the preload library (`exec`): the event log, the
// faulthandler, the report path and checks, the deallocation and
// interpreter-lifecycle hooks, tracemalloc, and the allocator hooks that
// serve both.
#ifndef INTERPSAN_TOOLS_PROCESS_SETUP_H_
#define INTERPSAN_TOOLS_PROCESS_SETUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "debug/report.h"

namespace interpsan {

struct SetupOptions {
  uint32_t checks = 0;
  std::string checks_list = "all";
  bool keep_going = false;
  int trace_frames = 0;
  std::vector<Suppression> suppressions;
};

struct SetupResult {
  bool dealloc_interposed = false;
  // Freelist reuse is retraced (tracemalloc).
  bool new_reference_interposed = false;
};

// Call once, before Py_Initialize (from main, or a preload constructor).
SetupResult SetUpProcess(const SetupOptions& options);

// Registers interpsan, _interpsan_faulthandler and _interpsan_tracemalloc as
// built-in modules. Before Py_Initialize.
void RegisterBuiltinModules();

// The "start" event. `mode` is "run" or "exec".
void EmitStartEvent(const SetupOptions& options, const SetupResult& result,
                    const char* mode, int interpreters);

// The directory of the running CPython's standard library, from where
// libpython is loaded ("" if unknown).
std::string StdlibDirectory();

}  // namespace interpsan

#endif  // INTERPSAN_TOOLS_PROCESS_SETUP_H_
