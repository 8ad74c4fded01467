#include "runtime/arena_map.h"

#include <Python.h>
#include <sys/mman.h>

#include "runtime/interpreter_registry.h"
#include "runtime/small_block_traces.h"

namespace interpsan {

OwnerSlot* ArenaMap::table_ = nullptr;

void ArenaMap::Init() {
  if (table_ != nullptr) return;
  void* p = mmap(nullptr, kArenaTableEntries * sizeof(OwnerSlot),
                 PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    // Lookup then says "not an arena" everywhere, so the allocator hooks
    // cannot tell pymalloc's blocks from their own: the caller must not
    // install them (tools/runner/process_setup.cc checks Active()).
    return;
  }
  table_ = static_cast<OwnerSlot*>(p);
}

void ArenaMap::Set(const void* start, size_t size, OwnerSlot owner) {
  if (table_ == nullptr) return;
  uintptr_t first = reinterpret_cast<uintptr_t>(start) >> kArenaShift;
  uintptr_t last =
      (reinterpret_cast<uintptr_t>(start) + size - 1) >> kArenaShift;
  for (uintptr_t i = first; i <= last && i < kArenaTableEntries; i++) {
    __atomic_store_n(&table_[i], owner, __ATOMIC_RELEASE);
  }
}

void* ArenaMap::AllocArena(void* /*ctx*/, size_t size) {
  // Over-map and trim so the arena starts on a multiple of its size: then
  // one table entry per 1 MiB names the owner exactly.
  size_t align = size_t{1} << kArenaShift;
  size_t rounded = (size + align - 1) & ~(align - 1);
  size_t span = rounded + align;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  uintptr_t base = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (base + align - 1) & ~(align - 1);
  if (aligned > base) munmap(raw, aligned - base);
  uintptr_t end = base + span;
  if (end > aligned + rounded) {
    munmap(reinterpret_cast<void*>(aligned + rounded), end - aligned - rounded);
  }
  OwnerSlot owner = InterpreterRegistry::CurrentSlot();
  if (owner == kNoOwner) owner = kMainSlot;  // only main's state exists then
  Set(reinterpret_cast<void*>(aligned), size, owner);
  return reinterpret_cast<void*>(aligned);
}

void ArenaMap::FreeArena(void* /*ctx*/, void* p, size_t size) {
  if (p == nullptr) return;
  Clear(p, size);
  SmallBlockTraces::DropArena(p, size);
  size_t align = size_t{1} << kArenaShift;
  munmap(p, (size + align - 1) & ~(align - 1));
}

void ArenaMap::Install() {
  Init();
  PyObjectArenaAllocator arena = {nullptr, &ArenaMap::AllocArena,
                                  &ArenaMap::FreeArena};
  PyObject_SetArenaAllocator(&arena);
}

}  // namespace interpsan
