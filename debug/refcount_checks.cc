// The check behind check-mode refcounting (debug/include/Python.h): an
// extension rebuilt with `interpsan cflags` calls interpsan_check_refcount_at
// from every Py_INCREF, Py_DECREF, Py_XINCREF, Py_XDECREF, Py_NewRef,
// Py_XNewRef, Py_SET_REFCNT (and so Py_CLEAR, Py_SETREF, Py_XSETREF), with
// the source line of that use. A refcount change on an object that another
// interpreter owns is a data race between two GILs and the first step of
// every sharing bug: reported at that line of the extension.
//
// With --keep-going the object is made immortal before the inline refcount
// operation runs (the check is called on its argument first), so that
// operation, and every later one in any interpreter, leaves the count
// alone: CPython 3.12/3.13's Py_INCREF, Py_DECREF and Py_SET_REFCNT return
// early for immortal objects (Include/object.h). The object leaks; it is
// never freed by the wrong interpreter.
#include <Python.h>

#include <string>

#include "debug/check_table.h"
#include "debug/object_violation.h"
#include "debug/report.h"
#include "runtime/anomaly.h"
#include "runtime/interpreter_registry.h"
#include "runtime/object_owner.h"

namespace {

__attribute__((noinline, cold)) void ReportCrossInterpreterRefcount(
    PyObject* op, const char* what, const char* file, int line,
    const char* function, interpsan::OwnerSlot owner,
    interpsan::OwnerSlot current) {
  using namespace interpsan;
  bool counted;
  {
    ReentryGuard guard;
    Violation v = ObjectViolation(kinds::kCrossInterpreterRefcount, op,
                                  ObjectTypeName(op), owner, current);
    v.source_file = file;
    v.source_line = line;
    v.source_function = function;
    v.resolution = "made-immortal";
    v.message = std::string(what) + " by " + InterpreterName(current) +
                " on a '" + v.object_type + "' owned by " + OwnerName(owner) +
                ": two GILs now race on its reference count";
    counted = ReportViolation(v);  // returns only with --keep-going
  }
  if (counted) MakeImmortal(op);
}

void CheckRefcount(PyObject* op, const char* what, const char* file, int line,
                   const char* function) {
  using namespace interpsan;
  if (op == nullptr || !(g_enabled_checks & kCheckRefcount) ||
      ReentryGuard::active) {
    return;
  }
  OwnerSlot owner = OwnerOfObject(op);
  if (owner == kNoOwner) return;
  OwnerSlot current = InterpreterRegistry::CurrentSlot();
  if (current == kNoOwner || current == owner) return;
  ReportCrossInterpreterRefcount(op, what, file, line, function, owner,
                                 current);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void
interpsan_check_refcount_at(PyObject* op, const char* what, const char* file,
                            int line, const char* function) {
  CheckRefcount(op, what, file, line, function);
}

// The entry point of extensions built with an earlier check-mode header
// (no source line).
extern "C" __attribute__((visibility("default"))) void interpsan_check_refcount(
    PyObject* op, const char* what) {
  CheckRefcount(op, what, nullptr, 0, nullptr);
}
