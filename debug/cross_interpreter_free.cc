// The check for a block freed or resized by an interpreter that does not
// own it (PyMem_Free / PyObject_Free / *_Realloc from the wrong
// interpreter). In stock CPython the block goes to the wrong interpreter's
// pymalloc, which corrupts it; glibc aborts much later, far away.
#include "debug/checks.h"
#include "debug/report.h"
#include "runtime/interpreter_registry.h"

namespace interpsan {

Resolution ReportCrossInterpreterFree(const BlockAnomaly& a) {
  bool realloc = a.kind == AnomalyKind::kCrossInterpreterRealloc;
  InterpreterInfo owner = InterpreterRegistry::Info(a.owner);
  const KindInfo& kind =
      realloc ? kinds::kCrossInterpreterRealloc : kinds::kCrossInterpreterFree;
  Violation v;
  v.kind = kind.kind;
  v.check = kind.check;
  v.current = a.current;
  v.owner = a.owner;
  v.object_type = DescribeBlock(a.block_domain, a.size);
  v.address = a.block;
  v.size = a.size;
  v.message = std::string(realloc ? "resize" : "free") + " of a " +
              v.object_type + " owned by " + InterpreterName(a.owner) +
              (owner.ended ? " (ended)" : "") + ", done by " +
              InterpreterName(a.current);
  v.fix = kind.fix;
  v.resolution = realloc ? "copied" : "leaked";
  ReportViolation(v);
  // The block stays with its owner; a realloc gets a fresh copy.
  return Resolution::kLeak;
}

}  // namespace interpsan
