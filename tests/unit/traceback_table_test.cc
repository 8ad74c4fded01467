// TracebackTable: interning explicit frame ids (no Python needed), the
// per-interpreter id blocks that keep interpreters' counters on separate
// cache lines, and concurrent interning (run under TSan by
// tests/sanitizers/run_sanitizers.sh with the other unit tests).
#include "tracemalloc/traceback_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <thread>
#include <vector>

namespace interpsan {
namespace {

TEST(TracebackTableTest, SameKeySameIdAndRecordKept) {
  const FrameId frames[] = {3, 1, 4};
  TraceId a = TracebackTable::Intern(Domain::kObj, 7, 0, frames, 3, 10);
  TraceId b = TracebackTable::Intern(Domain::kObj, 7, 0, frames, 3, 10);
  ASSERT_NE(a, 0u);
  EXPECT_EQ(a, b);
  TraceRecord r;
  ASSERT_TRUE(TracebackTable::Get(a, &r));
  EXPECT_EQ(r.slot, 7);
  EXPECT_EQ(r.domain, Domain::kObj);
  EXPECT_EQ(r.nframes, 3);
  EXPECT_EQ(r.depth, 10);
  EXPECT_EQ(std::vector<FrameId>(r.frames, r.frames + 3),
            std::vector<FrameId>({3, 1, 4}));
}

TEST(TracebackTableTest, EveryPartOfTheKeyCounts) {
  const FrameId frames[] = {5, 9};
  const FrameId other[] = {5, 8};
  std::set<TraceId> ids = {
      TracebackTable::Intern(Domain::kMem, 11, 0, frames, 2, 2),
      TracebackTable::Intern(Domain::kRaw, 11, 0, frames, 2, 2),   // domain
      TracebackTable::Intern(Domain::kMem, 12, 0, frames, 2, 2),   // slot
      TracebackTable::Intern(Domain::kMem, 11, 1, frames, 2, 2),   // generation
      TracebackTable::Intern(Domain::kMem, 11, 0, frames, 2, 30),  // depth
      TracebackTable::Intern(Domain::kMem, 11, 0, frames, 1, 2),  // frame count
      TracebackTable::Intern(Domain::kMem, 11, 0, other, 2, 2),   // frames
  };
  EXPECT_EQ(ids.size(), 7u);
  EXPECT_EQ(ids.count(0), 0u);
}

TEST(TracebackTableTest, DepthIsAtLeastTheFrameCount) {
  const FrameId frames[] = {1, 2, 3};
  TraceRecord r;
  ASSERT_TRUE(TracebackTable::Get(
      TracebackTable::Intern(Domain::kObj, 13, 0, frames, 3, 0), &r));
  EXPECT_EQ(r.depth, 3);
}

TEST(TracebackTableTest, UnusedAndUnknownIdsAreNotRecords) {
  TraceRecord r;
  EXPECT_FALSE(TracebackTable::Get(0, &r));
  EXPECT_FALSE(TracebackTable::Get(TracebackTable::Count() + 1, &r));
}

// Two interpreters interning in turns: each one's ids fill whole 64-byte
// lines of counters, never a line shared with the other's.
TEST(TracebackTableTest, InterpretersNeverShareACounterLine) {
  std::set<uintptr_t> lines[2];
  for (FrameId f = 100; f < 140; f++) {
    for (int i = 0; i < 2; i++) {
      OwnerSlot slot = static_cast<OwnerSlot>(20 + i);
      TraceId id = TracebackTable::Intern(Domain::kObj, slot, 0, &f, 1, 1);
      ASSERT_NE(id, 0u);
      lines[i].insert(reinterpret_cast<uintptr_t>(&TracebackTable::Stats(id)) /
                      64);
    }
  }
  for (uintptr_t line : lines[0]) EXPECT_EQ(lines[1].count(line), 0u) << line;
}

TEST(TracebackTableTest, ConcurrentInterningAgrees) {
  constexpr int kThreads = 4;
  constexpr int kFrames = 500;
  std::vector<std::vector<TraceId>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([t, &got] {
      // Threads 0/1 share slot 30, threads 2/3 slot 31.
      OwnerSlot slot = static_cast<OwnerSlot>(30 + t / 2);
      for (FrameId f = 0; f < kFrames; f++) {
        got[t].push_back(
            TracebackTable::Intern(Domain::kObj, slot, 0, &f, 1, 1));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(got[0], got[1]);
  EXPECT_EQ(got[2], got[3]);
  std::set<TraceId> slot30(got[0].begin(), got[0].end());
  std::set<TraceId> slot31(got[2].begin(), got[2].end());
  EXPECT_EQ(slot30.size(), static_cast<size_t>(kFrames));
  EXPECT_EQ(slot31.size(), static_cast<size_t>(kFrames));
  for (TraceId id : slot30) {
    EXPECT_EQ(slot31.count(id), 0u);
    TraceRecord r;
    ASSERT_TRUE(TracebackTable::Get(id, &r));
    EXPECT_EQ(r.slot, 30);
  }
}

}  // namespace
}  // namespace interpsan
