#include "tools/runner/interpsan_module.h"

#include "debug/cross_interpreter_error.h"
#include "debug/object_graph_audit.h"
#include "debug/report.h"
#include "runtime/event_log.h"
#include "runtime/interpreter_registry.h"
#include "runtime/per_interpreter_module.h"
#include "tracemalloc/tracemalloc_module.h"

namespace {

PyObject* Emit(PyObject*, PyObject* arg) {
  const char* line = PyUnicode_AsUTF8(arg);
  if (line == nullptr) return nullptr;
  interpsan::EventLog::Write(line);
  Py_RETURN_NONE;
}

PyObject* ViolationCount(PyObject*, PyObject*) {
  return PyLong_FromLong(interpsan::TotalViolationCount());
}

// PEP 562: interpsan.tracemalloc is built on first use (it compiles the
// stdlib's tracemalloc.py), not in every interpreter at start-up.
PyObject* ModuleGetattr(PyObject* module, PyObject* name) {
  if (PyUnicode_Check(name) &&
      PyUnicode_CompareWithASCIIString(name, "tracemalloc") == 0) {
    PyObject* api = interpsan::CreateTracemallocApiModule();
    if (api == nullptr) return nullptr;
    if (PyObject_SetAttr(module, name, api) < 0) {
      Py_DECREF(api);
      return nullptr;
    }
    return api;
  }
  PyErr_Format(PyExc_AttributeError, "module 'interpsan' has no attribute '%U'",
               name);
  return nullptr;
}

// An audit's result: its number of findings, or the error it raised.
PyObject* Findings(int findings) {
  return findings < 0 ? nullptr : PyLong_FromLong(findings);
}

PyObject* Audit(PyObject*, PyObject* args) {
  const char* checkpoint = "interpsan.audit()";
  if (!PyArg_ParseTuple(args, "|s:audit", &checkpoint)) return nullptr;
  return Findings(interpsan::AuditCurrentInterpreter(checkpoint));
}

// The audit at the end of a test: what changed since the last one, a full
// walk, or nothing, as --audit says (debug/object_graph_audit.h).
PyObject* AuditTest(PyObject*, PyObject* arg) {
  const char* checkpoint = PyUnicode_AsUTF8(arg);
  if (checkpoint == nullptr) return nullptr;
  return Findings(interpsan::AuditAfterTest(checkpoint));
}

PyObject* SetTest(PyObject*, PyObject* arg) {
  const char* test = PyUnicode_AsUTF8(arg);
  if (test == nullptr) return nullptr;
  interpsan::SetCurrentTest(test);
  Py_RETURN_NONE;
}

PyMethodDef kMethods[] = {
    {"audit", Audit, METH_VARARGS,
     "audit(checkpoint='interpsan.audit()') -> findings: checks everything "
     "this interpreter reaches (objects, module state, extensions' statics) "
     "for objects other interpreters own."},
    {"_audit_test", AuditTest, METH_O,
     "_audit_test(checkpoint) -> findings: the audit at the end of a test "
     "(--audit: changed, each-test or end)."},
    {"_set_test", SetTest, METH_O, "Names the test now running (attribution)."},
    {"__getattr__", ModuleGetattr, METH_O, nullptr},
    {"_emit", Emit, METH_O, "Writes one JSON event for the supervisor."},
    {"violation_count", ViolationCount, METH_NOARGS,
     "Violations reported so far in this process (all interpreters)."},
    {nullptr, nullptr, 0, nullptr},
};

int Exec(PyObject* module) {
  using interpsan::InterpreterRegistry;
  interpsan::OwnerSlot slot = InterpreterRegistry::CurrentSlot();
  interpsan::InterpreterInfo info = InterpreterRegistry::Info(slot);
  int64_t id = PyInterpreterState_GetID(PyInterpreterState_Get());
  if (PyModule_AddIntConstant(module, "index", info.index) < 0) return -1;
  if (PyModule_AddIntConstant(module, "interpreter_id", id) < 0) return -1;
  // What a C-API call refused under --keep-going raises (per interpreter).
  if (interpsan::AddCrossInterpreterError(module) < 0) return -1;
  // interpsan.faulthandler, when the runner provides it.
  PyObject* faulthandler = PyImport_ImportModule("_interpsan_faulthandler");
  if (faulthandler == nullptr) {
    PyErr_Clear();
    return 0;
  }
  int rc = PyModule_AddObjectRef(module, "faulthandler", faulthandler);
  Py_DECREF(faulthandler);
  return rc;
}

interpsan::PerInterpreterModule g_module({
    "interpsan",
    "interpsan: checks for CPython's per-interpreter GIL.",
    kMethods,
    &Exec,
});

}  // namespace

extern "C" PyObject* PyInit_interpsan(void) { return g_module.Init(); }
