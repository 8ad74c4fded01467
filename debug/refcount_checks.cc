// The check behind check-mode refcounting (debug/include/Python.h): an
// extension rebuilt with `interpsan cflags` calls interpsan_check_refcount
// from every Py_INCREF, Py_DECREF, Py_XINCREF, Py_XDECREF, Py_NewRef,
// Py_XNewRef, Py_SET_REFCNT (and so Py_CLEAR, Py_SETREF, Py_XSETREF). A
// refcount change on an object that another interpreter owns is a data
// race between two GILs and the first step of every sharing bug: reported
// at that line of the extension.
#include <Python.h>

#include <string>

#include "debug/report.h"
#include "runtime/anomaly.h"
#include "runtime/interpreter_registry.h"
#include "runtime/object_owner.h"

extern "C" __attribute__((visibility("default"))) void interpsan_check_refcount(
    PyObject* op, const char* what) {
  using namespace interpsan;
  if (op == nullptr || !(g_enabled_checks & kCheckRefcount) ||
      ReentryGuard::active) {
    return;
  }
  OwnerSlot owner = OwnerOfObject(op);
  if (owner == kNoOwner) return;
  OwnerSlot current = InterpreterRegistry::CurrentSlot();
  if (current == kNoOwner || current == owner) return;
  ReentryGuard guard;
  InterpreterInfo own = InterpreterRegistry::Info(owner);
  InterpreterInfo cur = InterpreterRegistry::Info(current);
  Violation v;
  v.kind = "cross-interpreter-refcount";
  v.check = "refcount";
  v.current = current;
  v.owner = owner;
  v.object_type = Py_TYPE(op)->tp_name;
  v.address = op;
  v.size = 0;
  v.is_object = true;
  v.message = std::string(what) + " by interpreter " + std::to_string(cur.id) +
              " on a '" + v.object_type + "' owned by interpreter " +
              std::to_string(own.id) + (own.ended ? " (ended)" : "") +
              ": two GILs now race on its reference count";
  v.fix = "do not keep objects in C statics or pass them between "
          "interpreters; keep them in module state (PEP 630), and give each "
          "interpreter its own objects";
  ReportViolation(v);
}
