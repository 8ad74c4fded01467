#include "debug/cross_interpreter_error.h"

#include <Python.h>

namespace interpsan {

int AddCrossInterpreterError(PyObject* module) {
  PyObject* type = PyErr_NewExceptionWithDoc(
      kCrossInterpreterErrorName,
      "A C-API call interpsan refused to perform (--keep-going): one of its "
      "arguments belongs to another interpreter. The message names the "
      "function, the argument and both interpreters; report.json has the "
      "violation.",
      PyExc_RuntimeError, nullptr);
  if (type == nullptr) return -1;
  int rc = PyModule_AddObjectRef(module, "CrossInterpreterError", type);
  Py_DECREF(type);
  return rc;
}

void RaiseCrossInterpreterError(const std::string& message) {
  // Whatever was pending is replaced: the refused call is the failure the
  // caller must see. Importing with an exception set is not allowed.
  PyErr_Clear();
  PyObject* type = nullptr;
  // sys.modules lookup after the first import: cheap, and per interpreter.
  PyObject* module = PyImport_ImportModule("interpsan");
  if (module != nullptr) {
    type = PyObject_GetAttrString(module, "CrossInterpreterError");
    Py_DECREF(module);
  }
  if (type == nullptr) {
    PyErr_Clear();
    PyErr_SetString(PyExc_RuntimeError, message.c_str());
    return;
  }
  PyErr_SetString(type, message.c_str());
  Py_DECREF(type);
}

}  // namespace interpsan
