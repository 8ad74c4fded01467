#include "runtime/owner_record.h"

namespace interpsan {

const char* DomainName(Domain domain) {
  switch (domain) {
    case Domain::kRaw:
      return "raw";
    case Domain::kMem:
      return "mem";
    case Domain::kObj:
      return "obj";
  }
  return "?";
}

const char* DomainApi(Domain domain) {
  switch (domain) {
    case Domain::kRaw:
      return "PyMem_RawMalloc/PyMem_RawFree";
    case Domain::kMem:
      return "PyMem_Malloc/PyMem_Free";
    case Domain::kObj:
      return "PyObject_Malloc/PyObject_Free";
  }
  return "?";
}

}  // namespace interpsan
