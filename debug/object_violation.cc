#include "debug/object_violation.h"

#include <string>
#include <utility>

#include "runtime/interpreter_registry.h"
#include "runtime/invariant.h"

namespace interpsan {

Violation ObjectViolation(const KindInfo& kind, const void* object,
                          std::string object_type, OwnerSlot owner,
                          OwnerSlot current) {
  // A finding has a culprit and a victim, and they differ: the checks
  // report only after comparing the two.
  INTERPSAN_CHECK(owner != kNoOwner && current != kNoOwner && owner != current);
  Violation v;
  v.kind = kind.kind;
  v.check = kind.check;
  v.fix = kind.fix;
  v.current = current;
  v.owner = owner;
  v.object_type = std::move(object_type);
  v.address = object;
  v.size = 0;
  v.is_object = true;
  return v;
}

std::string OwnerName(OwnerSlot owner, const char* if_ended) {
  std::string name = InterpreterName(owner);
  if (InterpreterRegistry::Info(owner).ended) name += if_ended;
  return name;
}

}  // namespace interpsan
