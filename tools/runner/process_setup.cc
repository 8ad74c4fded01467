#include "tools/runner/process_setup.h"

#include <Python.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

#include "debug/capi_boundary_checks.h"
#include "debug/checks.h"
#include "debug/events_schema_version.h"
#include "debug/object_graph_audit.h"
#include "debug/report.h"
#include "faulthandler/fatal_signal_handler.h"
#include "faulthandler/faulthandler_module.h"
#include "runtime/allocator_hooks.h"
#include "runtime/anomaly.h"
#include "runtime/arena_map.h"
#include "runtime/current_thread_state.h"
#include "runtime/dealloc_hook.h"
#include "runtime/event_log.h"
#include "runtime/interpreter_lifecycle_hook.h"
#include "runtime/json_writer.h"
#include "runtime/new_reference_hook.h"
#include "runtime/python_shim.h"
#include "runtime/symbol_interposition.h"
#include "tools/runner/interpsan_module.h"
#include "tracemalloc/tracemalloc_module.h"
#include "tracemalloc/tracer.h"

namespace interpsan {

namespace {

// PREFIX/lib of the loaded libpython ("" if unknown).
std::string LibpythonDirectory() {
  Dl_info info;
  // Py_GetVersion: a function interpsan does not interpose, so it resolves
  // to libpython itself.
  if (dladdr(reinterpret_cast<void*>(&Py_GetVersion), &info) == 0 ||
      info.dli_fname == nullptr) {
    return "";
  }
  std::string lib = info.dli_fname;  // PREFIX/lib/libpython3.X.so.1.0
  size_t slash = lib.rfind('/');
  if (slash == std::string::npos) return "";
  return lib.substr(0, slash);
}

}  // namespace

std::string StdlibDirectory() {
  std::string dir = LibpythonDirectory();
  if (dir.empty()) return "";
  return dir + "/python" + interpsan_shim_version() + "/";
}

std::string LibpythonPrefix() {
  std::string dir = LibpythonDirectory();
  if (dir.empty()) return "";
  char* real = realpath(dir.c_str(), nullptr);
  if (real == nullptr) return "";
  std::string prefix = real;
  free(real);
  size_t slash = prefix.rfind('/');
  return slash == std::string::npos || slash == 0 ? ""
                                                  : prefix.substr(0, slash);
}

SetupResult SetUpProcess(const ProcessOptions& opt) {
  SetupResult result;
  EventLog::Open(opt.events_path.c_str());
  FaultHandlerOptions faults;
  faults.events_fd = EventLog::fd();
  // Test hook (tests/faulthandler): a fault inside the crash handler.
  const char* fault_test = getenv("INTERPSAN_TEST_FAULT_IN_HANDLER");
  faults.fault_inside_dump_for_testing =
      fault_test != nullptr && *fault_test == '1';
  // Test hook (tests/faulthandler): a crash dump that hangs, ended by the
  // dump's time limit, shortened to 1 s so that the test is quick.
  const char* hang_test = getenv("INTERPSAN_TEST_HANG_IN_HANDLER");
  if (hang_test != nullptr && *hang_test == '1') {
    faults.hang_inside_dump_for_testing = true;
    faults.dump_time_limit_seconds = 1;
  }
  // A crash, watchdog stop or interrupt keeps the exact violation counts.
  faults.dump_epilogue = &WriteViolationCountsSignalSafe;
  InstallFaultHandler(faults);
  ReportOptions report;
  report.fatal = !opt.keep_going;
  ConfigureReports(report);
  if (!opt.suppressions.empty()) SetSuppressions(opt.suppressions);
  SetAuditMode(opt.audit);
  InstallChecks();

  result.interpreter_lifecycle_interposed =
      InitInterpreterLifecycleHook() &&
      ProcessBindsTo("PyInterpreterState_Delete",
                     reinterpret_cast<void*>(&PyInterpreterState_Delete));
  if (!result.interpreter_lifecycle_interposed) {
    fprintf(stderr,
            "interpsan: warning: PyInterpreterState_Delete is not interposed; "
            "interpreters that end are not retired (identities may be "
            "reused, tracemalloc misses their end)\n");
  }
  if (opt.checks != 0) {
    InitDeallocHook();
    result.dealloc_interposed = DeallocHookActive();
    if (!result.dealloc_interposed && (opt.checks & kCheckDealloc)) {
      fprintf(stderr,
              "interpsan: warning: this libpython binds _Py_Dealloc "
              "internally (-fno-semantic-interposition); deallocation checks "
              "see extension code only\n");
    }
  }
  // Tracing can start later (interpsan.tracemalloc.start()): always.
  InitNewReferenceHook();
  result.new_reference_interposed = NewReferenceHookActive();
  // One hook layer serves both clients: the checks and tracemalloc.
  Tracer::Install(/*report_leaks=*/opt.trace_frames > 0);
  if (opt.checks != 0 || opt.trace_frames > 0) {
    // The allocator hooks tell pymalloc's blocks from their own (headed)
    // ones by the arena table: without it every pymalloc block would look
    // headerless and its free an invalid-free (a false alarm on every
    // program). So no table, no allocator hooks: those checks and tracing
    // are off, and coverage says so.
    // Test hook (tests/faulthandler): behave as if the table's mmap failed.
    const char* no_arena_map = getenv("INTERPSAN_TEST_NO_ARENA_MAP");
    if (no_arena_map == nullptr || *no_arena_map != '1') ArenaMap::Init();
    result.arena_map = ArenaMap::Active();
    if (result.arena_map) {
      AllocatorHooks::Install(opt.checks);
    } else {
      fprintf(stderr,
              "interpsan: warning: the arena ownership table could not be "
              "mapped (mmap failed); allocator checks (wrong-domain, "
              "cross-interpreter free) and tracemalloc are off in this run\n");
    }
  }
  InitCallerRanges();  // after g_enabled_checks is set
  Tracer::SetDefaultFrames(opt.trace_frames);
  Tracer::SetRuntimePrefix(StdlibDirectory());
  return result;
}

void RegisterBuiltinModules() {
  PyImport_AppendInittab("interpsan", &PyInit_interpsan);
  PyImport_AppendInittab("_interpsan_faulthandler",
                         &PyInit__interpsan_faulthandler);
  PyImport_AppendInittab("_interpsan_tracemalloc",
                         &PyInit__interpsan_tracemalloc);
}

void EmitStartEvent(const ProcessOptions& opt, const SetupResult& result,
                    const char* mode, int interpreters) {
  std::string out;
  JsonObject o(&out);
  // The contract these events follow (debug/events_schema.json): the
  // supervisor checks it before it reads the rest.
  o.Str("event", "start")
      .Int("schema_version", INTERPSAN_EVENTS_SCHEMA_VERSION)
      .Str("mode", mode)
      .Str("python", Py_GetVersion())
      .Str("shim", interpsan_shim_version())
      .Int("interpreters", interpreters)
      .Str("checks", opt.checks_list)
      .Bool("keep_going", opt.keep_going)
      .Bool("dealloc_interposed", result.dealloc_interposed)
      .Bool("new_reference_interposed", result.new_reference_interposed)
      .Bool("interpreter_lifecycle_interposed",
            result.interpreter_lifecycle_interposed)
      .Bool("arena_map", result.arena_map)
      .Bool("fast_thread_state", CurrentThreadState::fast_path_enabled())
      .Int("trace_malloc", opt.trace_frames);
  o.End();
  EventLog::Write(out);
}

}  // namespace interpsan
