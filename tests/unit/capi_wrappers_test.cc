// The C-API wrappers generated from debug/capi_wrapped_functions.inc, in a
// real CPython with --keep-going: one call per kind of list entry (ARG,
// STOLEN, CALLABLE, ARRAY) and per refusal (kRaise, kAnswerNo,
// kImmortalize), made by an "extension" (libcapi_caller.so) from an
// own-GIL subinterpreter with the main interpreter's objects. Each is
// refused as its line says and reported with the right kind, function and
// argument; the same calls with the subinterpreter's own objects go
// through, unreported, and so does the test program's own call (interpsan's
// and libpython's calls are not checked).
#include <Python.h>
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "debug/capi_boundary_checks.h"
#include "debug/report.h"
#include "runtime/allocator_hooks.h"
#include "runtime/anomaly.h"
#include "runtime/arena_map.h"
#include "runtime/event_log.h"
#include "runtime/interpreter_registry.h"
#include "tests/unit/python_test_env.h"

namespace interpsan {
namespace {

std::string EventsPath() {
  const char* tmp = getenv("TEST_TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/capi_wrappers_events.jsonl";
}

// The "violation" events written so far.
std::vector<std::string> ViolationEvents() {
  std::ifstream in(EventsPath());
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("\"event\":\"violation\"") != std::string::npos)
      out.push_back(line);
  }
  return out;
}

class CheckedPythonEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    unlink(EventsPath().c_str());
    ASSERT_TRUE(EventLog::Open(EventsPath().c_str()));
    ReportOptions options;
    options.fatal = false;  // --keep-going: refuse, report, go on
    ConfigureReports(options);
    ArenaMap::Init();
    ASSERT_TRUE(ArenaMap::Active());
    AllocatorHooks::Install(kCheckCapi);  // owners recorded; capi on
    InitCallerRanges();
    testing::InitializePythonForTest();
  }
  void TearDown() override { EXPECT_EQ(testing::FinalizePythonForTest(), 0); }
};
::testing::Environment* const checked_python_env =
    ::testing::AddGlobalTestEnvironment(new CheckedPythonEnvironment);

// libcapi_caller.so's functions.
struct Caller {
  int (*list_append)(PyObject*, PyObject*);
  int (*list_set_item)(PyObject*, Py_ssize_t, PyObject*);
  int (*list_set_item_again)(PyObject*, Py_ssize_t, PyObject*);
  PyObject* (*dict_get_item)(PyObject*, PyObject*);
  void (*incref)(PyObject*);
  PyObject* (*call_no_args)(PyObject*);
  PyObject* (*vectorcall)(PyObject*, PyObject* const*, size_t);
};

bool LoadCaller(Caller* c) {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  std::string path = std::string(srcdir ? srcdir : ".") + "/" +
                     (workspace ? workspace : "interpsan") +
                     "/tests/unit/libcapi_caller.so";
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    ADD_FAILURE() << dlerror();
    return false;
  }
  c->list_append = reinterpret_cast<decltype(c->list_append)>(
      dlsym(lib, "caller_list_append"));
  c->list_set_item = reinterpret_cast<decltype(c->list_set_item)>(
      dlsym(lib, "caller_list_set_item"));
  c->list_set_item_again = reinterpret_cast<decltype(c->list_set_item)>(
      dlsym(lib, "caller_list_set_item_again"));
  c->dict_get_item = reinterpret_cast<decltype(c->dict_get_item)>(
      dlsym(lib, "caller_dict_get_item"));
  c->incref =
      reinterpret_cast<decltype(c->incref)>(dlsym(lib, "caller_incref"));
  c->call_no_args = reinterpret_cast<decltype(c->call_no_args)>(
      dlsym(lib, "caller_call_no_args"));
  c->vectorcall = reinterpret_cast<decltype(c->vectorcall)>(
      dlsym(lib, "caller_vectorcall"));
  return c->list_append && c->list_set_item && c->list_set_item_again &&
         c->dict_get_item && c->incref && c->call_no_args && c->vectorcall;
}

// The main interpreter's objects the subinterpreter is handed.
struct MainObjects {
  PyObject* list;       // [None]
  PyObject* dict;       // {}
  PyObject* function;   // def f(): return 1
  PyObject* to_incref;  // a list, made immortal by the refused Py_IncRef
  PyObject* item;       // a list, stolen by a refused PyList_SetItem
};

// What the subinterpreter saw.
struct Outcome {
  int append_foreign_list = 0;
  bool append_raised = false;
  Py_ssize_t foreign_list_size = -1;
  int set_item_foreign_list = 0;
  Py_ssize_t own_item_refs_before = 0, own_item_refs_after = 0;
  int set_item_foreign_item = 0;
  Py_ssize_t foreign_item_refs_before = 0, foreign_item_refs_after = 0;
  bool get_item_null = false, get_item_raised = true;
  bool incref_immortal = false, incref_raised = true;
  bool call_null = false, call_raised = false;
  bool vectorcall_null = false, vectorcall_raised = false;
  // The same calls with the subinterpreter's own objects.
  int own_append = -1;
  Py_ssize_t own_list_size = -1;
  long own_vectorcall = -1;
  // The test program's own call (not an extension's): performed.
  bool own_call_got_item = false;
  std::string error;
};

// True (and clears it) if an exception is pending.
bool TakeError() {
  if (PyErr_Occurred() == nullptr) return false;
  PyErr_Clear();
  return true;
}

void RunInSubinterpreter(const Caller& c, const MainObjects& m, Outcome* o) {
  PyThreadState* ts = testing::NewOwnGilInterpreter();
  if (ts == nullptr) {
    o->error = "no subinterpreter";
    return;
  }
  PyObject* own_list = PyList_New(0);
  PyObject* own_item = PyList_New(0);
  PyObject* own_key = PyUnicode_FromString("key");
  if (!testing::RunPython("def g(*args): return len(args)")) {
    o->error = "def g failed";
  }
  PyObject* main_module = PyImport_AddModule("__main__");  // borrowed
  PyObject* own_function = PyObject_GetAttrString(main_module, "g");

  // ARG, kRaise: the foreign list is not appended to.
  o->append_foreign_list = c.list_append(m.list, own_item);
  o->append_raised = TakeError();
  o->foreign_list_size = PyList_GET_SIZE(m.list);

  // STOLEN: refused on the foreign list (argument 1), the own item is
  // released as PyList_SetItem would have; refused on the foreign item
  // (argument 3), it is leaked, never released by this interpreter.
  Py_INCREF(own_item);
  o->own_item_refs_before = Py_REFCNT(own_item);
  o->set_item_foreign_list = c.list_set_item(m.list, 0, own_item);
  TakeError();
  o->own_item_refs_after = Py_REFCNT(own_item);
  PyObject* one = PyList_New(1);
  PyList_SET_ITEM(one, 0, Py_NewRef(Py_None));
  o->foreign_item_refs_before = Py_REFCNT(m.item);
  o->set_item_foreign_item = c.list_set_item_again(one, 0, m.item);
  TakeError();
  o->foreign_item_refs_after = Py_REFCNT(m.item);
  Py_DECREF(one);

  // kAnswerNo: "not found", no exception.
  o->get_item_null = c.dict_get_item(m.dict, own_key) == nullptr;
  o->get_item_raised = TakeError();

  // kImmortalize: no exception; the object is immortal from then on.
  c.incref(m.to_incref);
  o->incref_raised = TakeError();
  o->incref_immortal = _Py_IsImmortal(m.to_incref);

  // CALLABLE: another interpreter's function does not run here.
  PyObject* r = c.call_no_args(m.function);
  o->call_null = r == nullptr;
  o->call_raised = TakeError();
  Py_XDECREF(r);

  // ARRAY: the second positional argument (argument 3) is foreign.
  PyObject* args[] = {own_key, m.list};
  r = c.vectorcall(own_function, args, 2);
  o->vectorcall_null = r == nullptr;
  o->vectorcall_raised = TakeError();
  Py_XDECREF(r);

  // The subinterpreter's own objects: performed, not reported.
  o->own_append = c.list_append(own_list, own_item);
  o->own_list_size = PyList_GET_SIZE(own_list);
  PyObject* own_args[] = {own_key, own_item};
  r = c.vectorcall(own_function, own_args, 2);
  o->own_vectorcall = r ? PyLong_AsLong(r) : -1;
  Py_XDECREF(r);
  TakeError();

  // This program's own call is not checked (it is not an extension's).
  o->own_call_got_item = PyList_GetItem(m.list, 0) == Py_None;

  Py_DECREF(own_function);
  Py_DECREF(own_list);
  Py_DECREF(own_item);
  Py_DECREF(own_key);
  Py_EndInterpreter(ts);
}

// The violation event for `function`, or "" (and a failure) if there is
// not exactly one.
std::string EventFor(const std::vector<std::string>& events,
                     const std::string& function) {
  std::string found;
  int n = 0;
  for (const std::string& e : events) {
    if (e.find("\"capi_function\":\"" + function + "\"") != std::string::npos) {
      found = e;
      n++;
    }
  }
  EXPECT_EQ(n, 1) << function;
  return found;
}

bool Has(const std::string& event, const std::string& field) {
  return event.find(field) != std::string::npos;
}

TEST(CapiWrappersTest, EachKindOfEntryIsRefusedAsItsLineSays) {
  Caller caller;
  ASSERT_TRUE(LoadCaller(&caller));
  MainObjects m;
  m.list = PyList_New(1);
  PyList_SET_ITEM(m.list, 0, Py_NewRef(Py_None));
  m.dict = PyDict_New();
  ASSERT_TRUE(testing::RunPython("def f(): return 1"));
  m.function = PyObject_GetAttrString(PyImport_AddModule("__main__"), "f");
  m.to_incref = PyList_New(0);
  m.item = PyList_New(0);
  ASSERT_NE(m.function, nullptr);
  ASSERT_EQ(ViolationEvents().size(), 0u);

  // The subinterpreter runs on this thread, with the main interpreter's
  // thread state set aside: a thread that reported and then exits crashes
  // under TSan (libunwind's per-thread cache is released after TSan's own
  // per-thread state).
  Outcome o;
  PyThreadState* main = PyEval_SaveThread();
  RunInSubinterpreter(caller, m, &o);
  PyEval_RestoreThread(main);
  ASSERT_EQ(o.error, "");

  // What each refused call did instead.
  EXPECT_EQ(o.append_foreign_list, -1);
  EXPECT_TRUE(o.append_raised);
  EXPECT_EQ(o.foreign_list_size, 1);
  EXPECT_EQ(o.set_item_foreign_list, -1);
  EXPECT_EQ(o.own_item_refs_after, o.own_item_refs_before - 1);
  EXPECT_EQ(o.set_item_foreign_item, -1);
  EXPECT_EQ(o.foreign_item_refs_after, o.foreign_item_refs_before);
  EXPECT_TRUE(o.get_item_null);
  EXPECT_FALSE(o.get_item_raised);
  EXPECT_TRUE(o.incref_immortal);
  EXPECT_FALSE(o.incref_raised);
  EXPECT_TRUE(o.call_null);
  EXPECT_TRUE(o.call_raised);
  EXPECT_TRUE(o.vectorcall_null);
  EXPECT_TRUE(o.vectorcall_raised);
  // The own objects' calls went through.
  EXPECT_EQ(o.own_append, 0);
  EXPECT_EQ(o.own_list_size, 1);
  EXPECT_EQ(o.own_vectorcall, 2);
  EXPECT_TRUE(o.own_call_got_item);

  // What each report says: kind, function, argument, resolution. Nothing
  // else was reported (the own objects' calls, the program's own call).
  std::vector<std::string> events = ViolationEvents();
  std::string all;
  for (const std::string& e : events) all += e + "\n";
  ASSERT_EQ(events.size(), 7u) << all;
  std::string e = EventFor(events, "PyList_Append");
  EXPECT_TRUE(Has(e, "\"kind\":\"cross-interpreter-argument\"")) << e;
  EXPECT_TRUE(Has(e, "\"capi_argument\":1")) << e;
  EXPECT_TRUE(Has(e, "\"resolution\":\"refused\"")) << e;
  // PyList_SetItem: two call sites (findings are de-duplicated by site),
  // refused on argument 1 and on argument 3.
  int set_item_1 = 0, set_item_3 = 0;
  for (const std::string& ev : events) {
    if (!Has(ev, "\"capi_function\":\"PyList_SetItem\"")) continue;
    set_item_1 += Has(ev, "\"capi_argument\":1");
    set_item_3 += Has(ev, "\"capi_argument\":3");
  }
  EXPECT_EQ(set_item_1, 1) << all;
  EXPECT_EQ(set_item_3, 1) << all;
  e = EventFor(events, "PyDict_GetItem");
  EXPECT_TRUE(Has(e, "\"capi_argument\":1")) << e;
  EXPECT_TRUE(Has(e, "\"resolution\":\"refused-answer-no\"")) << e;
  e = EventFor(events, "Py_IncRef");
  EXPECT_TRUE(Has(e, "\"resolution\":\"made-immortal\"")) << e;
  e = EventFor(events, "PyObject_CallNoArgs");
  EXPECT_TRUE(Has(e, "\"kind\":\"cross-interpreter-call\"")) << e;
  EXPECT_TRUE(Has(e, "\"capi_argument\":1")) << e;
  e = EventFor(events, "PyObject_Vectorcall");
  EXPECT_TRUE(Has(e, "\"kind\":\"cross-interpreter-argument\"")) << e;
  EXPECT_TRUE(Has(e, "\"capi_argument\":3")) << e;

  Py_DECREF(m.list);
  Py_DECREF(m.dict);
  Py_DECREF(m.function);
  Py_DECREF(m.to_incref);  // immortal now: a no-op
  Py_DECREF(m.item);
}

}  // namespace
}  // namespace interpsan
