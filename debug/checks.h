// checks.h: the checking layer's entry points.
//
// interpsan's checks come in six families, one --checks name each; the
// table of them and of the violation kinds each reports, with its fix, is
// debug/checks.inc (check_table.h), and README's check table is that table.
// Each family lives in a file named after what it catches:
//   free      cross_interpreter_free.cc     a block freed or resized by an
//             interpreter that does not own it (cross-interpreter-free,
//             cross-interpreter-realloc)
//   domain    wrong_domain_free.cc          PyMem_Free on a PyObject_Malloc
//             block and every other domain mix-up, invalid and double
//             frees (wrong-domain-free, wrong-domain-realloc,
//             invalid-free, double-free)
//   dealloc   cross_interpreter_dealloc.cc  an object deallocated by an
//             interpreter that does not own it, caught in _Py_Dealloc
//             (cross-interpreter-dealloc)
//   capi      capi_boundary_checks.cc       an extension passing another
//             interpreter's object to the C API functions listed in
//             capi_wrapped_functions.inc (cross-interpreter-argument), or
//             calling another interpreter's function, code or globals
//             through it (cross-interpreter-call); no rebuild needed
//   refcount  refcount_checks.cc            in extensions rebuilt with
//             `interpsan cflags` (include/Python.h): a refcount change on
//             another interpreter's object (cross-interpreter-refcount)
//   audit     object_graph_audit.cc         at checkpoints (the end of the
//             program, after each test, interpsan.audit()): an object
//             that references another interpreter's object
//             (foreign-reference), an extension's C static holding one
//             (static-object-reference), a static type used by two
//             interpreters (shared-static-type)
//
// The first three are declared here: the allocator and deallocation hooks
// (runtime/) see a BlockAnomaly and call them through the handler that
// InstallChecks installs; they turn it into a Violation with a message and
// a fix, hand it to the report path (report.h), and say what must happen to
// the block so that no allocator is ever given a block it does not own.
// The other three catch where they look (the interposed C-API functions,
// the check-mode refcount entry point, the audit) and report from there.
//
// Thread-safe: ParseChecks and CheckNames yes; the Report* functions run
// on the thread that hit the anomaly. Not async-signal-safe.
#ifndef INTERPSAN_DEBUG_CHECKS_H_
#define INTERPSAN_DEBUG_CHECKS_H_

#include <cstdint>
#include <string>

#include "debug/check_table.h"
#include "runtime/anomaly.h"

namespace interpsan {

// Parses a --checks value ("all", "none", or a comma list of the names in
// kCheckTable). Returns false and sets *error on unknown names.
bool ParseChecks(const std::string& list, uint32_t* bits, std::string* error);

// The names ParseChecks accepts, for help text: "all, none, free, ...".
const char* CheckNames();

// Installs the anomaly handler that routes to the functions below.
void InstallChecks();

Resolution ReportCrossInterpreterFree(const BlockAnomaly& a);
Resolution ReportCrossInterpreterDealloc(const BlockAnomaly& a);
Resolution ReportWrongDomainFree(const BlockAnomaly& a);

// "PyObject_Malloc block (64 bytes)": how a bare block is named in reports.
std::string DescribeBlock(Domain domain, size_t size);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_CHECKS_H_
