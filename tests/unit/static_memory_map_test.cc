// The static memory map: writable segments of the executable and every
// loaded shared object are found and named; heap, stack and anonymous
// mappings are not; a dlopen/dlclose is picked up by RefreshIfChanged.
#include "runtime/static_memory_map.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

// Globals of the test executable, in .data and .bss.
int g_data_global = 17;
int g_bss_global;
// Read-only data is not writable static memory.
const char kRodata[] = "read only";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string ProbeLibraryPath() {
  const char* srcdir = getenv("TEST_SRCDIR");
  const char* workspace = getenv("TEST_WORKSPACE");
  std::string path = std::string(srcdir ? srcdir : ".") + "/" +
                     (workspace ? workspace : "interpsan") +
                     "/tests/unit/libstatic_map_probe.so";
  return path;
}

}  // namespace

namespace interpsan {
namespace {

class StaticMemoryMapTest : public ::testing::Test {
 protected:
  void SetUp() override { StaticMemoryMap::Refresh(); }
};

TEST_F(StaticMemoryMapTest, SnapshotIsSortedAndDisjoint) {
  const StaticMemorySnapshot* snap = StaticMemoryMap::Current();
  ASSERT_NE(snap, nullptr);
  ASSERT_FALSE(snap->ranges.empty());
  for (size_t i = 0; i < snap->ranges.size(); i++) {
    const StaticRange& r = snap->ranges[i];
    EXPECT_LT(r.start, r.end);
    ASSERT_GE(r.module, 0);
    ASSERT_LT(static_cast<size_t>(r.module), snap->modules.size());
    if (i > 0) {
      EXPECT_LE(snap->ranges[i - 1].end, r.start) << i;
    }
  }
}

TEST_F(StaticMemoryMapTest, GlobalsOfTheExecutableAreStatic) {
  const std::string* data_module = StaticMemoryMap::ModuleOf(&g_data_global);
  const std::string* bss_module = StaticMemoryMap::ModuleOf(&g_bss_global);
  ASSERT_NE(data_module, nullptr);
  ASSERT_NE(bss_module, nullptr);
  // dl_iterate_phdr names the main executable "".
  EXPECT_EQ(*data_module, "");
  EXPECT_EQ(*bss_module, "");
  EXPECT_TRUE(StaticMemoryMap::Contains(&g_data_global));
  EXPECT_TRUE(StaticMemoryMap::Contains(&g_bss_global));
}

TEST_F(StaticMemoryMapTest, GlobalsOfLibcAreStaticAndNamed) {
  // stdout points at libc's own FILE object (_IO_2_1_stdout_ in libc's
  // .data). The `stdout` variable itself may be copy-relocated into the
  // executable, the object it points to is not.
  const std::string* module = StaticMemoryMap::ModuleOf(stdout);
  ASSERT_NE(module, nullptr);
  EXPECT_NE(module->find("libc.so"), std::string::npos) << *module;

  // A libc variable looked up in libc itself.
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(libc, nullptr);
  void* environ_in_libc = dlsym(libc, "environ");
  ASSERT_NE(environ_in_libc, nullptr);
  module = StaticMemoryMap::ModuleOf(environ_in_libc);
  ASSERT_NE(module, nullptr);
  EXPECT_NE(module->find("libc.so"), std::string::npos) << *module;
  dlclose(libc);
}

TEST_F(StaticMemoryMapTest, HeapStackCodeAndAnonymousMemoryAreNot) {
  std::unique_ptr<int> heap(new int(5));
  void* big = malloc(1 << 20);  // mmap-backed in glibc
  int on_stack = 3;
  void* anon = mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(anon, MAP_FAILED);
  EXPECT_FALSE(StaticMemoryMap::Contains(heap.get()));
  EXPECT_FALSE(StaticMemoryMap::Contains(big));
  EXPECT_FALSE(StaticMemoryMap::Contains(&on_stack));
  EXPECT_FALSE(StaticMemoryMap::Contains(anon));
  EXPECT_FALSE(StaticMemoryMap::Contains(nullptr));
  // Code and read-only data are static but not writable: not in the map.
  EXPECT_FALSE(StaticMemoryMap::Contains(kRodata));
  EXPECT_FALSE(StaticMemoryMap::Contains(
      reinterpret_cast<const void*>(&ProbeLibraryPath)));
  munmap(anon, 4096);
  free(big);
}

TEST_F(StaticMemoryMapTest, RangeEndsAreExclusive) {
  const StaticMemorySnapshot* snap = StaticMemoryMap::Current();
  ASSERT_NE(snap, nullptr);
  for (const StaticRange& r : snap->ranges) {
    EXPECT_TRUE(StaticMemoryMap::Contains(reinterpret_cast<void*>(r.start)));
    EXPECT_TRUE(StaticMemoryMap::Contains(reinterpret_cast<void*>(r.end - 1)));
  }
}

TEST_F(StaticMemoryMapTest, RefreshIfChangedSeesDlopenAndDlclose) {
  const StaticMemorySnapshot* before = StaticMemoryMap::Current();
  // Nothing changed: no new snapshot.
  StaticMemoryMap::RefreshIfChanged();
  EXPECT_EQ(StaticMemoryMap::Current(), before);

  std::string path = ProbeLibraryPath();
  void* probe = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(probe, nullptr) << dlerror();
  auto* data = static_cast<int*>(dlsym(probe, "interpsan_probe_data"));
  auto* bss_address =
      reinterpret_cast<int* (*)()>(dlsym(probe, "interpsan_probe_bss_address"));
  ASSERT_NE(data, nullptr);
  ASSERT_NE(bss_address, nullptr);
  EXPECT_EQ(*data, 42);
  int* bss = bss_address();

  // The stale snapshot does not know the library yet.
  EXPECT_FALSE(StaticMemoryMap::Contains(data));
  StaticMemoryMap::RefreshIfChanged();
  EXPECT_NE(StaticMemoryMap::Current(), before);
  const std::string* module = StaticMemoryMap::ModuleOf(data);
  ASSERT_NE(module, nullptr);
  EXPECT_TRUE(EndsWith(*module, "libstatic_map_probe.so")) << *module;
  module = StaticMemoryMap::ModuleOf(bss);
  ASSERT_NE(module, nullptr);
  EXPECT_TRUE(EndsWith(*module, "libstatic_map_probe.so")) << *module;
  // Older snapshots stay valid for readers that still hold them.
  EXPECT_FALSE(before->ranges.empty());

  uintptr_t data_address = reinterpret_cast<uintptr_t>(data);
  ASSERT_EQ(dlclose(probe), 0);
  StaticMemoryMap::RefreshIfChanged();
  EXPECT_FALSE(
      StaticMemoryMap::Contains(reinterpret_cast<void*>(data_address)));
}

}  // namespace
}  // namespace interpsan
