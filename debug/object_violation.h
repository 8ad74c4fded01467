// object_violation.h: the part of a Violation (report.h) that every
// finding about an object shares, built in one place.
//
// The checks that catch an object where it should not be (an argument of
// the C API, a refcount change, a reference found by the audit) differ in
// their message and in a few facts of their own (the C-API function, the
// source line, the static variable); the kind, check and fix from the
// table, the two interpreters, the object's address and type name are the
// same fields filled the same way, and come from here.
//
// Thread-safe (reads the interpreter registry). Not async-signal-safe:
// builds std::strings. Call on the report path only, never on a fast path.
#ifndef INTERPSAN_DEBUG_OBJECT_VIOLATION_H_
#define INTERPSAN_DEBUG_OBJECT_VIOLATION_H_

#include <string>

#include "debug/check_table.h"
#include "debug/report.h"
#include "runtime/owner_record.h"

namespace interpsan {

// A Violation of `kind` (its kind, check and fix strings from checks.inc)
// about the object at `object`, named `object_type` in messages (usually
// ObjectTypeName(object)), owned by `owner` and met by `current`. The
// caller fills in the message and whatever is particular to its check.
Violation ObjectViolation(const KindInfo& kind, const void* object,
                          std::string object_type, OwnerSlot owner,
                          OwnerSlot current);

// How a message names the object's owner: InterpreterName(owner), followed
// by `if_ended` when that interpreter has ended (" (ended)", or a longer
// note that says what the end means for the finding).
std::string OwnerName(OwnerSlot owner, const char* if_ended = " (ended)");

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_OBJECT_VIOLATION_H_
