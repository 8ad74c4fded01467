// runner_main.cc: the checked process of `interpsan run`.
//
// Installs the allocator hooks and the checks before Py_Initialize, then runs
// the same program in N interpreters at once, one thread each, each with its
// own GIL (PEP 684) and the strict extension check. It reports through the
// event log ($INTERPSAN_EVENTS); the supervisor (tools/interpsan.py) turns
// those events into report.json and the exit status, whatever happens here.
//
// Usage (normally called by tools/interpsan):
//   interpsan_runner [-n N] [--checks LIST] [--keep-going] -- PYTHON_ARGS...
#include <Python.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "debug/checks.h"
#include "debug/event_log.h"
#include "debug/json_writer.h"
#include "debug/report.h"
#include "interpsan_python_config.h"
#include "runtime/interpreter_registry.h"
#include "tools/bootstrap_py.h"
#include "faulthandler/fatal_signal_handler.h"
#include "tools/process_setup.h"
#include "tracemalloc/traceback_table.h"

namespace interpsan {
namespace {

constexpr int kUsageError = 2;

struct Program {
  std::string kind;  // script | module | code
  std::string target;
  std::vector<std::string> argv;  // sys.argv inside each interpreter
};

struct Options {
  int interpreters = 4;
  uint32_t checks = kCheckAll;
  std::string checks_list = "all";
  bool keep_going = false;
  int trace_frames = 0;  // --trace-malloc N
  std::vector<Suppression> suppressions;
  Program program;
};

[[noreturn]] void Usage(const std::string& message) {
  fprintf(stderr, "interpsan: error: %s\n", message.c_str());
  exit(kUsageError);
}

Options ParseArgs(int argc, char** argv) {
  Options opt;
  int i = 1;
  for (; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "--") {
      i++;
      break;
    } else if (arg == "-n" && i + 1 < argc) {
      char* end = nullptr;
      long n = strtol(argv[++i], &end, 10);
      if (*end != '\0' || n < 1 || n > 1024) {
        Usage("-n needs a number of interpreters from 1 to 1024");
      }
      opt.interpreters = static_cast<int>(n);
    } else if (arg == "--checks" && i + 1 < argc) {
      std::string error;
      opt.checks_list = argv[++i];
      if (!ParseChecks(opt.checks_list, &opt.checks, &error)) Usage(error);
    } else if (arg == "--suppressions" && i + 1 < argc) {
      std::string error;
      if (!LoadSuppressions(argv[++i], &opt.suppressions, &error)) Usage(error);
    } else if (arg == "--trace-malloc" && i + 1 < argc) {
      char* end = nullptr;
      long n = strtol(argv[++i], &end, 10);
      if (*end != '\0' || n < 0 || n > kMaxTraceFrames) {
        Usage("--trace-malloc needs a number of frames from 0 to " +
              std::to_string(kMaxTraceFrames));
      }
      opt.trace_frames = static_cast<int>(n);
    } else if (arg == "--keep-going") {
      opt.keep_going = true;
    } else {
      Usage("unknown runner option '" + arg + "'");
    }
  }
  if (i >= argc) Usage("no program given (expected -- script.py | -m module | -c code)");
  std::string first = argv[i];
  Program& p = opt.program;
  if (first == "-m" || first == "-c") {
    if (i + 1 >= argc) Usage(first + " needs an argument");
    p.kind = first == "-m" ? "module" : "code";
    p.target = argv[i + 1];
    p.argv.push_back(first == "-m" ? p.target : "-c");
    for (int j = i + 2; j < argc; j++) p.argv.push_back(argv[j]);
  } else {
    p.kind = "script";
    p.target = first;
    for (int j = i; j < argc; j++) p.argv.push_back(argv[j]);
  }
  return opt;
}

void EmitInterpreterEvent(const char* event, int index, int64_t id,
                          const char* detail) {
  std::string out;
  JsonObject o(&out);
  o.Str("event", event).Int("index", index).Int("id", id);
  if (detail != nullptr) o.Str("detail", detail);
  o.End();
  EventLog::Write(out);
}

// Imports the embedded bootstrap in the current interpreter and runs the
// program. Returns the program's exit code.
int RunProgram(const Program& program) {
  PyObject* code = Py_CompileString(kBootstrapPy, "<interpsan-bootstrap>",
                                    Py_file_input);
  if (code == nullptr) {
    PyErr_Print();
    return 1;
  }
  PyObject* module = PyImport_ExecCodeModule("_interpsan_bootstrap", code);
  Py_DECREF(code);
  if (module == nullptr) {
    PyErr_Print();
    return 1;
  }
  PyObject* argv = PyList_New(0);
  for (const std::string& a : program.argv) {
    PyObject* s = PyUnicode_DecodeFSDefault(a.c_str());
    PyList_Append(argv, s);
    Py_DECREF(s);
  }
  PyObject* result = PyObject_CallMethod(module, "run", "ssO",
                                         program.kind.c_str(),
                                         program.target.c_str(), argv);
  Py_DECREF(argv);
  Py_DECREF(module);
  if (result == nullptr) {
    PyErr_Print();
    return 1;
  }
  long exit_code = PyLong_AsLong(result);
  Py_DECREF(result);
  return static_cast<int>(exit_code);
}

void RunInterpreter(const Options& opt, int index, int* exit_code) {
  EnsureAltStack();
  PyInterpreterConfig config = {};
  config.use_main_obmalloc = 0;
  config.allow_fork = 0;
  config.allow_exec = 0;
  config.allow_threads = 1;
  config.allow_daemon_threads = 0;
  config.check_multi_interp_extensions = 1;
  config.gil = PyInterpreterConfig_OWN_GIL;

  PyThreadState* tstate = nullptr;
  PyStatus status = Py_NewInterpreterFromConfig(&tstate, &config);
  if (PyStatus_Exception(status) || tstate == nullptr) {
    std::string why = status.err_msg ? status.err_msg : "unknown error";
    fprintf(stderr, "interpsan: interpreter %d could not be created: %s\n",
            index, why.c_str());
    EmitInterpreterEvent("interpreter_create_failed", index, -1, why.c_str());
    *exit_code = 1;
    return;
  }
  OwnerSlot slot = InterpreterRegistry::CurrentSlot();
  InterpreterRegistry::SetIndex(slot, index, /*own_gil=*/true);
  int64_t id = PyInterpreterState_GetID(PyThreadState_GetInterpreter(tstate));
  EmitInterpreterEvent("interpreter_start", index, id, nullptr);

  *exit_code = RunProgram(opt.program);

  // Teardown runs the interpreter's atexit handlers and frees what it owns;
  // violations and crashes here are attributed to this interpreter too.
  Py_EndInterpreter(tstate);
  // The PyInterpreterState_Delete hook has retired the slot already where
  // interposition works; this covers builds where it does not.
  InterpreterRegistry::Retire(slot);
  EmitInterpreterEvent("interpreter_end", index, id, nullptr);
}

int Main(int argc, char** argv) {
  Options opt = ParseArgs(argc, argv);
  if (opt.program.kind == "script" && access(opt.program.target.c_str(), R_OK) != 0) {
    Usage("cannot open script '" + opt.program.target + "'");
  }
  SetupOptions setup;
  setup.checks = opt.checks;
  setup.checks_list = opt.checks_list;
  setup.keep_going = opt.keep_going;
  setup.trace_frames = opt.trace_frames;
  setup.suppressions = opt.suppressions;
  SetupResult setup_result = SetUpProcess(setup);
  RegisterBuiltinModules();

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.parse_argv = 0;
  config.install_signal_handlers = 1;
  PyConfig_SetBytesString(&config, &config.home, INTERPSAN_PYTHON_HOME);
  // Programs that start `sys.executable` must get a real python.
  PyConfig_SetBytesString(&config, &config.executable,
                          INTERPSAN_PYTHON_EXECUTABLE);
  const char* fake_argv[] = {INTERPSAN_PYTHON_EXECUTABLE};
  PyConfig_SetBytesArgv(&config, 1, const_cast<char**>(fake_argv));
  PyStatus status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    Py_ExitStatusException(status);
  }
  OwnerSlot main_slot = InterpreterRegistry::CurrentSlot();
  InterpreterRegistry::SetIndex(main_slot, -1, true);
  EmitStartEvent(setup, setup_result, "run", opt.interpreters);

  PyThreadState* main_tstate = PyEval_SaveThread();
  std::vector<int> exit_codes(opt.interpreters, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < opt.interpreters; i++) {
    threads.emplace_back(RunInterpreter, std::cref(opt), i, &exit_codes[i]);
  }
  for (std::thread& t : threads) t.join();
  PyEval_RestoreThread(main_tstate);

  int finalize = Py_FinalizeEx();
  // After finalization, so repeats found during teardown are counted too.
  FlushViolationCounts();
  int result = 0;
  for (int code : exit_codes) {
    if (code != 0) result = 1;
  }
  if (TotalViolationCount() > 0) result = 3;
  if (result == 0 && finalize < 0) result = 1;
  return result;
}

}  // namespace
}  // namespace interpsan

int main(int argc, char** argv) { return interpsan::Main(argc, argv); }
