// The arena map: 1 MiB granularity, out-of-range addresses, the arena
// allocator's alignment and bookkeeping, the per-arena domain bits, and
// lock-free concurrent use.
#include "runtime/arena_map.h"

#include <Python.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "runtime/interpreter_registry.h"

namespace interpsan {
namespace {

constexpr uintptr_t kMiB = uintptr_t{1} << 20;

// Addresses that only index the table; nothing is mapped there.
const void* At(uintptr_t address) {
  return reinterpret_cast<const void*>(address);
}

class ArenaMapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ArenaMap::Init(); }
};

TEST_F(ArenaMapTest, GranularityIsOneMiB) {
  EXPECT_EQ(kArenaShift, 20);
  EXPECT_EQ(kArenaTableEntries, size_t{1} << 27);
}

TEST_F(ArenaMapTest, SetLookupClearOverWholeMiBs) {
  const uintptr_t base = 0x100000000000;  // 16 TiB, 1 MiB-aligned
  EXPECT_EQ(ArenaMap::Lookup(At(base)), kNoOwner);

  ArenaMap::Set(At(base), 2 * kMiB, 7);
  EXPECT_EQ(ArenaMap::Lookup(At(base)), 7);
  EXPECT_EQ(ArenaMap::Lookup(At(base + 12345)), 7);
  EXPECT_EQ(ArenaMap::Lookup(At(base + kMiB)), 7);
  EXPECT_EQ(ArenaMap::Lookup(At(base + 2 * kMiB - 1)), 7);
  // The neighbours are untouched.
  EXPECT_EQ(ArenaMap::Lookup(At(base - 1)), kNoOwner);
  EXPECT_EQ(ArenaMap::Lookup(At(base + 2 * kMiB)), kNoOwner);

  // A later Set overrides; Clear forgets.
  ArenaMap::Set(At(base + kMiB), kMiB, 9);
  EXPECT_EQ(ArenaMap::Lookup(At(base)), 7);
  EXPECT_EQ(ArenaMap::Lookup(At(base + kMiB + 1)), 9);
  ArenaMap::Clear(At(base), 2 * kMiB);
  EXPECT_EQ(ArenaMap::Lookup(At(base)), kNoOwner);
  EXPECT_EQ(ArenaMap::Lookup(At(base + kMiB)), kNoOwner);
}

TEST_F(ArenaMapTest, UnalignedRangeCoversEveryMiBItTouches) {
  const uintptr_t base = 0x200000000000;
  // Half a MiB in, one MiB long: touches two table entries.
  ArenaMap::Set(At(base + kMiB / 2), kMiB, 0xffff);
  EXPECT_EQ(ArenaMap::Lookup(At(base)), 0xffff);
  EXPECT_EQ(ArenaMap::Lookup(At(base + kMiB + kMiB / 2 - 1)), 0xffff);
  EXPECT_EQ(ArenaMap::Lookup(At(base + 2 * kMiB)), kNoOwner);
  ArenaMap::Clear(At(base + kMiB / 2), kMiB);
  EXPECT_EQ(ArenaMap::Lookup(At(base)), kNoOwner);
  EXPECT_EQ(ArenaMap::Lookup(At(base + kMiB)), kNoOwner);
}

TEST_F(ArenaMapTest, AddressesOutOfRangeHaveNoOwner) {
  const uintptr_t top = uintptr_t{1} << kAddressBits;  // 128 TiB
  EXPECT_EQ(ArenaMap::Lookup(At(top)), kNoOwner);
  EXPECT_EQ(ArenaMap::Lookup(At(top + 5 * kMiB)), kNoOwner);
  EXPECT_EQ(ArenaMap::Lookup(At(0xffff800000000000)), kNoOwner);  // kernel
  EXPECT_EQ(ArenaMap::Lookup(At(~uintptr_t{0})), kNoOwner);
  EXPECT_EQ(ArenaMap::Lookup(nullptr), kNoOwner);

  // A range running past the table's end stops at the end (no write out
  // of bounds) and still records the part inside.
  ArenaMap::Set(At(top - kMiB), 4 * kMiB, 3);
  EXPECT_EQ(ArenaMap::Lookup(At(top - 1)), 3);
  EXPECT_EQ(ArenaMap::Lookup(At(top)), kNoOwner);
  ArenaMap::Clear(At(top - kMiB), 4 * kMiB);
  EXPECT_EQ(ArenaMap::Lookup(At(top - 1)), kNoOwner);
}

TEST_F(ArenaMapTest, AllocArenaIsAlignedUsableAndOwned) {
  // No thread state here: arenas are attributed to the main interpreter,
  // the only one that can exist that early.
  ASSERT_EQ(InterpreterRegistry::CurrentSlot(), kNoOwner);
  for (size_t size : {kMiB, kMiB / 4}) {
    SCOPED_TRACE(size);
    void* arena = ArenaMap::AllocArena(nullptr, size);
    ASSERT_NE(arena, nullptr);
    uintptr_t start = reinterpret_cast<uintptr_t>(arena);
    EXPECT_EQ(start % (2 * kMiB), 0u);  // starts its 2 MiB slot
    memset(arena, 0xab, size);          // all of it is mapped and writable
    EXPECT_EQ(static_cast<unsigned char*>(arena)[size - 1], 0xab);
    EXPECT_EQ(ArenaMap::Lookup(arena), kMainSlot);
    EXPECT_EQ(ArenaMap::Lookup(At(start + size - 1)), kMainSlot);
    EXPECT_EQ(ArenaMap::Lookup(At(start - 1)), kNoOwner);

    ArenaMap::FreeArena(nullptr, arena, size);
    EXPECT_EQ(ArenaMap::Lookup(arena), kNoOwner);
    EXPECT_EQ(ArenaMap::Lookup(At(start + size - 1)), kNoOwner);
  }
  ArenaMap::FreeArena(nullptr, nullptr, kMiB);  // a no-op
  // Larger than pymalloc's ARENA_SIZE would run into its domain bitmap.
  EXPECT_EQ(ArenaMap::AllocArena(nullptr, kMiB + 1), nullptr);
  EXPECT_EQ(ArenaMap::AllocArena(nullptr, 0), nullptr);
}

// One bit per 16-byte unit, clear in a new arena, set and cleared one
// block at a time, and gone with the arena.
TEST_F(ArenaMapTest, DomainBitsArePerUnitAndStartClear) {
  void* arena = ArenaMap::AllocArena(nullptr, kMiB);
  ASSERT_NE(arena, nullptr);
  auto* base = static_cast<unsigned char*>(arena);
  for (size_t off = 0; off < kMiB; off += 16 * 997) {
    ASSERT_FALSE(ArenaMap::IsMemBlock(base + off)) << off;
  }
  // Neighbouring units share a bitmap byte; the first and last unit lie at
  // the bitmap's two ends.
  const size_t offsets[] = {0, 16, 32, 48, 112, 128, 4096, kMiB - 16};
  for (size_t off : offsets) ArenaMap::MarkMemBlock(base + off);
  for (size_t off : offsets)
    EXPECT_TRUE(ArenaMap::IsMemBlock(base + off)) << off;
  for (size_t off : {size_t{64}, size_t{96}, size_t{144}, kMiB - 32}) {
    EXPECT_FALSE(ArenaMap::IsMemBlock(base + off)) << off;
  }
  ArenaMap::ClearMemBlock(base + 16);
  EXPECT_FALSE(ArenaMap::IsMemBlock(base + 16));
  EXPECT_TRUE(ArenaMap::IsMemBlock(base));
  EXPECT_TRUE(ArenaMap::IsMemBlock(base + 32));
  // The arena's own bytes are not the bitmap: writing all of them leaves
  // the bits as they were.
  memset(arena, 0xff, kMiB);
  EXPECT_FALSE(ArenaMap::IsMemBlock(base + 16));
  EXPECT_TRUE(ArenaMap::IsMemBlock(base + kMiB - 16));
  ArenaMap::FreeArena(nullptr, arena, kMiB);

  // Arenas come and go; a new one never inherits bits.
  std::vector<void*> arenas;
  for (int i = 0; i < 8; i++) {
    void* a = ArenaMap::AllocArena(nullptr, kMiB);
    ASSERT_NE(a, nullptr);
    for (size_t off : offsets) {
      EXPECT_FALSE(ArenaMap::IsMemBlock(static_cast<char*>(a) + off)) << i;
    }
    arenas.push_back(a);
  }
  for (void* a : arenas) ArenaMap::FreeArena(nullptr, a, kMiB);
}

TEST_F(ArenaMapTest, ManyArenasAreDisjointAndIndependentlyFreed) {
  std::vector<void*> arenas;
  for (int i = 0; i < 16; i++) {
    void* a = ArenaMap::AllocArena(nullptr, kMiB);
    ASSERT_NE(a, nullptr);
    arenas.push_back(a);
  }
  for (size_t i = 0; i < arenas.size(); i += 2) {
    ArenaMap::FreeArena(nullptr, arenas[i], kMiB);
  }
  for (size_t i = 0; i < arenas.size(); i++) {
    EXPECT_EQ(ArenaMap::Lookup(arenas[i]), i % 2 ? kMainSlot : kNoOwner) << i;
  }
  for (size_t i = 1; i < arenas.size(); i += 2) {
    ArenaMap::FreeArena(nullptr, arenas[i], kMiB);
    EXPECT_EQ(ArenaMap::Lookup(arenas[i]), kNoOwner);
  }
}

TEST_F(ArenaMapTest, InstallMakesPymallocUseOurArenas) {
  ArenaMap::Install();
  PyObjectArenaAllocator arena = {};
  PyObject_GetArenaAllocator(&arena);
  EXPECT_EQ(arena.alloc, &ArenaMap::AllocArena);
  EXPECT_EQ(arena.free, &ArenaMap::FreeArena);
}

// Writers own disjoint ranges and flip them between their owner and
// kNoOwner; readers scan everything and may only ever see one of those two
// values for each range (no torn or foreign values), and each writer always
// reads back its own writes.
TEST_F(ArenaMapTest, ConcurrentSetAndLookup) {
  constexpr int kWriters = 3;
  constexpr int kReaders = 2;
  constexpr int kRangesPerWriter = 32;
  constexpr int kRounds = 300;
  constexpr long kMinScans = 200;  // per reader, overlapping the writers
  const uintptr_t base = 0x300000000000;
  auto range_start = [&](int writer, int r) {
    return base +
           (static_cast<uintptr_t>(writer) * kRangesPerWriter + r) * 2 * kMiB;
  };
  std::atomic<bool> done{false};
  std::atomic<int> writer_errors{0};
  std::atomic<int> reader_errors{0};
  std::atomic<long> scans{0};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; w++) {
    threads.emplace_back([&, w] {
      OwnerSlot owner = static_cast<OwnerSlot>(100 + w);
      for (int round = 0;
           round < kRounds ||
           scans.load(std::memory_order_relaxed) < kMinScans * kReaders;
           round++) {
        for (int r = 0; r < kRangesPerWriter; r++) {
          uintptr_t start = range_start(w, r);
          ArenaMap::Set(At(start), 2 * kMiB, owner);
          if (ArenaMap::Lookup(At(start + kMiB)) != owner) writer_errors++;
        }
        for (int r = 0; r < kRangesPerWriter; r++) {
          uintptr_t start = range_start(w, r);
          ArenaMap::Clear(At(start), 2 * kMiB);
          if (ArenaMap::Lookup(At(start)) != kNoOwner) writer_errors++;
        }
      }
    });
  }
  for (int t = 0; t < kReaders; t++) {
    threads.emplace_back([&] {
      while (!done.load(std::memory_order_acquire)) {
        for (int w = 0; w < kWriters; w++) {
          for (int r = 0; r < kRangesPerWriter; r++) {
            OwnerSlot seen = ArenaMap::Lookup(At(range_start(w, r) + 4096));
            if (seen != kNoOwner && seen != 100 + w) reader_errors++;
          }
        }
        scans++;
      }
    });
  }
  for (int w = 0; w < kWriters; w++) threads[w].join();
  done.store(true, std::memory_order_release);
  for (size_t t = kWriters; t < threads.size(); t++) threads[t].join();

  EXPECT_EQ(writer_errors.load(), 0);
  EXPECT_EQ(reader_errors.load(), 0);
  EXPECT_GE(scans.load(), kMinScans * kReaders);
  for (int w = 0; w < kWriters; w++) {
    for (int r = 0; r < kRangesPerWriter; r++) {
      EXPECT_EQ(ArenaMap::Lookup(At(range_start(w, r))), kNoOwner);
    }
  }
}

}  // namespace
}  // namespace interpsan
