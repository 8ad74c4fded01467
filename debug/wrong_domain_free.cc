// The checks for a block released through the wrong API family
// (PyMem_Free on a PyObject_Malloc block, PyObject_Free on a PyMem_Malloc
// block, PyMem_RawFree on either), and for pointers no Python allocator
// handed out (invalid free) or already freed (double free).
#include "debug/checks.h"
#include "debug/report.h"
#include "runtime/interpreter_registry.h"

namespace interpsan {
namespace {

const char* FreeName(Domain d, bool realloc) {
  switch (d) {
    case Domain::kRaw:
      return realloc ? "PyMem_RawRealloc" : "PyMem_RawFree";
    case Domain::kMem:
      return realloc ? "PyMem_Realloc" : "PyMem_Free";
    case Domain::kObj:
      return realloc ? "PyObject_Realloc" : "PyObject_Free";
  }
  return "?";
}

}  // namespace

Resolution ReportWrongDomainFree(const BlockAnomaly& a) {
  bool realloc = a.kind == AnomalyKind::kWrongDomainRealloc;
  Violation v;
  v.current = a.current;
  v.owner = a.owner;
  v.address = a.block;
  v.size = a.size;
  switch (a.kind) {
    case AnomalyKind::kInvalidFree:
      v.kind = kinds::kInvalidFree.kind;
      v.check = kinds::kInvalidFree.check;
      v.object_type = "unknown pointer";
      v.message = std::string(FreeName(a.call_domain, false)) +
                  " of a pointer that no Python allocator handed out";
      v.fix = kinds::kInvalidFree.fix;
      break;
    case AnomalyKind::kDoubleFree:
      v.kind = kinds::kDoubleFree.kind;
      v.check = kinds::kDoubleFree.check;
      v.object_type = "freed block";
      v.message = std::string(FreeName(a.call_domain, false)) +
                  " of a block that was already freed";
      v.fix = kinds::kDoubleFree.fix;
      break;
    default: {
      const KindInfo& kind =
          realloc ? kinds::kWrongDomainRealloc : kinds::kWrongDomainFree;
      v.kind = kind.kind;
      v.check = kind.check;
      v.object_type = DescribeBlock(a.block_domain, a.size);
      v.message = std::string(FreeName(a.call_domain, realloc)) + " on a " +
                  v.object_type + "; it must be released with " +
                  FreeName(a.block_domain, realloc);
      // More precise than the table's fix (kind.fix): the exact function.
      v.fix = std::string("use ") + FreeName(a.block_domain, realloc) +
              " for memory from " + DomainApi(a.block_domain) +
              " (PEP 445: the domains must not be mixed)";
      break;
    }
  }
  v.resolution = (a.kind == AnomalyKind::kInvalidFree ||
                  a.kind == AnomalyKind::kDoubleFree)
                     ? "ignored"
                     : "released-correctly";
  ReportViolation(v);
  // The block is released correctly (wrong domain) or left alone (invalid,
  // double free): either way nothing reaches the wrong allocator.
  return Resolution::kProceed;
}

}  // namespace interpsan
