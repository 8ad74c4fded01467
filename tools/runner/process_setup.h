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

#include "tools/runner/options.h"

namespace interpsan {

struct SetupResult {
  bool dealloc_interposed = false;
  // Freelist reuse is retraced (tracemalloc).
  bool new_reference_interposed = false;
  // Ending interpreters retire their registry slot (PyInterpreterState_Delete
  // interposed): otherwise a new interpreter at a reused address inherits
  // the old one's identity, and tracemalloc's leak report misses the end.
  bool interpreter_lifecycle_interposed = false;
  // The arena ownership table is mapped (runtime/arena_map.h): otherwise
  // every pymalloc block looks ownerless and block checks see nothing.
  // Only meaningful when checks or tracing installed the allocator hooks.
  bool arena_map = false;
};

// Call once, before Py_Initialize (from main, or a preload constructor).
// Opens options.events_path as the event log.
SetupResult SetUpProcess(const ProcessOptions& options);

// Registers interpsan, _interpsan_faulthandler and _interpsan_tracemalloc as
// built-in modules. Before Py_Initialize.
void RegisterBuiltinModules();

// The "start" event. `mode` is "run" or "exec".
void EmitStartEvent(const ProcessOptions& options, const SetupResult& result,
                    const char* mode, int interpreters);

// The directory of the running CPython's standard library, from where
// libpython is loaded ("" if unknown).
std::string StdlibDirectory();

// The installation prefix of the loaded libpython (PREFIX of
// PREFIX/lib/libpython3.X.so), symlinks resolved; "" if unknown.
std::string LibpythonPrefix();

}  // namespace interpsan

#endif  // INTERPSAN_TOOLS_PROCESS_SETUP_H_
