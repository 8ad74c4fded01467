#include "runtime/per_interpreter_module.h"

namespace interpsan {

PerInterpreterModule::PerInterpreterModule(const ModuleSpec& spec)
    : def_{PyModuleDef_HEAD_INIT} {
  int n = 0;
  if (spec.exec != nullptr) {
    slots_[n++] = {Py_mod_exec, reinterpret_cast<void*>(spec.exec)};
  }
  slots_[n++] = {Py_mod_multiple_interpreters,
                 Py_MOD_PER_INTERPRETER_GIL_SUPPORTED};
  slots_[n] = {0, nullptr};
  def_.m_name = spec.name;
  def_.m_doc = spec.doc;
  def_.m_size = spec.state_size;
  def_.m_methods = spec.methods;
  def_.m_slots = slots_;
  def_.m_traverse = spec.traverse;
  def_.m_clear = spec.clear;
  def_.m_free = spec.free;
}

}  // namespace interpsan
