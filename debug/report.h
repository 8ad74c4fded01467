// report.h: the one path every violation takes.
//
// A check builds a Violation (what happened, to what, and how to fix it)
// and calls ReportViolation. The report path then, under one lock:
//   1. captures the current Python traceback and the native stack, and
//      finds the extension to blame in the native stack;
//   2. de-duplicates by (kind, extension, site) and counts repeats;
//   3. writes the facts as a JSON event for report.json (native frames as
//      module + offset: the supervisor symbolizes and words them) and prints
//      one terse line to stderr;
//   4. in fatal mode (the default), ends the process with status 3.
// Checks never print or exit on their own.
//
// Thread safety: thread-safe; serialised by the report lock (violations are
// rare; the fast paths never get here). Not async-signal-safe, except
// WriteViolationCountsSignalSafe.
#ifndef INTERPSAN_DEBUG_REPORT_H_
#define INTERPSAN_DEBUG_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "debug/holder_lookup.h"
#include "debug/native_stack.h"
#include "runtime/owner_record.h"

namespace interpsan {

struct PythonFrame {
  std::string filename;
  std::string name;
  int lineno;
};

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
  // True if `address` is a PyObject* (else the user pointer of a block):
  // how the report finds the block's allocation traceback.
  bool is_object = false;
  // When no native frame names an extension (audit findings): the module
  // the finding is attributed to.
  std::string extension_hint;
  // For static-memory findings: the object file and the ELF address of the
  // variable (the supervisor names it with nm).
  std::string static_module;
  uintptr_t static_offset = 0;
  // For C-API findings: the function called and the argument (1-based).
  const char* capi_function = nullptr;
  int capi_argument = 0;
  // With --keep-going, what interpsan did instead of letting the operation
  // corrupt the process (README, "What --keep-going does"): "refused",
  // "refused-answer-no", "made-immortal", "leaked", "copied",
  // "released-correctly", "ignored"; nullptr for findings that only
  // observe (the audit).
  const char* resolution = nullptr;
  // Check mode (debug/include/Python.h): the extension's source line of the
  // refcount operation, from __FILE__/__LINE__ at the macro's use.
  const char* source_file = nullptr;
  int source_line = 0;
  const char* source_function = nullptr;
  // What holds the object (debug/holder_lookup.h): found by the report
  // path for object findings; it names the extension when no extension
  // frame is on the stack.
  Holder holder;
};

// How messages name an interpreter: "the main interpreter" (CPython's
// first interpreter, id 0), else "interpreter N" (N its id). Callers add
// " (ended)" themselves.
std::string InterpreterName(OwnerSlot slot);

// How messages name an object's type: its type's tp_name, except for a
// class (a type object), named by its own name: "class Foo", with
// " (metaclass ABCMeta)" when its metaclass is not `type` -- a class made by
// type(...) or an ABC is otherwise shown as its metaclass. `object` is a
// live PyObject*.
std::string ObjectTypeName(const void* object);

// The test running in this thread (unittest/pytest), for attribution; ""
// when none.
void SetCurrentTest(const std::string& test);

struct ReportOptions {
  bool fatal = true;  // false with --keep-going
  int fatal_exit_code = 3;
};

// One suppression: a line of space-separated `field:glob` terms, all of
// which must match. field is one of kind, extension, type, function (any
// native frame's dynamic symbol) or file (any Python frame's file name).
struct SuppressionTerm {
  std::string field;
  std::string pattern;
};
struct Suppression {
  std::vector<SuppressionTerm> terms;
  std::string text;  // the line, for messages
};

// Parses a suppressions file (one suppression per line, '#' comments). Returns
// false and sets *error (with the line number) on a malformed line.
bool LoadSuppressions(const std::string& path, std::vector<Suppression>* out,
                      std::string* error);
void SetSuppressions(std::vector<Suppression> suppressions);

// True if any suppression matches this violation.
bool IsSuppressed(const std::vector<Suppression>& suppressions,
                  const Violation& v, const std::vector<PythonFrame>& traceback,
                  const std::vector<NativeFrame>& stack, int extension_frame);

void ConfigureReports(const ReportOptions& options);

// Reports `v` (see the file comment). Returns only in keep-going mode, or
// for a suppressed violation: true if `v` was reported or counted as a
// repeat (the caller must then keep the operation from doing harm), false
// if a suppression matched (the operation is sanctioned: let it happen).
bool ReportViolation(Violation v);

// Writes the repeat counts gathered in keep-going mode as events, then a
// "violation_counts_final" event. Counts are also written as they change
// (when a site's count reaches a power of two or another interpreter hits
// it), so a run that dies keeps them; see ReportViolation.
void FlushViolationCounts();

// The same counts, exact, written to `fd` from a signal handler (the
// faulthandler's dump epilogue: crash, watchdog, interrupt).
// Async-signal-safe: reads atomics only, formats into a stack buffer,
// write(2); takes no lock, so a repeat being counted by another thread at
// that very moment may be missed.
void WriteViolationCountsSignalSafe(int fd);

// Distinct and total violations so far (suppressed ones not included).
int DistinctViolationCount();
int TotalViolationCount();

std::vector<PythonFrame> CapturePythonTraceback();  // most recent call last

// The JSON body of one violation (used by tests).
std::string FormatViolationJson(const Violation& v,
                                const std::vector<PythonFrame>& traceback,
                                const std::vector<NativeFrame>& stack,
                                int extension_frame);

// The one line printed to stderr: kind, message, both interpreters, the
// extension and the innermost Python frame. The words a person reads in
// full come from the report (tools/report/), not from here.
std::string FormatViolationText(const Violation& v,
                                const std::vector<PythonFrame>& traceback,
                                const std::vector<NativeFrame>& stack,
                                int extension_frame);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_REPORT_H_
