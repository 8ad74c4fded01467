// static_memory_map.h: the writable static memory (.data/.bss) of libpython
// and every loaded shared object.
//
// Objects there are not heap blocks: static types, immortal singletons,
// statically allocated strings, and an extension's `static PyObject *`
// slots. Knowing these ranges means "is this a block we track" is answered
// from facts, never from guessing whether a header happens to be readable.
//
// Thread safety: Lookup is lock-free and reads an immutable snapshot;
// Refresh builds a new snapshot under a mutex and publishes it atomically.
// Old snapshots are kept (a few hundred bytes each, only after dlopen).
#ifndef INTERPSAN_RUNTIME_STATIC_MEMORY_MAP_H_
#define INTERPSAN_RUNTIME_STATIC_MEMORY_MAP_H_

#include <cstdint>
#include <string>
#include <vector>

namespace interpsan {

struct StaticRange {
  uintptr_t start;
  uintptr_t end;         // exclusive
  int module;            // index into Snapshot::modules
  uintptr_t file_vaddr;  // the segment's address in the ELF file (for nm)
};

struct StaticMemorySnapshot {
  std::vector<StaticRange> ranges;   // sorted by start, disjoint
  std::vector<std::string> modules;  // file paths ("" = main executable)
  unsigned long long adds = 0;       // dl_phdr_info::dlpi_adds at build time
  // The snapshot this one replaced: readers may still hold it, so it is
  // kept (and stays reachable, for leak checkers).
  const StaticMemorySnapshot* previous = nullptr;
};

class StaticMemoryMap {
 public:
  // Rebuilds the map from dl_iterate_phdr. Call after loading modules.
  static void Refresh();

  // Refreshes only if objects were loaded or unloaded since the last build.
  static void RefreshIfChanged();

  // The module whose writable static memory holds `p`, or nullptr.
  static const std::string* ModuleOf(const void* p);

  static bool Contains(const void* p) { return ModuleOf(p) != nullptr; }

  // The current snapshot (never null after the first Refresh).
  static const StaticMemorySnapshot* Current();
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_STATIC_MEMORY_MAP_H_
