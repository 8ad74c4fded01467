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

#include <cstddef>
#include <cstdint>

namespace interpsan {

class SmallBlockTraces {
 public:
  static void Set(const void* block, uint32_t trace_id);
  // Returns the block's trace id and clears it (0 if untraced).
  static uint32_t Take(const void* block);
  static uint32_t Get(const void* block);
  // The arena at `arena` (1 MiB aligned) was freed: drop its table.
  static void DropArena(const void* arena, size_t size);
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_SMALL_BLOCK_TRACES_H_
