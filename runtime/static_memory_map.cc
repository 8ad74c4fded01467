#include "runtime/static_memory_map.h"

#include <link.h>

#include <algorithm>
#include <atomic>
#include <mutex>

namespace interpsan {
namespace {

std::atomic<const StaticMemorySnapshot*> g_snapshot{nullptr};
std::mutex g_refresh_mu;

int CollectSegments(struct dl_phdr_info* info, size_t, void* data) {
  auto* snap = static_cast<StaticMemorySnapshot*>(data);
  snap->adds = info->dlpi_adds;
  int module = -1;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_W)) continue;
    if (module < 0) {
      module = static_cast<int>(snap->modules.size());
      snap->modules.emplace_back(info->dlpi_name ? info->dlpi_name : "");
    }
    uintptr_t start = info->dlpi_addr + ph.p_vaddr;
    snap->ranges.push_back({start, start + ph.p_memsz, module, ph.p_vaddr});
  }
  return 0;
}

unsigned long long CurrentAdds() {
  unsigned long long adds = 0;
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* data) {
        *static_cast<unsigned long long*>(data) =
            info->dlpi_adds + (info->dlpi_subs << 32);
        return 1;  // the counters are the same in every entry
      },
      &adds);
  return adds;
}

}  // namespace

void StaticMemoryMap::Refresh() {
  std::lock_guard<std::mutex> lock(g_refresh_mu);
  auto* snap = new StaticMemorySnapshot();
  dl_iterate_phdr(&CollectSegments, snap);
  std::sort(snap->ranges.begin(), snap->ranges.end(),
            [](const StaticRange& a, const StaticRange& b) {
              return a.start < b.start;
            });
  snap->adds = CurrentAdds();
  snap->previous = g_snapshot.load(std::memory_order_acquire);
  g_snapshot.store(snap, std::memory_order_release);
}

void StaticMemoryMap::RefreshIfChanged() {
  const StaticMemorySnapshot* snap = g_snapshot.load(std::memory_order_acquire);
  if (snap == nullptr || snap->adds != CurrentAdds()) Refresh();
}

const std::string* StaticMemoryMap::ModuleOf(const void* p) {
  const StaticMemorySnapshot* snap = g_snapshot.load(std::memory_order_acquire);
  if (snap == nullptr) return nullptr;
  uintptr_t addr = reinterpret_cast<uintptr_t>(p);
  auto it = std::upper_bound(
      snap->ranges.begin(), snap->ranges.end(), addr,
      [](uintptr_t a, const StaticRange& r) { return a < r.start; });
  if (it == snap->ranges.begin()) return nullptr;
  --it;
  if (addr >= it->end) return nullptr;
  return &snap->modules[it->module];
}

const StaticMemorySnapshot* StaticMemoryMap::Current() {
  return g_snapshot.load(std::memory_order_acquire);
}

}  // namespace interpsan
