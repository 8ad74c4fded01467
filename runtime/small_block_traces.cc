#include "runtime/small_block_traces.h"

#include <sys/mman.h>

#include <atomic>

#include "runtime/arena_map.h"

namespace interpsan {
namespace {

constexpr size_t kEntriesPerArena = (size_t{1} << kArenaShift) >> 4;
constexpr size_t kTableBytes = kEntriesPerArena * sizeof(uint32_t);

std::atomic<uint32_t*>* g_tables = nullptr;  // kArenaTableEntries pointers
std::atomic<bool> g_tables_ready{false};

std::atomic<uint32_t*>* Tables() {
  if (__builtin_expect(g_tables_ready.load(std::memory_order_acquire), 1)) {
    return g_tables;
  }
  static std::atomic<int> init{0};
  int expected = 0;
  if (init.compare_exchange_strong(expected, 1)) {
    void* p = mmap(nullptr, kArenaTableEntries * sizeof(std::atomic<uint32_t*>),
                   PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    g_tables = p == MAP_FAILED ? nullptr : static_cast<std::atomic<uint32_t*>*>(p);
    g_tables_ready.store(true, std::memory_order_release);
  }
  while (!g_tables_ready.load(std::memory_order_acquire)) {
  }
  return g_tables;
}

inline size_t ArenaIndex(const void* p) {
  return reinterpret_cast<uintptr_t>(p) >> kArenaShift;
}
inline size_t Entry(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & ((uintptr_t{1} << kArenaShift) - 1)) >> 4;
}

uint32_t* TableFor(const void* p, bool create) {
  std::atomic<uint32_t*>* tables = Tables();
  size_t index = ArenaIndex(p);
  if (tables == nullptr || index >= kArenaTableEntries) return nullptr;
  uint32_t* table = tables[index].load(std::memory_order_acquire);
  if (table != nullptr || !create) return table;
  void* mem = mmap(nullptr, kTableBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  uint32_t* fresh = static_cast<uint32_t*>(mem);
  if (!tables[index].compare_exchange_strong(table, fresh)) {
    munmap(mem, kTableBytes);  // another thread won; use its table
    return table;
  }
  return fresh;
}

}  // namespace

void SmallBlockTraces::Set(const void* block, uint32_t trace_id) {
  uint32_t* table = TableFor(block, trace_id != 0);
  if (table != nullptr) table[Entry(block)] = trace_id;
}

uint32_t SmallBlockTraces::Take(const void* block) {
  uint32_t* table = TableFor(block, false);
  if (table == nullptr) return 0;
  uint32_t id = table[Entry(block)];
  table[Entry(block)] = 0;
  return id;
}

uint32_t SmallBlockTraces::Get(const void* block) {
  uint32_t* table = TableFor(block, false);
  return table == nullptr ? 0 : table[Entry(block)];
}

void SmallBlockTraces::DropArena(const void* arena, size_t size) {
  if (!g_tables_ready.load(std::memory_order_acquire) || g_tables == nullptr) return;
  for (uintptr_t a = reinterpret_cast<uintptr_t>(arena);
       a < reinterpret_cast<uintptr_t>(arena) + size; a += uintptr_t{1} << kArenaShift) {
    size_t index = a >> kArenaShift;
    if (index >= kArenaTableEntries) break;
    uint32_t* table = g_tables[index].exchange(nullptr);
    if (table != nullptr) munmap(table, kTableBytes);
  }
}

}  // namespace interpsan
