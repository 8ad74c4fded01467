// report.h: the one path every violation takes.
//
// A check builds a Violation (what happened, to what, and how to fix it)
// and calls ReportViolation. The report path then, under one lock:
//   1. captures the current Python traceback and the native stack, and
//      finds the extension to blame in the native stack;
//   2. de-duplicates by (kind, extension, site) and counts repeats;
//   3. prints a readable report to stderr and a JSON event for report.json;
//   4. in fatal mode (the default), ends the process with status 3.
// Checks never print or exit on their own.
//
// Thread safety: thread-safe; serialised by the report lock (violations are
// rare; the fast paths never get here).
#ifndef INTERPSAN_DEBUG_REPORT_H_
#define INTERPSAN_DEBUG_REPORT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "debug/native_stack.h"
#include "runtime/owner_record.h"

namespace interpsan {

struct Violation {
  const char* kind;   // e.g. "cross-interpreter-free"
  const char* check;  // the --checks name that found it, e.g. "free"
  OwnerSlot current;  // the interpreter that acted
  OwnerSlot owner;    // the interpreter that owns the object or block
  std::string object_type;
  const void* address;
  size_t size;
  std::string message;
  std::string fix;
};

struct ReportOptions {
  bool fatal = true;       // false with --keep-going
  int fatal_exit_code = 3;
};

void ConfigureReports(const ReportOptions& options);

// Reports `v` (see the file comment). Returns only in keep-going mode.
void ReportViolation(Violation v);

// Writes the repeat counts gathered in keep-going mode as events.
void FlushViolationCounts();

// Distinct and total violations so far.
int DistinctViolationCount();
int TotalViolationCount();

// Formats a captured traceback for tests and reports.
struct PythonFrame {
  std::string filename;
  std::string name;
  int lineno;
};
std::vector<PythonFrame> CapturePythonTraceback();  // most recent call last

// The JSON body of one violation (used by tests).
std::string FormatViolationJson(const Violation& v,
                                const std::vector<PythonFrame>& traceback,
                                const std::vector<NativeFrame>& stack,
                                int extension_frame);

// The readable, multi-line form printed to stderr.
std::string FormatViolationText(const Violation& v,
                                const std::vector<PythonFrame>& traceback,
                                const std::vector<NativeFrame>& stack,
                                int extension_frame);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_REPORT_H_
