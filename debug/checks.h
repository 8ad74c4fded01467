// checks.h: the checking layer's entry points.
//
// Each family of checks lives in a file named after what it catches:
//   cross_interpreter_free.cc     a block freed/resized by a non-owner
//   cross_interpreter_dealloc.cc  an object deallocated by a non-owner
//   wrong_domain_free.cc          PyMem_Free on a PyObject_Malloc block,
//                                 invalid and double frees
// They turn a runtime BlockAnomaly into a Violation with a message and a
// fix, hand it to the report path (report.h), and say what must happen to
// the block so that no allocator is ever given a block it does not own.
// The other families (capi_boundary_checks.cc, refcount_checks.cc,
// object_graph_audit.cc) report from where they catch. Every check's
// name and every kind, with its fix, is a line of debug/checks.inc
// (check_table.h).
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
