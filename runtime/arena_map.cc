#include "runtime/arena_map.h"

#include <Python.h>
#include <sys/mman.h>

#include "runtime/interpreter_registry.h"

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
  // pymalloc asks for ARENA_SIZE, 1 MiB on 3.12 and 3.13 (the shims assert
  // it at compile time). Anything larger would overlap its own bitmap.
  if (size == 0 || size > kArenaSize) return nullptr;
  // Over-map and trim so the arena starts a 2 MiB slot: then one table
  // entry per 1 MiB names the owner, and the domain bitmap lies at a fixed
  // place right after the arena (arena_map.h).
  size_t slot = size_t{1} << kArenaSlotShift;
  size_t keep = kArenaSlotBytes;
  size_t span = slot + keep;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  uintptr_t base = reinterpret_cast<uintptr_t>(raw);
  uintptr_t aligned = (base + slot - 1) & ~(slot - 1);
  if (aligned > base) munmap(raw, aligned - base);
  uintptr_t end = base + span;
  if (end > aligned + keep) {
    munmap(reinterpret_cast<void*>(aligned + keep), end - aligned - keep);
  }
  // The trace ids: address space only until tracing writes an id (the
  // same mapping again, now without a commit charge; MAP_FIXED over our own
  // pages).
  void* ids =
      mmap(reinterpret_cast<void*>(aligned + kTraceIdsOffset), kTraceIdsBytes,
           PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  if (ids == MAP_FAILED) {
    munmap(reinterpret_cast<void*>(aligned), keep);
    return nullptr;
  }
  OwnerSlot owner = InterpreterRegistry::CurrentSlot();
  if (owner == kNoOwner) owner = kMainSlot;  // only main's state exists then
  Set(reinterpret_cast<void*>(aligned), size, owner);
  return reinterpret_cast<void*>(aligned);
}

void ArenaMap::FreeArena(void* /*ctx*/, void* p, size_t size) {
  if (p == nullptr) return;
  Clear(p, size);
  // The arena, its domain bitmap and its trace ids: a new arena here starts
  // all-obj and untraced.
  munmap(p, kArenaSlotBytes);
}

void ArenaMap::Install() {
  Init();
  PyObjectArenaAllocator arena = {nullptr, &ArenaMap::AllocArena,
                                  &ArenaMap::FreeArena};
  PyObject_SetArenaAllocator(&arena);
}

}  // namespace interpsan
