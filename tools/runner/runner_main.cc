// runner_main.cc: the checked process of `interpsan run`.
//
// Installs the allocator hooks and the checks before Py_Initialize, then runs
// the same program in N interpreters at once, one thread each, each with its
// own GIL (PEP 684) and the strict extension check. It reports through the
// event log (`events=` of INTERPSAN_OPTIONS); the supervisor
// (tools/supervisor/interpsan.py) turns those events into report.json and the
// exit status, whatever happens here.
//
// How it is started (by tools/supervisor/interpsan.py): its argv is what
// `python`'s would be, [PYTHON, PYTHON_ARGS...] (execve's argv[0] names the
// Python the user runs, not this binary), and its own options come in
// INTERPSAN_OPTIONS (tools/runner/options.h):
//
//   argv: /path/to/venv/bin/python -m pytest -q tests/
//   env:  INTERPSAN_OPTIONS="events=... interpreters=4 checks=all ..."
//
// CPython's getpath then computes sys.executable, sys.prefix (a venv's
// pyvenv.cfg included), sys.exec_prefix and sys.path from argv[0] exactly as
// for that python, and sys.orig_argv, Py_GetArgcArgv and /proc/self/cmdline
// show the same argv. The base installation argv[0] maps to must be the one
// whose libpython this process loaded; anything else is refused (status 2).
#include <Python.h>
#include <marshal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "debug/checks.h"
#include "debug/report.h"
#include "faulthandler/fatal_signal_handler.h"
#include "runtime/event_writer.h"
#include "runtime/interpreter_registry.h"
#include "runtime/json_writer.h"
#include "runtime/own_gil_interpreter.h"
#include "tools/runner/bootstrap_py.h"
#include "tools/runner/options.h"
#include "tools/runner/process_setup.h"
#include "tracemalloc/traceback_table.h"

namespace interpsan {
namespace {

constexpr int kUsageError = 2;

struct Program {
  std::string kind;  // script | module | code
  std::string target;
  std::vector<std::string> argv;  // sys.argv inside each interpreter
};

[[noreturn]] void Usage(const std::string& message) {
  fprintf(stderr, "interpsan: error: %s\n", message.c_str());
  exit(kUsageError);
}

// argv[1..]: PYTHON_ARGS (script.py args | -m module args | -c code args).
Program ParseProgram(int argc, char** argv) {
  if (argc < 2) {
    Usage("no program given (expected script.py | -m module | -c code)");
  }
  std::string first = argv[1];
  Program p;
  if (first == "-m" || first == "-c") {
    if (argc < 3) Usage(first + " needs an argument");
    p.kind = first == "-m" ? "module" : "code";
    p.target = argv[2];
    p.argv.push_back(first == "-m" ? p.target : "-c");
    for (int j = 3; j < argc; j++) p.argv.push_back(argv[j]);
  } else if (!first.empty() && first[0] == '-') {
    Usage("unknown option '" + first +
          "' (expected script.py | -m module | -c code)");
  } else {
    p.kind = "script";
    p.target = first;
    for (int j = 1; j < argc; j++) p.argv.push_back(argv[j]);
  }
  return p;
}

// Refuses (one line, status 2) a Python whose base installation is not the
// one whose libpython this runner loaded: its standard library and
// site-packages would run on another build's C API.
void CheckBaseInstallation(const char* python) {
  std::string loaded = LibpythonPrefix();
  PyObject* base = PySys_GetObject("base_prefix");  // borrowed
  const char* base_text = base != nullptr ? PyUnicode_AsUTF8(base) : nullptr;
  if (loaded.empty() || base_text == nullptr) return;  // nothing to compare
  char* real = realpath(base_text, nullptr);
  std::string base_real = real != nullptr ? real : base_text;
  free(real);
  if (base_real != loaded) {
    fprintf(stderr,
            "interpsan: error: %s is based on %s, but this runner is linked "
            "with the libpython of %s\n",
            python, base_real.c_str(), loaded.c_str());
    _exit(kUsageError);
  }
}

void EmitInterpreterEvent(const char* event, int index, int64_t id,
                          const char* detail) {
  WriteEvent(event, [&](JsonObject& o) {
    o.Int("index", index).Int("id", id);
    if (detail != nullptr) o.Str("detail", detail);
  });
}

// Imports the embedded bootstrap in the current interpreter and runs the
// program. Returns the program's exit code.
int RunProgram(const Program& program) {
  // Compiled at build time by this CPython X.Y (tools/runner/BUILD).
  static_assert(
      kBootstrapCodeMajorMinor == ((PY_MAJOR_VERSION << 8) | PY_MINOR_VERSION),
      "the bootstrap's bytecode is for another CPython");
  PyObject* code = PyMarshal_ReadObjectFromString(
      reinterpret_cast<const char*>(kBootstrapCode), sizeof(kBootstrapCode));
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
  PyObject* result = PyObject_CallMethod(
      module, "run", "ssO", program.kind.c_str(), program.target.c_str(), argv);
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

void RunInterpreter(const Program& program, int index, int* exit_code) {
  EnsureAltStack();
  std::string why;
  PyThreadState* tstate = NewOwnGilInterpreter(&why);
  if (tstate == nullptr) {
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

  *exit_code = RunProgram(program);

  // Teardown runs the interpreter's atexit handlers and frees what it owns;
  // violations and crashes here are attributed to this interpreter too.
  Py_EndInterpreter(tstate);
  // The PyInterpreterState_Delete hook has retired the slot already where
  // interposition works; this covers builds where it does not.
  InterpreterRegistry::Retire(slot);
  EmitInterpreterEvent("interpreter_end", index, id, nullptr);
}

// CPython 3.13's _datetime keeps its classes in static types that every
// interpreter shares: its module exec calls _PyStaticType_InitForExtension,
// where the first interpreter initializes the type runtime-wide (decided by
// Py_TPFLAGS_READY, with no runtime-wide lock) and the last one to end
// finalizes it. Own-GIL interpreters importing it at once race on both
// (CPython gh-136421: aborts and SIGSEGVs in Py_EndInterpreter, in
// _PyStaticType_ClearWeakRefs, also in plain python with _interpreters;
// pytest imports datetime). Importing it here, in the main interpreter before
// any other starts, makes the main interpreter the one that initializes and,
// at Py_FinalizeEx, finalizes them, as CPython 3.14 does at startup. The
// program sees no difference: the main interpreter runs none of its code.
void InitializeSharedStaticTypes() {
#if PY_VERSION_HEX >= 0x030D0000
  PyObject* module = PyImport_ImportModule("_datetime");
  if (module == nullptr) {
    PyErr_Clear();  // a build without _datetime: nothing is shared
  }
  Py_XDECREF(module);
#endif
}

// A PyWideStringList from bytes (argv), decoded as CPython decodes its own
// command line. After pre-initialization (Py_DecodeLocale needs the locale).
bool SetWideList(PyConfig* config, PyWideStringList* list,
                 const std::vector<std::string>& items) {
  std::vector<wchar_t*> wide;
  bool ok = true;
  for (const std::string& item : items) {
    wchar_t* w = Py_DecodeLocale(item.c_str(), nullptr);
    if (w == nullptr) {
      ok = false;
      break;
    }
    wide.push_back(w);
  }
  if (ok) {
    ok = !PyStatus_Exception(PyConfig_SetWideStringList(
        config, list, static_cast<Py_ssize_t>(wide.size()), wide.data()));
  }
  for (wchar_t* w : wide) PyMem_RawFree(w);
  return ok;
}

int Main(int argc, char** argv) {
  ProcessOptions opt;
  bool present = false;
  std::string error;
  if (!ReadOptionsFromEnvironment(&opt, &present, &error)) {
    Usage(present ? error
                  : "INTERPSAN_OPTIONS is not set: start the runner through "
                    "tools/interpsan run");
  }
  Program program = ParseProgram(argc, argv);
  if (program.kind == "script" && access(program.target.c_str(), R_OK) != 0) {
    Usage("cannot open script '" + program.target + "'");
  }
  SetupResult setup_result = SetUpProcess(opt);
  RegisterBuiltinModules();

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.parse_argv = 0;
  config.install_signal_handlers = 1;
  // The program name is the python the user runs (argv[0], set by the
  // supervisor): getpath computes sys.executable from it and, with no
  // `home`, finds a venv's pyvenv.cfg, so sys.prefix, sys.exec_prefix,
  // sys.path (site-packages, .pth files) are that python's own. Programs
  // that start sys.executable get that real python.
  PyStatus status =
      PyConfig_SetBytesString(&config, &config.program_name, argv[0]);
  if (!PyStatus_Exception(status)) {
    std::vector<std::string> args(program.argv);
    std::vector<char*> raw;
    for (std::string& a : args) raw.push_back(a.data());
    status = PyConfig_SetBytesArgv(&config, static_cast<Py_ssize_t>(raw.size()),
                                   raw.data());
  }
  if (PyStatus_Exception(status)) {
    PyConfig_Clear(&config);
    Py_ExitStatusException(status);
  }
  // sys.orig_argv and Py_GetArgcArgv: this process's own argv, which is
  // what `python PYTHON_ARGS...` would have had.
  if (!SetWideList(&config, &config.orig_argv,
                   std::vector<std::string>(argv, argv + argc))) {
    Usage("cannot decode the command line");
  }
  status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    Py_ExitStatusException(status);
  }
  CheckBaseInstallation(argv[0]);
  InitializeSharedStaticTypes();
  OwnerSlot main_slot = InterpreterRegistry::CurrentSlot();
  InterpreterRegistry::SetIndex(main_slot, -1, true);
  EmitStartEvent(opt, setup_result, "run", opt.interpreters);

  PyThreadState* main_tstate = PyEval_SaveThread();
  std::vector<int> exit_codes(opt.interpreters, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < opt.interpreters; i++) {
    threads.emplace_back(RunInterpreter, std::cref(program), i, &exit_codes[i]);
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
