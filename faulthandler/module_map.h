// module_map.h: which loaded object a code address belongs to, read from
// /proc/self/maps with open/read. Async-signal-safe (no dl_iterate_phdr,
// which takes the loader lock a crashing thread may hold).
#ifndef INTERPSAN_FAULTHANDLER_MODULE_MAP_H_
#define INTERPSAN_FAULTHANDLER_MODULE_MAP_H_

#include <cstddef>
#include <cstdint>

namespace interpsan {

class ModuleMap {
 public:
  // Reads /proc/self/maps into `buf` (caller-provided static storage).
  // Returns false if it could not be read.
  bool Load(char* buf, size_t size);

  // Finds the file mapped at `pc`: copies its path (truncated to `path_size`)
  // and the offset of `pc` from the file's load base, as addr2line expects.
  bool Resolve(uintptr_t pc, char* path, size_t path_size,
               uintptr_t* offset) const;

 private:
  const char* buf_ = nullptr;
  size_t len_ = 0;
};

}  // namespace interpsan

#endif  // INTERPSAN_FAULTHANDLER_MODULE_MAP_H_
