// arena_map.h: which interpreter owns each pymalloc arena.
//
// interpsan supplies pymalloc's arena allocator (PyObject_SetArenaAllocator)
// and hands out arenas aligned to their size, so the owner of any small
// object block is one load:  table[address >> kArenaShift].
//
//   address:  | 17 bits (unused) | 27 bits: table index | 20 bits: offset |
//   table:    2^27 x uint16 = 256 MiB of address space, MAP_NORESERVE;
//             only pages that cover real arenas are ever touched.
//
// An arena is created by pymalloc under the thread state of the interpreter
// whose obmalloc state needs it (each own-GIL interpreter has its own), so
// recording CurrentSlot() at creation is exact.
//
// Thread safety: lock-free. Set/Clear happen in the arena allocator, under
// the GIL of the interpreter that owns the arena; Lookup may run anywhere.
#ifndef INTERPSAN_RUNTIME_ARENA_MAP_H_
#define INTERPSAN_RUNTIME_ARENA_MAP_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "runtime/owner_record.h"

namespace interpsan {

constexpr int kArenaShift = 20;  // 1 MiB, pymalloc's ARENA_SIZE on 3.12/3.13
constexpr int kAddressBits = 47;
constexpr size_t kArenaTableEntries = size_t{1} << (kAddressBits - kArenaShift);

class ArenaMap {
 public:
  // Reserves the table. Idempotent; must run before the first Set.
  static void Init();
  // False if the table could not be mapped (or Init never ran): Lookup then
  // answers "not an arena" everywhere, so the allocator hooks would take
  // every pymalloc block for a headed one of theirs: do not install them
  // then. Reported as coverage.arena_map in report.json.
  static bool Active() { return table_ != nullptr; }

  // The owner of the arena containing `p`, or kNoOwner if `p` is not in a
  // pymalloc arena. Signal-safe.
  static inline OwnerSlot Lookup(const void* p) {
    uintptr_t index = reinterpret_cast<uintptr_t>(p) >> kArenaShift;
    if (__builtin_expect(index >= kArenaTableEntries || table_ == nullptr, 0)) {
      return kNoOwner;
    }
    return __atomic_load_n(&table_[index], __ATOMIC_RELAXED);
  }

  static void Set(const void* start, size_t size, OwnerSlot owner);
  static void Clear(const void* start, size_t size) {
    Set(start, size, kNoOwner);
  }

  // The PyObjectArenaAllocator callbacks (ctx is unused).
  static void* AllocArena(void* ctx, size_t size);
  static void FreeArena(void* ctx, void* p, size_t size);

  // Installs AllocArena/FreeArena as pymalloc's arena allocator.
  static void Install();

 private:
  static OwnerSlot* table_;
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_ARENA_MAP_H_
