// preload_main.cc: libinterpsan_preload.so, the `exec` mode.
//
// Loaded with LD_PRELOAD into any program that is or embeds CPython 3.12 or
// 3.13. Its constructor runs before the program's main(), so before
// Py_Initialize: it installs exactly what the runner installs (see
// process_setup.h), and its definitions of _Py_Dealloc and
// PyInterpreterState_Delete interpose libpython's. Interpreters the program
// creates itself (Py_NewInterpreterFromConfig, _interpreters,
// InterpreterPoolExecutor) are then checked, traced and crash-dumped like
// the runner's. Each one is announced as an event when first seen.
//
// Configuration comes from INTERPSAN_OPTIONS, set by
// tools/supervisor/interpsan.py and parsed by tools/runner/options.h, the same
// path as the runner's.
#include <Python.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "debug/checks.h"
#include "debug/report.h"
#include "runtime/event_log.h"
#include "runtime/event_writer.h"
#include "runtime/interpreter_lifecycle_hook.h"
#include "runtime/interpreter_registry.h"
#include "runtime/json_writer.h"
#include "runtime/python_shim.h"
#include "tools/runner/process_setup.h"

namespace interpsan {
namespace {

std::atomic<int> g_next_index{1};  // 0 is the main interpreter

void AnnounceInterpreter(OwnerSlot slot, bool is_main) {
  int index = is_main ? 0 : g_next_index.fetch_add(1);
  InterpreterRegistry::SetIndex(slot, index, !is_main);
  InterpreterInfo info = InterpreterRegistry::Info(slot);
  WriteEvent("interpreter_start", [&](JsonObject& o) {
    o.Int("index", index).Int("id", info.id).Bool("main", is_main);
  });
}

void OnInterpreterEnd(OwnerSlot slot) {
  InterpreterInfo info = InterpreterRegistry::Info(slot);
  WriteEvent("interpreter_end", [&](JsonObject& o) {
    o.Int("index", info.index).Int("id", info.id);
  });
}

[[noreturn]] void Fail(const std::string& message) {
  fprintf(stderr, "interpsan: error: %s\n", message.c_str());
  _exit(2);
}

__attribute__((constructor)) void InterpsanPreloadInit() {
  // Only the process the supervisor started: not its children, which
  // inherit LD_PRELOAD (subprocesses of the program under test). Reading
  // the options removes them from the environment, so those children load
  // the library inactive and do not append to this run's events.
  ProcessOptions opt;
  bool present = false;
  std::string error;
  if (!ReadOptionsFromEnvironment(&opt, &present, &error)) {
    if (present) Fail(error);
    return;
  }
  const char* version = Py_GetVersion();  // static; fine before Py_Initialize
  std::string shim = interpsan_shim_version();
  if (std::string(version).compare(0, shim.size() + 1, shim + ".") != 0) {
    Fail("this program runs CPython " + std::string(version, 4) +
         " but interpsan was built for " + shim + " (use --python " +
         std::string(version, 4) + ")");
  }
  SetupResult result = SetUpProcess(opt);
  RegisterBuiltinModules();
  InterpreterRegistry::SetNewInterpreterListener(&AnnounceInterpreter);
  AddInterpreterEndListener(&OnInterpreterEnd);
  EmitStartEvent(opt, result, "exec", 0);
}

__attribute__((destructor)) void InterpsanPreloadFini() {
  if (EventLog::fd() < 0) return;
  FlushViolationCounts();
}

}  // namespace
}  // namespace interpsan
