// The report path: the JSON and text forms of a violation carry everything
// report.json and the user need; native-stack helpers name the extension
// to blame; Python tracebacks are captured from the interpreter's frames;
// keep-going mode de-duplicates by site and counts repeats.
#include <Python.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "debug/native_stack.h"
#include "debug/report.h"
#include "runtime/event_log.h"
#include "runtime/interpreter_registry.h"
#include "tests/unit/python_test_env.h"

namespace interpsan {
namespace {

// CPython runs in this process to check that the JSON parses (json.loads)
// and to capture real Python tracebacks.
class PythonEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    testing::InitializePythonForTest();
    // Registers the main interpreter (slot 1, id 0).
    ASSERT_EQ(InterpreterRegistry::CurrentSlot(), kMainSlot);
  }
  void TearDown() override { testing::FinalizePythonForTest(); }
};
::testing::Environment* const python_env =
    ::testing::AddGlobalTestEnvironment(new PythonEnvironment);

// A fake interpreter whose every int64 word is `id` (see
// interpreter_registry_test.cc): the registry reads its id from it.
struct FakeInterpreter {
  explicit FakeInterpreter(int64_t id) {
    for (int64_t& word : words) word = id;
  }
  PyInterpreterState* get() {
    return reinterpret_cast<PyInterpreterState*>(words);
  }
  alignas(64) int64_t words[4096];
};

// Two registered interpreters: the owner (id 7, index 0, ended) and the
// one that acts (id 9, index 2).
struct Interpreters {
  OwnerSlot owner;
  OwnerSlot acting;
};
const Interpreters& TestInterpreters() {
  static const Interpreters* slots = [] {
    static FakeInterpreter owner(7), acting(9);
    auto* s = new Interpreters;
    s->owner = InterpreterRegistry::RegisterForTesting(owner.get(), 7);
    s->acting = InterpreterRegistry::RegisterForTesting(acting.get(), 9);
    InterpreterRegistry::SetIndex(s->owner, 0, true);
    InterpreterRegistry::SetIndex(s->acting, 2, true);
    InterpreterRegistry::Retire(s->owner);
    return s;
  }();
  return *slots;
}

const char kExtensionPath[] = "/x/foo.cpython-312-x86_64-linux-gnu.so";
const char kMessage[] =
    "free of a \"PyMem_Malloc\" block\nowned by interpreter 7, done by "
    "interpreter 9";
const char kFix[] = "keep the buffer in module state (PEP 630)";

Violation TestViolation() {
  Violation v;
  v.kind = "cross-interpreter-free";
  v.check = "free";
  v.current = TestInterpreters().acting;
  v.owner = TestInterpreters().owner;
  v.object_type = "PyMem_Malloc block (64 bytes)";
  v.address = reinterpret_cast<const void*>(0x1234);
  v.size = 64;
  v.message = kMessage;
  v.fix = kFix;
  return v;
}

std::vector<PythonFrame> TestTraceback() {
  return {{"/app/main.py", "<module>", 10}, {"/app/lib.py", "leak", 42}};
}

std::vector<NativeFrame> TestStack() {
  return {
      {reinterpret_cast<void*>(0x7f0000001000),
       "/usr/lib/x86_64-linux-gnu/libc.so.6", "free", 0x1000, 0x4},
      {reinterpret_cast<void*>(0x7f0000002000), kExtensionPath, "foo_leak",
       0x200, 0x20},
      {reinterpret_cast<void*>(0x7f0000003000),
       "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0",
       "_PyEval_EvalFrameDefault", 0x3000, 0x30},
  };
}

// Puts `json` into __main__ as `doc = json.loads(...)`; fails the test if it
// does not parse.
void LoadJson(const std::string& json) {
  PyObject* main_module = PyImport_AddModule("__main__");
  ASSERT_NE(main_module, nullptr);
  PyObject* text = PyUnicode_FromStringAndSize(json.data(), json.size());
  ASSERT_NE(text, nullptr);
  ASSERT_EQ(PyModule_AddObject(main_module, "json_text", text), 0);
  ASSERT_TRUE(testing::RunPython("import json\ndoc = json.loads(json_text)\n"))
      << json;
}

std::string Eval(const char* expression) {
  return testing::EvalToString(expression);
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(FormatViolationJsonTest, IsValidJsonWithEveryReportKey) {
  std::string json =
      FormatViolationJson(TestViolation(), TestTraceback(), TestStack(), 1);
  LoadJson(json);
  // The keys README ("report.json") promises for a violation.
  EXPECT_EQ(Eval("sorted({'kind', 'interpreter', 'owner_interpreter', "
                 "'object_type', 'object_address', 'extension', "
                 "'python_traceback', 'allocation_traceback', 'native_frames', "
                 "'message'} - set(doc))"),
            "[]");
  // Facts only: the frames are worded once, by the supervisor
  // (tools/report/symbolize.py), never by the checked process.
  EXPECT_EQ(Eval("'native_stack' in doc"), "False");
  EXPECT_EQ(Eval("doc['kind']"), "cross-interpreter-free");
  EXPECT_EQ(Eval("doc['check']"), "free");
  EXPECT_EQ(Eval("doc['interpreter']"), "9");
  EXPECT_EQ(Eval("doc['interpreter_index']"), "2");
  EXPECT_EQ(Eval("doc['owner_interpreter']"), "7");
  EXPECT_EQ(Eval("doc['owner_index']"), "0");
  EXPECT_EQ(Eval("doc['owner_ended']"), "True");
  EXPECT_EQ(Eval("doc['object_type']"), "PyMem_Malloc block (64 bytes)");
  EXPECT_EQ(Eval("doc['object_address']"), "0x1234");
  EXPECT_EQ(Eval("doc['size']"), "64");
  EXPECT_EQ(Eval("doc['message']"), kMessage);  // quotes and newline survive
  EXPECT_EQ(Eval("doc['fix']"), kFix);
  EXPECT_EQ(Eval("doc['extension']"), "foo");
  EXPECT_EQ(Eval("doc['extension_path']"), kExtensionPath);
  EXPECT_EQ(Eval("doc['extension_function']"), "foo_leak");
  EXPECT_EQ(Eval("doc['python_traceback']"),
            "[{'filename': '/app/main.py', 'lineno': 10, 'name': '<module>'}, "
            "{'filename': '/app/lib.py', 'lineno': 42, 'name': 'leak'}]");
  EXPECT_EQ(Eval("doc['allocation_traceback']"), "[]");
  EXPECT_EQ(Eval("len(doc['native_frames'])"), "3");
  EXPECT_EQ(Eval("doc['native_frames'][1]"),
            std::string("{'module': '") + kExtensionPath +
                "', 'offset': '0x200', 'symbol': 'foo_leak'}");
}

TEST(FormatViolationJsonTest, NoExtensionFrameMeansNullExtension) {
  std::string json = FormatViolationJson(TestViolation(), {}, {}, -1);
  LoadJson(json);
  EXPECT_EQ(Eval("doc['extension'] is None"), "True");
  EXPECT_EQ(Eval("'extension_path' in doc"), "False");
  EXPECT_EQ(Eval("doc['python_traceback']"), "[]");
  EXPECT_EQ(Eval("doc['native_frames']"), "[]");
}

// One terse line a finding (issue 12): the full words come from the report.
TEST(FormatViolationTextTest, OneLineNamingKindInterpretersExtensionAndSite) {
  std::string text =
      FormatViolationText(TestViolation(), TestTraceback(), TestStack(), 1);
  EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
  // The message's own newline is a space on that line.
  EXPECT_EQ(text,
            "==interpsan== ERROR: cross-interpreter-free: free of a "
            "\"PyMem_Malloc\" block owned by interpreter 7, done by "
            "interpreter 9; owner: interpreter 7 (index 0, ended); acting: "
            "interpreter 9 (index 2); extension: foo, in foo_leak(); at "
            "/app/lib.py:42 in leak\n");
}

TEST(FormatViolationTextTest, MainInterpreterAndEmptyTraceback) {
  Violation v = TestViolation();
  v.current = kMainSlot;
  v.fix.clear();
  std::string text = FormatViolationText(v, {}, {}, -1);
  EXPECT_TRUE(Contains(text, "; acting: the main interpreter (id 0)\n"))
      << text;
  EXPECT_FALSE(Contains(text, "interpreter 0")) << text;
  EXPECT_FALSE(Contains(text, "extension:")) << text;
  EXPECT_FALSE(Contains(text, "; at ")) << text;
  EXPECT_EQ(InterpreterName(kMainSlot), "the main interpreter");
}

// A class is named by its own name, not by its metaclass's (issue 11: a
// class made by type(...) with an ABC base showed as 'ABCMeta').
TEST(ObjectTypeNameTest, ClassesByTheirOwnName) {
  PyObject* globals = PyDict_New();
  PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
  PyObject* done = PyRun_String(
      "import abc\n"
      "Made = type('Made', (abc.ABC,), {})\n"
      "class Plain: pass\n"
      "instance = Plain()\n",
      Py_file_input, globals, globals);
  ASSERT_NE(done, nullptr);
  Py_DECREF(done);
  EXPECT_EQ(ObjectTypeName(PyDict_GetItemString(globals, "Made")),
            "class Made (metaclass ABCMeta)");
  EXPECT_EQ(ObjectTypeName(PyDict_GetItemString(globals, "Plain")),
            "class Plain");
  EXPECT_EQ(ObjectTypeName(PyDict_GetItemString(globals, "instance")), "Plain");
  EXPECT_EQ(ObjectTypeName(Py_None), "NoneType");
  Py_DECREF(globals);
}

TEST(NativeStackTest, ExtensionNameFromPath) {
  EXPECT_EQ(ExtensionNameFromPath("/x/foo.cpython-312-x86_64-linux-gnu.so"),
            "foo");
  EXPECT_EQ(ExtensionNameFromPath("foo.cpython-313-x86_64-linux-gnu.so"),
            "foo");
  EXPECT_EQ(ExtensionNameFromPath("/a.b/c/_speedups.abi3.so"), "_speedups");
  EXPECT_EQ(ExtensionNameFromPath("/opt/plugin"), "plugin");
}

TEST(NativeStackTest, InfrastructureModules) {
  EXPECT_TRUE(IsInfrastructureModule(""));
  EXPECT_TRUE(IsInfrastructureModule("/usr/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_TRUE(IsInfrastructureModule("/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_TRUE(IsInfrastructureModule("/lib64/ld-linux-x86-64.so.2"));
  EXPECT_TRUE(
      IsInfrastructureModule("/usr/lib/x86_64-linux-gnu/libstdc++.so.6"));
  EXPECT_TRUE(IsInfrastructureModule(
      "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0"));
  EXPECT_TRUE(IsInfrastructureModule(
      "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0"));
  EXPECT_FALSE(IsInfrastructureModule(kExtensionPath));
  EXPECT_FALSE(IsInfrastructureModule(
      "/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.so"));
  // The loaded libpython and this executable (interpsan's code is linked
  // in) are recognised by their actual paths.
  Dl_info info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&Py_IncRef), &info), 0);
  EXPECT_TRUE(IsInfrastructureModule(info.dli_fname)) << info.dli_fname;
}

TEST(NativeStackTest, FindExtensionFrameSkipsInfrastructure) {
  EXPECT_EQ(FindExtensionFrame(TestStack()), 1);
  EXPECT_EQ(FindExtensionFrame({}), -1);
  std::vector<NativeFrame> only_infrastructure = {TestStack()[0],
                                                  TestStack()[2]};
  EXPECT_EQ(FindExtensionFrame(only_infrastructure), -1);
}

TEST(NativeStackTest, CaptureNativeStackSeesThisProgramAndBlamesNoOne) {
  std::vector<NativeFrame> stack = CaptureNativeStack(0);
  ASSERT_GE(stack.size(), 3u);
  // dladdr names the program by argv[0] (here a runfiles symlink).
  char self[PATH_MAX];
  ASSERT_NE(realpath("/proc/self/exe", self), nullptr);
  bool saw_self = false, saw_libc = false;
  for (const NativeFrame& f : stack) {
    EXPECT_NE(f.pc, nullptr);
    char resolved[PATH_MAX];
    if (realpath(f.module.c_str(), resolved) != nullptr &&
        strcmp(resolved, self) == 0) {
      saw_self = true;
    }
    if (Contains(f.module, "libc.so")) saw_libc = true;
  }
  EXPECT_TRUE(saw_self) << "no frame in " << self;
  EXPECT_TRUE(saw_libc) << "no frame in libc (__libc_start_main)";
  // Only interpsan and gtest (linked into this program, as interpsan is
  // into the runner: the tests link statically) and libc are on the stack:
  // there is no extension to blame.
  int blamed = FindExtensionFrame(stack);
  EXPECT_EQ(blamed, -1) << (blamed < 0 ? "" : stack[blamed].module);
}

TEST(NativeStackTest, FirstForeignFrameSkipsInterpsansOwnFrames) {
  // interpsan is linked into this test program, as into the runner.
  Dl_info info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&FirstForeignFrame), &info), 0);
  const std::string self = info.dli_fname;
  auto frame = [](const std::string& module) {
    return NativeFrame{nullptr, module, "", 0, 0};
  };
  EXPECT_EQ(FirstForeignFrame({frame(self), frame(self), frame(kExtensionPath),
                               frame("/lib/x86_64-linux-gnu/libc.so.6")}),
            2u);
  EXPECT_EQ(FirstForeignFrame({frame(kExtensionPath), frame(self)}), 0u);
  // Nothing foreign: keep everything.
  EXPECT_EQ(FirstForeignFrame({frame(self), frame(self)}), 0u);
  EXPECT_EQ(FirstForeignFrame({}), 0u);
}

// ---- through Python: traceback capture and the report path ---------------

std::vector<PythonFrame>* g_captured = nullptr;

PyObject* CaptureFromPython(PyObject*, PyObject*) {
  *g_captured = CapturePythonTraceback();
  Py_RETURN_NONE;
}

PyObject* ReportFromPython(PyObject*, PyObject*) {
  ReportViolation(TestViolation());
  Py_RETURN_NONE;
}

PyMethodDef kCaptureDef = {"capture", CaptureFromPython, METH_NOARGS, nullptr};
PyMethodDef kReportDef = {"report_violation", ReportFromPython, METH_NOARGS,
                          nullptr};

// Runs `source` (named `filename`) in __main__ with capture() and
// report_violation() available.
void RunSource(const char* source, const char* filename) {
  PyObject* main_module = PyImport_AddModule("__main__");
  ASSERT_NE(main_module, nullptr);
  PyObject* globals = PyModule_GetDict(main_module);
  PyObject* capture = PyCFunction_New(&kCaptureDef, nullptr);
  PyObject* report = PyCFunction_New(&kReportDef, nullptr);
  ASSERT_EQ(PyDict_SetItemString(globals, "capture", capture), 0);
  ASSERT_EQ(PyDict_SetItemString(globals, "report_violation", report), 0);
  Py_DECREF(capture);
  Py_DECREF(report);
  PyObject* code = Py_CompileString(source, filename, Py_file_input);
  ASSERT_NE(code, nullptr);
  PyObject* result = PyEval_EvalCode(code, globals, globals);
  Py_DECREF(code);
  if (result == nullptr) PyErr_Print();
  ASSERT_NE(result, nullptr);
  Py_DECREF(result);
}

TEST(CapturePythonTracebackTest, MostRecentCallLastWithLinesAndNames) {
  std::vector<PythonFrame> frames;
  g_captured = &frames;
  RunSource(
      "def inner():\n"            // 1
      "    return capture()\n"    // 2
      "class Outer:\n"            // 3
      "    def method(self):\n"   // 4
      "        return inner()\n"  // 5
      "Outer().method()\n",       // 6
      "/src/traceback_source.py");
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].filename, "/src/traceback_source.py");
  EXPECT_EQ(frames[0].name, "<module>");
  EXPECT_EQ(frames[0].lineno, 6);
  EXPECT_EQ(frames[1].name, "Outer.method");  // co_qualname
  EXPECT_EQ(frames[1].lineno, 5);
  EXPECT_EQ(frames[2].name, "inner");
  EXPECT_EQ(frames[2].lineno, 2);
}

TEST(CapturePythonTracebackTest, RunnerBootstrapFramesAreLeftOut) {
  std::vector<PythonFrame> frames;
  g_captured = &frames;
  RunSource(
      "def user_function():\n"
      "    return capture()\n",
      "/src/user_program.py");
  // The runner's bootstrap calls the user's program.
  RunSource("user_function()\n", "<interpsan-bootstrap>");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].filename, "/src/user_program.py");
  EXPECT_EQ(frames[0].name, "user_function");
  EXPECT_EQ(frames[0].lineno, 2);
}

TEST(CapturePythonTracebackTest, NoFramesOutsidePythonCode) {
  EXPECT_TRUE(CapturePythonTraceback().empty());
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ReportViolationTest, KeepGoingDeduplicatesBySiteAndCountsRepeats) {
  const char* tmpdir = getenv("TEST_TMPDIR");
  std::string events = std::string(tmpdir ? tmpdir : "/tmp") +
                       "/report_format_test_events.jsonl";
  remove(events.c_str());
  ASSERT_TRUE(EventLog::Open(events.c_str()));
  ReportOptions options;
  options.fatal = false;
  ConfigureReports(options);

  int total_before = TotalViolationCount();
  int distinct_before = DistinctViolationCount();
  ::testing::internal::CaptureStderr();
  RunSource(
      "def report_here():\n"
      "    report_violation()\n"  // line 2: one site, three times
      "for i in range(3):\n"
      "    report_here()\n"
      "report_violation()\n",  // line 5: a second site
      "/src/report_source.py");
  std::string stderr_text = ::testing::internal::GetCapturedStderr();
  FlushViolationCounts();

  EXPECT_EQ(TotalViolationCount() - total_before, 4);
  EXPECT_EQ(DistinctViolationCount() - distinct_before, 2);
  // Printed once per site, not once per repeat; no abort banner.
  size_t printed = 0;
  for (size_t at = stderr_text.find("==interpsan== ERROR");
       at != std::string::npos;
       at = stderr_text.find("==interpsan== ERROR", at + 1)) {
    printed++;
  }
  EXPECT_EQ(printed, 2u) << stderr_text;
  EXPECT_FALSE(Contains(stderr_text, "ABORTING")) << stderr_text;
  EXPECT_TRUE(
      Contains(stderr_text, "at /src/report_source.py:2 in report_here"))
      << stderr_text;

  // The first site's violation, its count as it reached 2 (a power of two:
  // written at once, so a crash keeps it), the second site's violation,
  // then the flush: the first site's final count and the end marker.
  std::vector<std::string> lines = ReadLines(events);
  ASSERT_EQ(lines.size(), 5u);
  LoadJson(lines[0]);
  EXPECT_EQ(Eval("doc['event']"), "violation");
  EXPECT_EQ(Eval("doc['violation']['kind']"), "cross-interpreter-free");
  EXPECT_EQ(Eval("doc['violation']['python_traceback'][-1]"),
            "{'filename': '/src/report_source.py', 'lineno': 2, "
            "'name': 'report_here'}");
  EXPECT_EQ(Eval("doc['violation']['python_traceback'][0]['lineno']"), "4");
  EXPECT_EQ(Eval("len(doc['violation']['native_frames']) > 0"), "True");
  std::string first_id = Eval("doc['id']");
  LoadJson(lines[1]);
  EXPECT_EQ(Eval("doc['event']"), "violation_count");
  EXPECT_EQ(Eval("str(doc['id'])"), first_id);
  EXPECT_EQ(Eval("doc['count']"), "2");
  LoadJson(lines[2]);
  EXPECT_EQ(Eval("doc['event']"), "violation");
  EXPECT_EQ(Eval("doc['violation']['python_traceback'][-1]['lineno']"), "5");
  EXPECT_NE(Eval("doc['id']"), first_id);
  LoadJson(lines[3]);
  EXPECT_EQ(Eval("doc['event']"), "violation_count");
  EXPECT_EQ(Eval("str(doc['id'])"), first_id);
  EXPECT_EQ(Eval("doc['count']"), "3");
  LoadJson(lines[4]);
  EXPECT_EQ(Eval("doc['event']"), "violation_counts_final");
}

// What the faulthandler's epilogue writes when a crash, the watchdog or an
// interrupt ends the process: every count exactly, from a signal handler.
TEST(ReportViolationTest, SignalSafeCountsAreExact) {
  const char* tmpdir = getenv("TEST_TMPDIR");
  std::string path = std::string(tmpdir ? tmpdir : "/tmp") +
                     "/report_format_test_signal_counts.jsonl";
  remove(path.c_str());
  ReportOptions options;
  options.fatal = false;
  ConfigureReports(options);
  ::testing::internal::CaptureStderr();
  RunSource(
      "for i in range(5):\n"
      "    report_violation()\n",  // one site, 5 times: not a power of two
      "/src/signal_counts.py");
  ::testing::internal::GetCapturedStderr();
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  WriteViolationCountsSignalSafe(fd);
  close(fd);
  std::vector<std::string> lines = ReadLines(path);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "{\"event\":\"violation_counts_final\"}");
  bool found = false;
  for (const std::string& line : lines) {
    if (Contains(line, "\"count\":5}")) found = true;
  }
  EXPECT_TRUE(found) << lines.size() << " lines; first: " << lines.front();
}

TEST(ReportViolationDeathTest, FatalModeExitsWithStatus3) {
  ReportOptions options;  // fatal by default
  ConfigureReports(options);
  Violation v = TestViolation();
  v.kind = "fatal-test-kind";  // a site not reported before
  EXPECT_EXIT(ReportViolation(v), ::testing::ExitedWithCode(3),
              "ERROR: fatal-test-kind(.|\n)*ABORTING on the first violation");
  options.fatal = false;
  ConfigureReports(options);
}

}  // namespace
}  // namespace interpsan
