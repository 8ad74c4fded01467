// small_block_traces.h: trace ids of pymalloc small blocks, which carry no
// header (see owner_record.h). One side table per arena, created the first
// time a traced block lands in that arena:
//
//   tables_[address >> 20]  ->  uint32_t ids[1 MiB / 16]   (256 KiB)
//                                        ^ (address & 0xFFFFF) >> 4
//
// Memory: 4 bytes per 16 bytes of arena, only for arenas that hold traced
// blocks, only while tracing has been on.
//
// Thread safety: a block's entry is written by the thread that allocates or
// frees it (under its interpreter's GIL); tables are created with a
// compare-and-swap and never move until their arena is freed.
#ifndef INTERPSAN_RUNTIME_SMALL_BLOCK_TRACES_H_
#define INTERPSAN_RUNTIME_SMALL_BLOCK_TRACES_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "runtime/arena_map.h"

namespace interpsan {

class SmallBlockTraces {
 public:
  // Inline: on every traced small allocation and free.
  static inline void Set(const void* block, uint32_t trace_id) {
    uint32_t* table = TableOf(block);
    if (__builtin_expect(table == nullptr, 0)) {
      if (trace_id == 0) return;
      table = CreateTable(block);
      if (table == nullptr) return;
    }
    table[Entry(block)] = trace_id;
  }
  // Returns the block's trace id and clears it (0 if untraced).
  static inline uint32_t Take(const void* block) {
    uint32_t* table = TableOf(block);
    if (table == nullptr) return 0;
    uint32_t id = table[Entry(block)];
    table[Entry(block)] = 0;
    return id;
  }
  static inline uint32_t Get(const void* block) {
    uint32_t* table = TableOf(block);
    return table == nullptr ? 0 : table[Entry(block)];
  }
  // The arena at `arena` (1 MiB aligned) was freed: drop its table.
  static void DropArena(const void* arena, size_t size);

 private:
  static inline uint32_t* TableOf(const void* p) {
    std::atomic<uint32_t*>* tables = tables_.load(std::memory_order_acquire);
    uintptr_t index = reinterpret_cast<uintptr_t>(p) >> kArenaShift;
    if (__builtin_expect(tables == nullptr || index >= kArenaTableEntries, 0)) {
      return nullptr;
    }
    return tables[index].load(std::memory_order_acquire);
  }
  static inline size_t Entry(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) &
            ((uintptr_t{1} << kArenaShift) - 1)) >>
           4;
  }
  // The table of `p`'s arena, created if missing (null if out of memory).
  static uint32_t* CreateTable(const void* p);

  // kArenaTableEntries table pointers (a reserved mapping, null until the
  // first traced small block).
  static std::atomic<std::atomic<uint32_t*>*> tables_;
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_SMALL_BLOCK_TRACES_H_
