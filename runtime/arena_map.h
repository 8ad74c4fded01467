// arena_map.h: which interpreter owns each pymalloc arena, and which of its
// small blocks came from the mem domain.
//
// interpsan supplies pymalloc's arena allocator (PyObject_SetArenaAllocator)
// and hands out arenas aligned to their size, so the owner of any small
// block is one load:  table[address >> kArenaShift].
//
//   address:  | 17 bits (unused) | 27 bits: table index | 20 bits: offset |
//   table:    2^27 x uint16 = 256 MiB of address space, MAP_NORESERVE;
//             only pages that cover real arenas are ever touched.
//
// pymalloc serves both the obj and the mem domain (PyObject_Malloc and
// PyMem_Malloc requests of 1..512 bytes), as in stock CPython. To tell a
// PyMem_Free of a PyObject_Malloc block (and vice versa) apart exactly, each
// arena has a domain bitmap: one bit per 16-byte unit (pymalloc's
// ALIGNMENT; a block starts on a unit and no two blocks share one), set
// while the block starting there is a live mem-domain block. It sits at a
// fixed place, so finding it costs no load: every arena starts a 2 MiB slot
// (aligned to 2 MiB), and the slot's second MiB starts with the 8 KiB bitmap,
// followed by the arena's trace ids (256 KiB, small_block_traces.h; mapped
// MAP_NORESERVE, backed only where tracing writes). Both are mapped with the
// arena and unmapped with it; the rest of that MiB is left to others, and is
// never an arena since arenas start on a 2 MiB boundary:
//
//   slot:  | arena (1 MiB) | bitmap (8 KiB) | trace ids (256 KiB) | not ours |
//          ^ 2 MiB aligned  ^ + 1 MiB
//
// An arena is created by pymalloc under the thread state of the interpreter
// whose obmalloc state needs it (each own-GIL interpreter has its own), so
// recording CurrentSlot() at creation is exact.
//
// Thread safety: lock-free. Set/Clear happen in the arena allocator, under
// the GIL of the interpreter that owns the arena; Lookup may run anywhere.
// Domain bits are written only by the arena's owner (under its GIL: the mem
// and obj domains need it, and a block of another interpreter's arena is
// never handed to pymalloc), with relaxed atomic word loads and stores; any
// thread may read them (a report of a foreign block). Async-signal-safe:
// Lookup and IsMemBlock only read memory.
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
constexpr size_t kArenaSize = size_t{1} << kArenaShift;
// Arenas start 2 MiB slots; the domain bitmap follows the arena.
constexpr int kArenaSlotShift = kArenaShift + 1;
constexpr int kDomainUnitShift = 4;  // pymalloc's ALIGNMENT_SHIFT (64-bit)
constexpr size_t kDomainBitmapBytes = kArenaSize >> kDomainUnitShift >> 3;
// Then the arena's trace ids (small_block_traces.h): 4 bytes per unit.
constexpr size_t kTraceIdsOffset = kArenaSize + kDomainBitmapBytes;
constexpr size_t kTraceIdsBytes = (kArenaSize >> kDomainUnitShift) * 4;
// What AllocArena maps from the slot's start (and FreeArena unmaps).
constexpr size_t kArenaSlotBytes = kTraceIdsOffset + kTraceIdsBytes;

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

  // The same as Lookup, for callers that only run once the table exists
  // (the allocator hooks are installed only then): one compare less.
  static inline OwnerSlot LookupMapped(const void* p) {
    uintptr_t index = reinterpret_cast<uintptr_t>(p) >> kArenaShift;
    if (__builtin_expect(index >= kArenaTableEntries, 0)) return kNoOwner;
    return __atomic_load_n(&table_[index], __ATOMIC_RELAXED);
  }

  // ---- domain bits (only for `p` inside a live arena) ----
  // The small block at `p` was just allocated through the mem domain.
  static inline void MarkMemBlock(const void* p) {
    uint32_t* word = DomainWord(p);
    __atomic_store_n(word,
                     __atomic_load_n(word, __ATOMIC_RELAXED) | DomainBit(p),
                     __ATOMIC_RELAXED);
  }
  // The mem block at `p` is being released (or moved).
  static inline void ClearMemBlock(const void* p) {
    uint32_t* word = DomainWord(p);
    __atomic_store_n(word,
                     __atomic_load_n(word, __ATOMIC_RELAXED) & ~DomainBit(p),
                     __ATOMIC_RELAXED);
  }
  // True while a mem-domain block starts at `p`.
  static inline bool IsMemBlock(const void* p) {
    // A shift by the unit number mod 32 (one `bt`).
    return (__atomic_load_n(DomainWord(p), __ATOMIC_RELAXED) >>
            ((reinterpret_cast<uintptr_t>(p) >> kDomainUnitShift) & 31)) &
           1;
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
  // The bitmap is read as 32-bit words, each for 32 units (512 bytes).
  static inline uint32_t* DomainWord(const void* p) {
    uintptr_t a = reinterpret_cast<uintptr_t>(p);
    uintptr_t slot = a & ~((uintptr_t{1} << kArenaSlotShift) - 1);
    uintptr_t word = (a & (kArenaSize - 1)) >> (kDomainUnitShift + 5);
    return reinterpret_cast<uint32_t*>(slot + kArenaSize) + word;
  }
  static inline uint32_t DomainBit(const void* p) {
    return 1u << ((reinterpret_cast<uintptr_t>(p) >> kDomainUnitShift) & 31);
  }

  static OwnerSlot* table_;
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_ARENA_MAP_H_
