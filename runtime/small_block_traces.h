// small_block_traces.h: trace ids of pymalloc small blocks, which carry no
// header (see owner_record.h). One uint32_t per 16-byte unit of an arena,
// at a fixed place in the arena's 2 MiB slot (arena_map.h), right after the
// domain bitmap:
//
//   slot:  | arena (1 MiB) | bitmap (8 KiB) | trace ids (256 KiB) | ...
//   id of the block at p:  ids[(p & 0xFFFFF) >> 4]
//
// So finding a block's entry costs no load (a traced allocation, free and
// retrace each touch one; a two-level table cost two dependent loads and
// three tests per access). The ids are mapped with the arena and unmapped
// with it (a new arena starts with every id 0), MAP_NORESERVE: a page is
// backed only once a traced block's id is written there, so untraced
// arenas cost address space only (reading an untouched page reads zeros).
//
// Only for blocks inside a live pymalloc arena (ArenaMap::Lookup(p) !=
// kNoOwner): any other address has no entry.
//
// Thread safety: a block's entry is written by the thread that allocates or
// frees it (under its interpreter's GIL); the ids live and die with their
// arena. Async-signal-safe: Get only reads memory.
#ifndef INTERPSAN_RUNTIME_SMALL_BLOCK_TRACES_H_
#define INTERPSAN_RUNTIME_SMALL_BLOCK_TRACES_H_

#include <cstddef>
#include <cstdint>

#include "runtime/arena_map.h"

namespace interpsan {

class SmallBlockTraces {
 public:
  // Inline: on every traced small allocation, free and retrace.
  static inline void Set(const void* block, uint32_t trace_id) {
    *EntryOf(block) = trace_id;
  }
  // Returns the block's trace id and clears it (0 if untraced).
  static inline uint32_t Take(const void* block) {
    uint32_t* entry = EntryOf(block);
    uint32_t id = *entry;
    if (id != 0) *entry = 0;  // an untraced arena's page stays unbacked
    return id;
  }
  static inline uint32_t Get(const void* block) { return *EntryOf(block); }

  // The entry of the block at `block` (inside a live arena).
  static inline uint32_t* EntryOf(const void* block) {
    uintptr_t a = reinterpret_cast<uintptr_t>(block);
    uintptr_t slot = a & ~((uintptr_t{1} << kArenaSlotShift) - 1);
    return reinterpret_cast<uint32_t*>(slot + kTraceIdsOffset) +
           ((a & (kArenaSize - 1)) >> kDomainUnitShift);
  }
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_SMALL_BLOCK_TRACES_H_
