#include "debug/checks.h"

#include <sstream>

namespace interpsan {
namespace {

Resolution Dispatch(const BlockAnomaly& a) {
  switch (a.kind) {
    case AnomalyKind::kCrossInterpreterFree:
    case AnomalyKind::kCrossInterpreterRealloc:
      return ReportCrossInterpreterFree(a);
    case AnomalyKind::kCrossInterpreterDealloc:
      return ReportCrossInterpreterDealloc(a);
    case AnomalyKind::kWrongDomainFree:
    case AnomalyKind::kWrongDomainRealloc:
    case AnomalyKind::kInvalidFree:
    case AnomalyKind::kDoubleFree:
      return ReportWrongDomainFree(a);
  }
  return Resolution::kLeak;
}

}  // namespace

bool ParseChecks(const std::string& list, uint32_t* bits, std::string* error) {
  if (list == "all") {
    *bits = kCheckAll;
    return true;
  }
  if (list == "none") {
    *bits = 0;
    return true;
  }
  uint32_t result = 0;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    bool found = false;
    for (const CheckInfo& c : kCheckTable) {
      if (item == c.name) {
        result |= c.bit;
        found = true;
      }
    }
    if (!found) {
      *error = "unknown check '" + item + "' (known: " + CheckNames() + ")";
      return false;
    }
  }
  *bits = result;
  return true;
}

const char* CheckNames() {
  // Built once (thread-safe static initialization), from the table.
  static const std::string* names = [] {
    auto* s = new std::string("all, none");
    for (const CheckInfo& c : kCheckTable) *s += std::string(", ") + c.name;
    return s;
  }();
  return names->c_str();
}

void InstallChecks() { SetAnomalyHandler(&Dispatch); }

std::string DescribeBlock(Domain domain, size_t size) {
  const char* api = domain == Domain::kRaw   ? "PyMem_RawMalloc"
                    : domain == Domain::kMem ? "PyMem_Malloc"
                                             : "PyObject_Malloc";
  return std::string(api) + " block (" + std::to_string(size) + " bytes)";
}

}  // namespace interpsan
