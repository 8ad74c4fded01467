// check_table.h: interpsan's checks and violation kinds as C++ constants,
// from the one table in debug/checks.inc (which the supervisor and README's
// check table are also checked against).
//
// What it is for: --checks parsing (checks.cc) walks kCheckTable; every
// check reports a finding as one of kinds::*, whose kind, check and fix
// strings go into the Violation unchanged.
// Thread-safe and async-signal-safe: constants only, no initialization at
// run time.
#ifndef INTERPSAN_DEBUG_CHECK_TABLE_H_
#define INTERPSAN_DEBUG_CHECK_TABLE_H_

#include <cstdint>

#include "runtime/anomaly.h"

namespace interpsan {

struct CheckInfo {
  const char* name;   // the --checks name, e.g. "free"
  uint32_t bit;       // its CheckBits bit
  const char* doc;    // what it catches (README, markdown)
  const char* where;  // the files that implement it (README)
};

struct KindInfo {
  const char* kind;   // report.json's kind, e.g. "cross-interpreter-free"
  const char* check;  // the CheckInfo name that finds it
  const char* fix;    // the report's fix
};

// checks.inc's rows are INTERPSAN_CHECK(...), the name of the invariant
// macro too (runtime/invariant.h): that one is set aside while the table
// is read, whichever header came first.
#pragma push_macro("INTERPSAN_CHECK")
#undef INTERPSAN_CHECK

inline constexpr CheckInfo kCheckTable[] = {
#define INTERPSAN_CHECK(name, bit, doc, where) {name, bit, doc, where},
#include "debug/checks.inc"
};

namespace kinds {
#define INTERPSAN_KIND(id, kind, check, fix) \
  inline constexpr KindInfo id = {kind, check, fix};
#include "debug/checks.inc"
}  // namespace kinds

inline constexpr KindInfo kKindTable[] = {
#define INTERPSAN_KIND(id, kind, check, fix) kinds::id,
#include "debug/checks.inc"
};

#pragma pop_macro("INTERPSAN_CHECK")

namespace check_table_internal {

constexpr bool Same(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return *a == *b;
}

// Every kind names a check of the table, and the bits add up to kCheckAll,
// each once: a typo in checks.inc fails the build, not a run.
constexpr bool Consistent() {
  for (const KindInfo& k : kKindTable) {
    bool found = false;
    for (const CheckInfo& c : kCheckTable)
      found = found || Same(k.check, c.name);
    if (!found) return false;
  }
  uint32_t bits = 0;
  for (const CheckInfo& c : kCheckTable) {
    if (c.bit == 0 || (bits & c.bit) != 0) return false;
    bits |= c.bit;
  }
  return bits == kCheckAll;
}
static_assert(Consistent(),
              "debug/checks.inc: a kind names an unknown check, "
              "or the check bits are not kCheckAll, once each");

}  // namespace check_table_internal
}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_CHECK_TABLE_H_
