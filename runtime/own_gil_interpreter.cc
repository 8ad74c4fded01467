#include "runtime/own_gil_interpreter.h"

#include <Python.h>

namespace interpsan {

PyThreadState* NewOwnGilInterpreter(std::string* error) {
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
    if (error != nullptr) {
      *error = status.err_msg != nullptr ? status.err_msg : "unknown error";
    }
    return nullptr;
  }
  return tstate;
}

}  // namespace interpsan
