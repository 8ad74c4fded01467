#include "tests/unit/python_test_env.h"

#include <Python.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "interpsan_python_config.h"
#include "runtime/own_gil_interpreter.h"

namespace interpsan {
namespace testing {

void InitializePythonForTest() {
  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);
  config.install_signal_handlers = 0;
  config.parse_argv = 0;
  PyStatus status =
      PyConfig_SetBytesString(&config, &config.home, INTERPSAN_PYTHON_HOME);
  if (!PyStatus_Exception(status)) {
    status = PyConfig_SetBytesString(&config, &config.executable,
                                     INTERPSAN_PYTHON_EXECUTABLE);
  }
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    fprintf(stderr, "test: Py_InitializeFromConfig failed: %s\n",
            status.err_msg ? status.err_msg : "(no message)");
    abort();
  }
}

int FinalizePythonForTest() { return Py_FinalizeEx(); }

bool RunPython(const char* code) { return PyRun_SimpleString(code) == 0; }

std::string EvalToString(const char* expression) {
  PyObject* main_module = PyImport_AddModule("__main__");  // borrowed
  if (main_module == nullptr) {
    PyErr_Print();
    return "<error>";
  }
  PyObject* globals = PyModule_GetDict(main_module);  // borrowed
  PyObject* result = PyRun_String(expression, Py_eval_input, globals, globals);
  if (result == nullptr) {
    PyErr_Print();
    return "<error>";
  }
  PyObject* text = PyObject_Str(result);
  Py_DECREF(result);
  if (text == nullptr) {
    PyErr_Print();
    return "<error>";
  }
  const char* utf8 = PyUnicode_AsUTF8(text);
  std::string out = utf8 ? utf8 : "<error>";
  Py_DECREF(text);
  return out;
}

PyThreadState* NewOwnGilInterpreter() {
  std::string why;
  PyThreadState* tstate = interpsan::NewOwnGilInterpreter(&why);
  if (tstate == nullptr) {
    fprintf(stderr, "test: Py_NewInterpreterFromConfig failed: %s\n",
            why.c_str());
  }
  return tstate;
}

}  // namespace testing
}  // namespace interpsan
