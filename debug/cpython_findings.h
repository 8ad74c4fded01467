// cpython_findings.h: the default suppressions of CPython's own known
// findings (README, "Known findings in CPython itself"), scoped to CPython's
// own modules.
//
// The list is the running version's tools/suppressions/cpython-3.X.supp,
// compiled in. A violation is taken as CPython's own finding only if a line
// of that list matches it AND the module it is attributed to is CPython's:
// libpython itself or a file in the stdlib's extension directory
// (<libpython's directory>/python3.X/lib-dynload), or no module at all
// (nothing but CPython on the stack). The same pattern in a third-party
// extension (e.g. a vendored Argument Clinic parser on 3.12) is reported.
//
// Such a finding is not printed and does not fail the run, but it is
// counted apart ("suppressed_cpython" events, report.json's
// suppressed_cpython); a free or deallocation is still kept from doing
// harm, as for a reported violation, while CPython's own C-API calls go
// ahead as in stock CPython. INTERPSAN_DEFAULT_SUPPRESSIONS=0 (the
// supervisor's --no-default-suppressions) turns the defaults off.
//
// Part of the report library (report.cc calls it before the user's
// suppressions). Thread-safe: the list and the paths are built once
// (std::call_once); the counter is atomic. Not async-signal-safe.
#ifndef INTERPSAN_DEBUG_CPYTHON_FINDINGS_H_
#define INTERPSAN_DEBUG_CPYTHON_FINDINGS_H_

#include <string>
#include <vector>

#include "debug/native_stack.h"

namespace interpsan {

struct PythonFrame;
struct Violation;

// What to do with a violation that may be one of CPython's own known
// findings (see above).
enum class CPythonFinding {
  kNo,       // not one: report it as usual
  kProceed,  // counted; a C-API call CPython itself makes: let it happen, as
             // stock CPython does (refusing it would change the program:
             // 3.12's PyInit__datetime would raise instead of falling back)
  kContain,  // counted; a free, realloc or deallocation: keep it from doing
             // harm exactly as for a reported violation
};

// Classifies `v` and counts it if it is CPython's own. `stack` and
// `extension_frame` as in report.h's IsSuppressed.
CPythonFinding ClassifyCPythonFinding(const Violation& v,
                                      const std::vector<PythonFrame>& traceback,
                                      const std::vector<NativeFrame>& stack,
                                      int extension_frame);

// True if `path` (a shared object) is libpython or lies in the stdlib's
// extension directory. An empty path is not.
bool IsCPythonModulePath(const std::string& path);

// How many findings ClassifyCPythonFinding has counted.
int CPythonFindingCount();

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_CPYTHON_FINDINGS_H_
