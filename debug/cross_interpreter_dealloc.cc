// The check for an object deallocated by an interpreter that does not own
// it: its last reference was dropped in the wrong interpreter. Caught in
// _Py_Dealloc (runtime/dealloc_hook.cc), before tp_dealloc can put the
// object on this interpreter's freelists or free it into this
// interpreter's pymalloc.
#include <Python.h>

#include "debug/checks.h"
#include "debug/report.h"
#include "runtime/interpreter_registry.h"

namespace interpsan {

Resolution ReportCrossInterpreterDealloc(const BlockAnomaly& a) {
  InterpreterInfo owner = InterpreterRegistry::Info(a.owner);
  Violation v;
  v.kind = kinds::kCrossInterpreterDealloc.kind;
  v.check = kinds::kCrossInterpreterDealloc.check;
  v.current = a.current;
  v.owner = a.owner;
  v.object_type = ObjectTypeName(a.object);
  v.address = a.object;
  v.size = 0;
  v.is_object = true;
  v.message = "'" + v.object_type + "' object created by " +
              InterpreterName(a.owner) + (owner.ended ? " (ended)" : "") +
              " was deallocated by " + InterpreterName(a.current) +
              ": an object crossed between interpreters";
  v.fix = kinds::kCrossInterpreterDealloc.fix;
  v.resolution = "made-immortal";  // dealloc_hook.cc keeps the object
  ReportViolation(v);
  return Resolution::kLeak;
}

}  // namespace interpsan
