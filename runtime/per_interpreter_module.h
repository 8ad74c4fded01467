// per_interpreter_module.h: the definition of a built-in module of
// interpsan's (interpsan, interpsan.faulthandler, _interpsan_tracemalloc):
// multi-phase initialization (PEP 489) and declared safe for interpreters
// with their own GIL (Py_MOD_PER_INTERPRETER_GIL_SUPPORTED), which a
// strict own-GIL interpreter requires. One place builds the slots and the
// PyModuleDef, so a module says only what is its own:
//
//   PerInterpreterModule g_module({"interpsan", "doc", kMethods, &Exec});
//   PerInterpreterModule g_state({"x", "doc", kMethods, &Exec, sizeof(State),
//                                 Traverse, /*clear=*/nullptr, Free});
//   extern "C" PyObject* PyInit_interpsan(void) { return g_module.Init(); }
//
// Thread safety: construct at static initialization (before Python runs);
// Init is what a PyInit_ function returns, called by CPython under the
// importing interpreter's GIL. Not async-signal-safe.
#ifndef INTERPSAN_RUNTIME_PER_INTERPRETER_MODULE_H_
#define INTERPSAN_RUNTIME_PER_INTERPRETER_MODULE_H_

#include <Python.h>

namespace interpsan {

struct ModuleSpec {
  const char* name;
  const char* doc;
  PyMethodDef* methods;
  int (*exec)(PyObject* module) = nullptr;  // nullptr: no Py_mod_exec slot
  Py_ssize_t state_size = 0;                // per-module state (m_size)
  traverseproc traverse = nullptr;
  inquiry clear = nullptr;
  freefunc free = nullptr;
};

class PerInterpreterModule {
 public:
  explicit PerInterpreterModule(const ModuleSpec& spec);
  PerInterpreterModule(const PerInterpreterModule&) = delete;
  PerInterpreterModule& operator=(const PerInterpreterModule&) = delete;

  // PyModuleDef_Init of the definition: a PyInit_ function's result.
  PyObject* Init() { return PyModuleDef_Init(&def_); }

 private:
  PyModuleDef_Slot slots_[3];
  PyModuleDef def_;
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_PER_INTERPRETER_MODULE_H_
