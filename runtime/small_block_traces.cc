#include "runtime/small_block_traces.h"

#include <sys/mman.h>

#include <atomic>

namespace interpsan {

std::atomic<std::atomic<uint32_t*>*> SmallBlockTraces::tables_{nullptr};

namespace {

constexpr size_t kEntriesPerArena = (size_t{1} << kArenaShift) >> 4;
constexpr size_t kTableBytes = kEntriesPerArena * sizeof(uint32_t);
constexpr size_t kDirectoryBytes =
    kArenaTableEntries * sizeof(std::atomic<uint32_t*>);

}  // namespace

uint32_t* SmallBlockTraces::CreateTable(const void* p) {
  std::atomic<uint32_t*>* tables = tables_.load(std::memory_order_acquire);
  if (tables == nullptr) {
    // Reserved, not committed: pages appear only for arenas in use.
    void* mem = mmap(nullptr, kDirectoryBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    auto* fresh = static_cast<std::atomic<uint32_t*>*>(mem);
    if (tables_.compare_exchange_strong(tables, fresh,
                                        std::memory_order_acq_rel)) {
      tables = fresh;
    } else {
      munmap(mem, kDirectoryBytes);  // another thread won; use its directory
    }
  }
  uintptr_t index = reinterpret_cast<uintptr_t>(p) >> kArenaShift;
  if (index >= kArenaTableEntries) return nullptr;
  uint32_t* table = tables[index].load(std::memory_order_acquire);
  if (table != nullptr) return table;
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

void SmallBlockTraces::DropArena(const void* arena, size_t size) {
  std::atomic<uint32_t*>* tables = tables_.load(std::memory_order_acquire);
  if (tables == nullptr) return;
  for (uintptr_t a = reinterpret_cast<uintptr_t>(arena);
       a < reinterpret_cast<uintptr_t>(arena) + size;
       a += uintptr_t{1} << kArenaShift) {
    size_t index = a >> kArenaShift;
    if (index >= kArenaTableEntries) break;
    uint32_t* table = tables[index].exchange(nullptr);
    if (table != nullptr) munmap(table, kTableBytes);
  }
}

}  // namespace interpsan
