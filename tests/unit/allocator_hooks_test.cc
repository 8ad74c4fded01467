// The PEP 445 hooks in a real CPython: where blocks of each domain and size
// come from, the owner records they get, realloc across the pymalloc limit,
// and the anomalies reported for wrong-domain, double, invalid and
// cross-interpreter frees, with what happens to the block afterwards.
#include "runtime/allocator_hooks.h"

#include <Python.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/allocation_tracer.h"
#include "runtime/anomaly.h"
#include "runtime/arena_map.h"
#include "runtime/interpreter_registry.h"
#include "runtime/owner_record.h"
#include "runtime/python_shim.h"
#include "tests/unit/python_test_env.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// From the sanitizer runtime (gcc ships no allocator_interface.h).
extern "C" size_t __sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

namespace interpsan {
namespace {

// Bytes currently allocated from the C heap (the hooks' raw allocator).
size_t LiveHeapBytes() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

// ---- capturing anomalies --------------------------------------------------

std::mutex g_anomalies_mu;
std::vector<BlockAnomaly>* g_anomalies = nullptr;

Resolution CaptureAnomaly(const BlockAnomaly& a) {
  std::lock_guard<std::mutex> lock(g_anomalies_mu);
  g_anomalies->push_back(a);  // capacity reserved: no allocation here
  return Resolution::kProceed;
}

std::vector<BlockAnomaly> TakeAnomalies() {
  std::lock_guard<std::mutex> lock(g_anomalies_mu);
  std::vector<BlockAnomaly> out(g_anomalies->begin(), g_anomalies->end());
  g_anomalies->clear();
  return out;
}

const char* KindName(AnomalyKind kind) {
  switch (kind) {
    case AnomalyKind::kCrossInterpreterFree:
      return "cross-interpreter-free";
    case AnomalyKind::kCrossInterpreterRealloc:
      return "cross-interpreter-realloc";
    case AnomalyKind::kCrossInterpreterDealloc:
      return "cross-interpreter-dealloc";
    case AnomalyKind::kWrongDomainFree:
      return "wrong-domain-free";
    case AnomalyKind::kWrongDomainRealloc:
      return "wrong-domain-realloc";
    case AnomalyKind::kInvalidFree:
      return "invalid-free";
    case AnomalyKind::kDoubleFree:
      return "double-free";
  }
  return "?";
}

std::string Describe(const std::vector<BlockAnomaly>& anomalies) {
  std::string out;
  for (const BlockAnomaly& a : anomalies) {
    char line[200];
    snprintf(line, sizeof(line),
             "  %s call=%s block=%s %p size=%zu owner=%u current=%u\n",
             KindName(a.kind), DomainName(a.call_domain),
             DomainName(a.block_domain), a.block, a.size, a.owner, a.current);
    out += line;
  }
  return out;
}

// Hooks and a capturing handler installed before Py_Initialize, as the
// runner does; CPython is initialized once for the whole test program.
std::vector<BlockAnomaly>* g_init_anomalies = nullptr;

class HookedPythonEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_anomalies = new std::vector<BlockAnomaly>();
    g_anomalies->reserve(100000);
    SetAnomalyHandler(&CaptureAnomaly);
    AllocatorHooks::Install(kCheckAllBlock);
    testing::InitializePythonForTest();
    g_init_anomalies = new std::vector<BlockAnomaly>(TakeAnomalies());
  }
  void TearDown() override {
    EXPECT_EQ(testing::FinalizePythonForTest(), 0);
    std::vector<BlockAnomaly> left = TakeAnomalies();
    EXPECT_TRUE(left.empty()) << "during Py_FinalizeEx:\n" << Describe(left);
  }
};
::testing::Environment* const hooked_python_env =
    ::testing::AddGlobalTestEnvironment(new HookedPythonEnvironment);

class AllocatorHooksTest : public ::testing::Test {
 protected:
  void SetUp() override { TakeAnomalies(); }
  void TearDown() override {
    std::vector<BlockAnomaly> left = TakeAnomalies();
    EXPECT_TRUE(left.empty()) << "unexpected anomalies:\n" << Describe(left);
  }
};

const BlockHeader* HeaderOf(const void* user) {
  return BlockHeader::FromUser(user);
}

void Fill(void* p, size_t n, unsigned seed) {
  auto* bytes = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < n; i++)
    bytes[i] = static_cast<unsigned char>(seed + i * 7);
}

bool HasPattern(const void* p, size_t n, unsigned seed) {
  auto* bytes = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; i++) {
    if (bytes[i] != static_cast<unsigned char>(seed + i * 7)) return false;
  }
  return true;
}

// ---- routing and owner records --------------------------------------------

TEST_F(AllocatorHooksTest, InstalledAndCPythonStartsCleanly) {
  EXPECT_TRUE(AllocatorHooks::installed());
  EXPECT_EQ(InterpreterRegistry::CurrentSlot(), kMainSlot);
  // CPython itself never mixes domains or frees foreign memory.
  EXPECT_TRUE(g_init_anomalies->empty()) << "during Py_Initialize:\n"
                                         << Describe(*g_init_anomalies);
  EXPECT_TRUE(testing::RunPython(
      "import json\n"
      "data = {str(i): [i, float(i), 'x' * i] for i in range(500)}\n"
      "assert json.loads(json.dumps(data)) == data\n"));
}

TEST_F(AllocatorHooksTest, SmallObjectBlocksLieInTheMainInterpretersArenas) {
  for (size_t n : {1, 8, 16, 64, 100, 512}) {
    SCOPED_TRACE(n);
    void* p = PyObject_Malloc(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    EXPECT_EQ(ArenaMap::Lookup(p), kMainSlot);
    // pymalloc's size class: n rounded up to its 16-byte alignment.
    EXPECT_EQ(AllocatorHooks::BlockSize(p), (n + 15) / 16 * 16);
    PyObject_Free(p);
  }
  // Real objects too.
  PyObject* list = PyList_New(0);
  PyObject* number = PyFloat_FromDouble(1.5);
  EXPECT_EQ(ArenaMap::Lookup(list), kMainSlot);
  EXPECT_EQ(ArenaMap::Lookup(number), kMainSlot);
  Py_DECREF(list);
  Py_DECREF(number);
}

TEST_F(AllocatorHooksTest, LargeAndEmptyObjectBlocksHaveAHeader) {
  void* p = PyObject_Malloc(4096);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
  EXPECT_EQ(ArenaMap::Lookup(p), kNoOwner);
  const BlockHeader* h = HeaderOf(p);
  EXPECT_EQ(h->magic, kLiveMagic);
  EXPECT_EQ(h->block_domain(), Domain::kObj);
  EXPECT_EQ(h->size, 4096u);
  EXPECT_EQ(h->owner, kMainSlot);
  EXPECT_EQ(h->trace_id, 0u);
  EXPECT_EQ(AllocatorHooks::BlockSize(p), 4096u);
  Fill(p, 4096, 1);  // all of it is usable
  PyObject_Free(p);

  // One past pymalloc's limit.
  p = PyObject_Malloc(513);
  EXPECT_EQ(ArenaMap::Lookup(p), kNoOwner);
  EXPECT_EQ(HeaderOf(p)->size, 513u);
  PyObject_Free(p);

  void* empty = PyObject_Malloc(0);
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(ArenaMap::Lookup(empty), kNoOwner);
  EXPECT_EQ(HeaderOf(empty)->magic, kLiveMagic);
  EXPECT_EQ(HeaderOf(empty)->size, 0u);
  EXPECT_EQ(HeaderOf(empty)->block_domain(), Domain::kObj);
  PyObject_Free(empty);

  auto* zeroed = static_cast<unsigned char*>(PyObject_Calloc(10, 100));
  ASSERT_NE(zeroed, nullptr);
  EXPECT_EQ(HeaderOf(zeroed)->size, 1000u);
  for (int i = 0; i < 1000; i++) ASSERT_EQ(zeroed[i], 0) << i;
  PyObject_Free(zeroed);
}

TEST_F(AllocatorHooksTest, SmallMemBlocksLieInArenasWithTheirDomainBit) {
  // As in stock CPython, PyMem_Malloc of 1..512 bytes is pymalloc's: no
  // header; the arena names the owner, its domain bit says "mem".
  for (size_t n : {1, 10, 64, 512}) {
    SCOPED_TRACE(n);
    void* p = PyMem_Malloc(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    EXPECT_EQ(ArenaMap::Lookup(p), kMainSlot);
    EXPECT_TRUE(ArenaMap::IsMemBlock(p));
    EXPECT_EQ(AllocatorHooks::BlockSize(p), (n + 15) / 16 * 16);
    PyMem_Free(p);
    EXPECT_FALSE(ArenaMap::IsMemBlock(p));  // cleared on release
  }
  auto* zeroed = static_cast<unsigned char*>(PyMem_Calloc(3, 5));
  ASSERT_NE(zeroed, nullptr);
  EXPECT_EQ(ArenaMap::Lookup(zeroed), kMainSlot);
  EXPECT_TRUE(ArenaMap::IsMemBlock(zeroed));
  for (int i = 0; i < 15; i++) EXPECT_EQ(zeroed[i], 0) << i;
  PyMem_Free(zeroed);
  // obj blocks never have the bit, even where a mem block was just freed.
  void* m = PyMem_Malloc(48);
  PyMem_Free(m);
  void* o = PyObject_Malloc(48);
  EXPECT_EQ(o, m);  // pymalloc reuses the block it just got back
  EXPECT_FALSE(ArenaMap::IsMemBlock(o));
  PyObject_Free(o);
}

TEST_F(AllocatorHooksTest, LargeAndEmptyMemBlocksHaveAHeader) {
  for (size_t n : {size_t{0}, size_t{513}, size_t{100000}}) {
    SCOPED_TRACE(n);
    void* p = PyMem_Malloc(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
    EXPECT_EQ(ArenaMap::Lookup(p), kNoOwner);
    const BlockHeader* h = HeaderOf(p);
    EXPECT_EQ(h->magic, kLiveMagic);
    EXPECT_EQ(h->block_domain(), Domain::kMem);
    EXPECT_EQ(h->size, n);
    EXPECT_EQ(h->owner, kMainSlot);
    EXPECT_EQ(AllocatorHooks::BlockSize(p), n);
    PyMem_Free(p);
  }
  auto* zeroed = static_cast<unsigned char*>(PyMem_Calloc(100, 10));
  ASSERT_NE(zeroed, nullptr);
  EXPECT_EQ(HeaderOf(zeroed)->size, 1000u);
  EXPECT_EQ(HeaderOf(zeroed)->block_domain(), Domain::kMem);
  for (int i = 0; i < 1000; i++) ASSERT_EQ(zeroed[i], 0) << i;
  PyMem_Free(zeroed);
}

TEST_F(AllocatorHooksTest, SmallMemBlocksKeepTheirDomainThroughRealloc) {
  auto* p = static_cast<unsigned char*>(PyMem_Malloc(24));
  Fill(p, 24, 13);
  // Within pymalloc (a bigger size class moves the block): the bit moves.
  auto* q = static_cast<unsigned char*>(PyMem_Realloc(p, 300));
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(HasPattern(q, 24, 13));
  EXPECT_EQ(ArenaMap::Lookup(q), kMainSlot);
  EXPECT_TRUE(ArenaMap::IsMemBlock(q));
  if (q != p) {
    EXPECT_FALSE(ArenaMap::IsMemBlock(p));
  }
  // Out of pymalloc and back: a mem header block, then a mem small block.
  auto* r = static_cast<unsigned char*>(PyMem_Realloc(q, 3000));
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(ArenaMap::IsMemBlock(q));
  EXPECT_EQ(HeaderOf(r)->block_domain(), Domain::kMem);
  EXPECT_TRUE(HasPattern(r, 24, 13));
  PyMem_Free(r);
  // A wrong-domain resize is reported, and the block stays a mem block:
  // its correct free afterwards is silent.
  void* s = PyMem_Malloc(40);
  void* t = PyObject_Realloc(s, 100);
  ASSERT_NE(t, nullptr);
  std::vector<BlockAnomaly> got = TakeAnomalies();
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_EQ(got[0].kind, AnomalyKind::kWrongDomainRealloc);
  EXPECT_EQ(got[0].call_domain, Domain::kObj);
  EXPECT_EQ(got[0].block_domain, Domain::kMem);
  EXPECT_EQ(got[0].block, s);
  EXPECT_TRUE(ArenaMap::IsMemBlock(t));
  PyMem_Free(t);
}

TEST_F(AllocatorHooksTest, RawBlocksAreOwnedByWhoeverHasAThreadState) {
  void* p = PyMem_RawMalloc(10);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(HeaderOf(p)->block_domain(), Domain::kRaw);
  EXPECT_EQ(HeaderOf(p)->size, 10u);
  EXPECT_EQ(HeaderOf(p)->owner, kMainSlot);
  PyMem_RawFree(p);

  // The raw domain may be called with no thread state at all.
  void* orphan = nullptr;
  std::thread([&] { orphan = PyMem_RawMalloc(24); }).join();
  ASSERT_NE(orphan, nullptr);
  EXPECT_EQ(HeaderOf(orphan)->owner, kNoOwner);
  EXPECT_EQ(HeaderOf(orphan)->block_domain(), Domain::kRaw);
  PyMem_RawFree(orphan);  // any interpreter may free it: no anomaly
}

TEST_F(AllocatorHooksTest, ReallocAcrossThePymallocLimitKeepsContents) {
  auto* p = static_cast<unsigned char*>(PyObject_Malloc(48));
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(ArenaMap::Lookup(p), kMainSlot);
  Fill(p, 48, 3);

  // Small -> small stays in pymalloc.
  p = static_cast<unsigned char*>(PyObject_Realloc(p, 64));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ArenaMap::Lookup(p), kMainSlot);
  EXPECT_TRUE(HasPattern(p, 48, 3));

  // Small -> large moves into a header block.
  auto* q = static_cast<unsigned char*>(PyObject_Realloc(p, 2000));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(ArenaMap::Lookup(q), kNoOwner);
  EXPECT_EQ(HeaderOf(q)->magic, kLiveMagic);
  EXPECT_EQ(HeaderOf(q)->block_domain(), Domain::kObj);
  EXPECT_EQ(HeaderOf(q)->size, 2000u);
  EXPECT_EQ(HeaderOf(q)->owner, kMainSlot);
  EXPECT_TRUE(HasPattern(q, 48, 3));
  Fill(q, 2000, 5);

  // Large -> small keeps the contents and a correct header.
  auto* r = static_cast<unsigned char*>(PyObject_Realloc(q, 100));
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(HasPattern(r, 100, 5));
  if (ArenaMap::Lookup(r) == kNoOwner) {
    EXPECT_EQ(HeaderOf(r)->magic, kLiveMagic);
    EXPECT_EQ(HeaderOf(r)->size, 100u);
    EXPECT_EQ(HeaderOf(r)->block_domain(), Domain::kObj);
    EXPECT_EQ(HeaderOf(r)->owner, kMainSlot);
  } else {
    EXPECT_EQ(ArenaMap::Lookup(r), kMainSlot);
  }
  EXPECT_EQ(AllocatorHooks::BlockSize(r) >= 100, true);
  PyObject_Free(r);

  // realloc(NULL) is malloc; PyMem blocks resize in their header.
  auto* m = static_cast<unsigned char*>(PyMem_Realloc(nullptr, 20));
  ASSERT_NE(m, nullptr);
  Fill(m, 20, 9);
  m = static_cast<unsigned char*>(PyMem_Realloc(m, 5000));
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(HasPattern(m, 20, 9));
  EXPECT_EQ(HeaderOf(m)->size, 5000u);
  EXPECT_EQ(HeaderOf(m)->block_domain(), Domain::kMem);
  PyMem_Free(m);
}

// ---- tracing ----------------------------------------------------------------

// A tracer that records what the hooks tell it (tracemalloc's callbacks).
struct TracedEvent {
  bool alloc;
  Domain domain;
  OwnerSlot slot;
  size_t size;
  uint32_t id;
};
std::vector<TracedEvent>* g_traced = nullptr;
uint32_t g_next_trace_id = 100;

uint32_t RecordAlloc(Domain domain, OwnerSlot slot, size_t size) {
  uint32_t id = g_next_trace_id++;
  g_traced->push_back({true, domain, slot, size, id});
  return id;
}

void RecordFree(uint32_t id, size_t size) {
  g_traced->push_back({false, Domain::kRaw, kNoOwner, size, id});
}

// Small PyMem blocks live in pymalloc now: their traces must still carry
// the mem domain, the owner and the size, follow a resize, and end at the
// free.
TEST_F(AllocatorHooksTest, SmallMemBlocksAreTracedAsMem) {
  std::vector<TracedEvent> events;
  events.reserve(100);
  g_traced = &events;
  InstallAllocationTracer({&RecordAlloc, &RecordFree, nullptr, nullptr});
  g_traced_ever.store(true);
  g_tracing.store(true);
  void* p = PyMem_Malloc(40);
  void* q = PyMem_Realloc(p, 200);
  uint32_t q_id = AllocatorHooks::TraceIdOf(q);
  PyMem_Free(q);
  void* o = PyObject_Malloc(40);
  uint32_t o_id = AllocatorHooks::TraceIdOf(o);
  PyObject_Free(o);
  g_tracing.store(false);
  InstallAllocationTracer({nullptr, nullptr, nullptr, nullptr});
  g_traced = nullptr;

  ASSERT_EQ(events.size(), 6u);
  // PyMem_Malloc(40): a mem trace of its size class, for the main slot.
  EXPECT_TRUE(events[0].alloc);
  EXPECT_EQ(events[0].domain, Domain::kMem);
  EXPECT_EQ(events[0].slot, kMainSlot);
  EXPECT_EQ(events[0].size, 48u);
  // The resize ends it and starts a new mem trace.
  EXPECT_FALSE(events[1].alloc);
  EXPECT_EQ(events[1].id, events[0].id);
  EXPECT_EQ(events[1].size, 48u);
  EXPECT_TRUE(events[2].alloc);
  EXPECT_EQ(events[2].domain, Domain::kMem);
  EXPECT_EQ(events[2].size, 208u);
  EXPECT_EQ(q_id, events[2].id);
  EXPECT_FALSE(events[3].alloc);
  EXPECT_EQ(events[3].id, q_id);
  // An obj block of the same size is an obj trace.
  EXPECT_EQ(events[4].domain, Domain::kObj);
  EXPECT_EQ(o_id, events[4].id);
  EXPECT_EQ(events[5].id, o_id);
}

// A retrace: the id given, the size, and the id to hand back.
struct Retraced {
  uint32_t id;
  size_t size;
};
std::vector<Retraced>* g_retraced = nullptr;

uint32_t RecordRetrace(uint32_t id, size_t size) {
  g_retraced->push_back({id, size});
  return id + 1000;
}

// _Py_NewReference's retrace of a small block: none for the block this
// thread just traced (its allocation's trace is already right), one for any
// other traced block (a freelist's), with the block's size class; the new
// id replaces the old in the block's record, and the free ends that one.
TEST_F(AllocatorHooksTest, RetraceOfSmallBlocks) {
  std::vector<TracedEvent> events;
  events.reserve(100);
  std::vector<Retraced> retraced;
  retraced.reserve(100);
  g_traced = &events;
  g_retraced = &retraced;
  InstallAllocationTracer({&RecordAlloc, &RecordFree, &RecordRetrace, nullptr});
  g_traced_ever.store(true);
  g_tracing.store(true);
  void* a = PyObject_Malloc(100);   // size class 112
  void* b = PyObject_Malloc(24);    // size class 32; traced last
  AllocatorHooks::RetraceBlock(b);  // just traced: nothing to do
  size_t after_fresh = retraced.size();
  uint32_t a_id = AllocatorHooks::TraceIdOf(a);
  AllocatorHooks::RetraceBlock(a);  // a reused block
  uint32_t a_new = AllocatorHooks::TraceIdOf(a);
  AllocatorHooks::RetraceBlock(b);  // no longer the last traced
  uint32_t b_new = AllocatorHooks::TraceIdOf(b);
  PyObject_Free(a);
  PyObject_Free(b);
  uint32_t a_after_free = AllocatorHooks::TraceIdOf(a);
  g_tracing.store(false);
  InstallAllocationTracer({nullptr, nullptr, nullptr, nullptr});
  g_traced = nullptr;
  g_retraced = nullptr;

  EXPECT_EQ(after_fresh, 0u);
  ASSERT_EQ(retraced.size(), 2u);
  EXPECT_EQ(retraced[0].id, a_id);
  EXPECT_EQ(retraced[0].size, 112u);
  EXPECT_EQ(a_new, a_id + 1000);
  EXPECT_EQ(retraced[1].size, 32u);
  EXPECT_EQ(b_new, retraced[1].id + 1000);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].id, a_new);  // the free ends the retraced id
  EXPECT_EQ(events[2].size, 112u);
  EXPECT_EQ(events[3].id, b_new);
  EXPECT_EQ(a_after_free, 0u);
}

// python_shim.h's inline reads agree with the shim's calls into CPython's
// own macros, for every size class and for objects with each pre-header
// (none, GC head, GC head and managed dict/weakref).
TEST_F(AllocatorHooksTest, InlineLayoutReadsAgreeWithTheShim) {
  for (size_t n = 1; n <= 512; n++) {
    void* p = PyObject_Malloc(n);
    ASSERT_NE(ArenaMap::Lookup(p), kNoOwner);
    EXPECT_EQ(interpsan_small_block_size_inline(p),
              interpsan_shim_small_block_size(p))
        << n;
    EXPECT_EQ(interpsan_small_block_size_inline(p), (n + 15) / 16 * 16) << n;
    PyObject_Free(p);
  }
  PyObject* globals = PyDict_New();
  PyObject* r = PyRun_String(
      "class C: pass\nobjs = [12345678, [1], C(), 'text', (1, 2)]\n",
      Py_file_input, globals, globals);
  ASSERT_NE(r, nullptr);
  Py_DECREF(r);
  PyObject* objs = PyDict_GetItemString(globals, "objs");
  ASSERT_NE(objs, nullptr);
  std::vector<size_t> seen;
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objs); i++) {
    PyObject* o = PyList_GET_ITEM(objs, i);
    size_t inline_size =
        interpsan_preheader_size_of_flags(Py_TYPE(o)->tp_flags);
    EXPECT_EQ(inline_size, interpsan_shim_preheader_size(o)) << i;
    seen.push_back(inline_size);
  }
  EXPECT_EQ(seen[0], 0u);   // int: no pre-header
  EXPECT_EQ(seen[1], 16u);  // list: the GC head
  EXPECT_EQ(seen[2], 32u);  // a class instance: GC head, dict and weakref
  Py_DECREF(globals);
}

// ---- anomalies --------------------------------------------------------------

// The one anomaly a wrong-domain free of `block` leaves, by the main
// interpreter of its own block.
void ExpectOneWrongDomainFree(const std::vector<BlockAnomaly>& got, Domain call,
                              Domain block_domain, const void* block,
                              size_t size) {
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_EQ(got[0].kind, AnomalyKind::kWrongDomainFree);
  EXPECT_EQ(got[0].call_domain, call);
  EXPECT_EQ(got[0].block_domain, block_domain);
  EXPECT_EQ(got[0].block, block);
  EXPECT_EQ(got[0].size, size);
  EXPECT_EQ(got[0].owner, kMainSlot);
  EXPECT_EQ(got[0].current, kMainSlot);
}

TEST_F(AllocatorHooksTest, PyMemFreeOfASmallObjectBlock) {
  void* p = PyObject_Malloc(64);
  ASSERT_EQ(ArenaMap::Lookup(p), kMainSlot);
  PyMem_Free(p);
  std::vector<BlockAnomaly> got = TakeAnomalies();
  ExpectOneWrongDomainFree(got, Domain::kMem, Domain::kObj, p, 64);
  EXPECT_EQ(got[0].object, nullptr);
  // It went back to pymalloc: the next block of its size class is it.
  void* again = PyObject_Malloc(64);
  EXPECT_EQ(again, p);
  PyObject_Free(again);
}

TEST_F(AllocatorHooksTest, PyMemFreeOfALargeObjectBlock) {
  void* p = PyObject_Malloc(4096);
  ASSERT_EQ(ArenaMap::Lookup(p), kNoOwner);
  size_t live_before = LiveHeapBytes();
  PyMem_Free(p);
  // Freed header blocks wait in a per-thread quarantine (64 slots) so that
  // double frees are caught; push this one out of it (with header blocks:
  // small PyMem blocks are pymalloc's).
  for (int i = 0; i < 64; i++) PyMem_Free(PyMem_Malloc(600));
  size_t live_after = LiveHeapBytes();
  ExpectOneWrongDomainFree(TakeAnomalies(), Domain::kMem, Domain::kObj, p,
                           4096);
  // Released to the C heap all the same.
  EXPECT_GE(live_before - live_after, 4096u)
      << "before " << live_before << " after " << live_after;
}

TEST_F(AllocatorHooksTest, PyObjectFreeOfAMemBlock) {
  void* p = PyMem_Malloc(32);
  PyObject_Free(p);
  ExpectOneWrongDomainFree(TakeAnomalies(), Domain::kObj, Domain::kMem, p, 32);
}

TEST_F(AllocatorHooksTest, PyObjectFreeOfASmallMemBlockReleasesIt) {
  void* p = PyMem_Malloc(80);
  ASSERT_EQ(ArenaMap::Lookup(p), kMainSlot);
  PyObject_Free(p);
  ExpectOneWrongDomainFree(TakeAnomalies(), Domain::kObj, Domain::kMem, p, 80);
  // Released correctly (its bit too): the next block of its size is it.
  EXPECT_FALSE(ArenaMap::IsMemBlock(p));
  void* again = PyObject_Malloc(80);
  EXPECT_EQ(again, p);
  PyObject_Free(again);
}

TEST_F(AllocatorHooksTest, PyMemFreeInsideASmallBlockIsAnInvalidFree) {
  auto* p = static_cast<unsigned char*>(PyMem_Malloc(64));
  Fill(p, 64, 17);
  PyMem_Free(p + 16);  // no block starts there: refused, never freed
  std::vector<BlockAnomaly> got = TakeAnomalies();
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_EQ(got[0].kind, AnomalyKind::kInvalidFree);
  EXPECT_EQ(got[0].call_domain, Domain::kMem);
  EXPECT_EQ(got[0].block, p + 16);
  EXPECT_TRUE(ArenaMap::IsMemBlock(p));
  EXPECT_TRUE(HasPattern(p, 64, 17));  // untouched
  PyMem_Free(p);
}

TEST_F(AllocatorHooksTest, PyMemReallocOfASmallObjectBlock) {
  void* p = PyObject_Malloc(32);
  Fill(p, 32, 11);
  void* q = PyMem_Realloc(p, 40);
  ASSERT_NE(q, nullptr);
  EXPECT_TRUE(HasPattern(q, 32, 11));
  std::vector<BlockAnomaly> got = TakeAnomalies();
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_EQ(got[0].kind, AnomalyKind::kWrongDomainRealloc);
  EXPECT_EQ(got[0].call_domain, Domain::kMem);
  EXPECT_EQ(got[0].block_domain, Domain::kObj);
  EXPECT_EQ(got[0].block, p);
  PyObject_Free(q);
}

// A double free runs in a child process (a death test that must exit 0):
// whatever the hooks do with the stale pointer (misreport it, crash on
// unmapped memory, or trip AddressSanitizer) fails only this test, with the
// child's output in the failure message.
void FreeTwiceAndExpectDoubleFree(size_t size) {
  void* p = PyMem_Malloc(size);
  PyMem_Free(p);
  if (!TakeAnomalies().empty()) {
    fprintf(stderr, "anomaly on the first free\n");
    _exit(1);
  }
  PyMem_Free(p);  // the bug under test
  std::vector<BlockAnomaly> got = TakeAnomalies();
  if (got.size() != 1 || got[0].kind != AnomalyKind::kDoubleFree ||
      got[0].call_domain != Domain::kMem || got[0].block != p) {
    fprintf(stderr, "expected one double-free of %p (mem), got %zu:\n%s", p,
            got.size(), Describe(got).c_str());
    _exit(1);
  }
  _exit(0);
}

TEST_F(AllocatorHooksTest, DoublePyMemFreeOfASmallBlock) {
  EXPECT_EXIT(FreeTwiceAndExpectDoubleFree(10), ::testing::ExitedWithCode(0),
              "");
}

TEST_F(AllocatorHooksTest, DoublePyMemFreeOfALargeBlock) {
  // Above glibc's mmap threshold: the first free unmaps the block.
  EXPECT_EXIT(FreeTwiceAndExpectDoubleFree(1 << 20),
              ::testing::ExitedWithCode(0), "");
}

// With the free check on and the domain check off, the domain bits are
// kept all the same: a second PyMem_Free of a small block is not reported,
// but it must not reach pymalloc either (its free list would then hand the
// block out twice).
void FreeTwiceWithoutTheDomainCheck() {
  g_enabled_checks = kCheckFree | kCheckDealloc;
  void* p = PyMem_Malloc(10);
  PyMem_Free(p);
  PyMem_Free(p);  // the bug under test
  void* a = PyMem_Malloc(10);
  void* b = PyMem_Malloc(10);
  std::vector<BlockAnomaly> got = TakeAnomalies();
  if (!got.empty() || a == b) {
    fprintf(stderr, "a=%p b=%p, %zu anomalies:\n%s", a, b, got.size(),
            Describe(got).c_str());
    _exit(1);
  }
  _exit(0);
}

TEST_F(AllocatorHooksTest, DoublePyMemFreeWithoutTheDomainCheck) {
  EXPECT_EXIT(FreeTwiceWithoutTheDomainCheck(), ::testing::ExitedWithCode(0),
              "");
}

// The classification itself, on a header we control: a freed magic is a
// double free, anything else an invalid free; neither reaches free().
TEST_F(AllocatorHooksTest, FreedAndForeignHeadersAreNeverPassedOn) {
  alignas(16) static unsigned char storage[64];
  auto* header = reinterpret_cast<BlockHeader*>(storage);
  memset(storage, 0, sizeof(storage));
  header->magic = kFreedMagic;
  PyMem_Free(header->user());
  header->magic = 0x12345678;
  PyObject_Free(header->user());
  std::vector<BlockAnomaly> got = TakeAnomalies();
  ASSERT_EQ(got.size(), 2u) << Describe(got);
  EXPECT_EQ(got[0].kind, AnomalyKind::kDoubleFree);
  EXPECT_EQ(got[0].call_domain, Domain::kMem);
  EXPECT_EQ(got[0].block, header->user());
  EXPECT_EQ(got[0].current, kMainSlot);
  EXPECT_EQ(got[1].kind, AnomalyKind::kInvalidFree);
  EXPECT_EQ(got[1].call_domain, Domain::kObj);
  // Left alone (glibc would have aborted on a static pointer).
  EXPECT_EQ(header->magic, 0x12345678u);
}

// ---- two interpreters -------------------------------------------------------

// A notification between two threads.
class Signal {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

TEST_F(AllocatorHooksTest, CrossInterpreterFreesAreAttributedAndContained) {
  struct Shared {
    OwnerSlot slot = kNoOwner;
    void* small = nullptr;
    void* mem = nullptr;
    void* resized = nullptr;
    OwnerSlot small_owner_after = kNoOwner;
    bool ok = false;
    Signal ready, main_done;
  } s;

  PyThreadState* main_tstate = PyEval_SaveThread();
  std::thread sub([&s] {
    PyThreadState* tstate = testing::NewOwnGilInterpreter();
    if (tstate == nullptr) {
      s.ready.Notify();
      return;
    }
    s.slot = InterpreterRegistry::CurrentSlot();
    s.ok = testing::RunPython("import json; json.dumps(list(range(100)))");
    s.small = PyObject_Malloc(64);
    s.mem = PyMem_Malloc(32);
    s.resized = PyObject_Malloc(32);
    Fill(s.resized, 32, 21);
    s.ready.Notify();
    s.main_done.Wait();
    // The owner frees its own blocks: they stayed valid and its own.
    s.small_owner_after = ArenaMap::Lookup(s.small);
    PyObject_Free(s.small);
    PyObject_Free(s.resized);
    Py_EndInterpreter(tstate);
    InterpreterRegistry::Retire(s.slot);
  });
  s.ready.Wait();
  PyEval_RestoreThread(main_tstate);

  ASSERT_TRUE(s.ok);
  ASSERT_NE(s.slot, kNoOwner);
  ASSERT_NE(s.slot, kMainSlot);
  std::vector<BlockAnomaly> got = TakeAnomalies();
  EXPECT_TRUE(got.empty()) << "creating the interpreter:\n" << Describe(got);
  // The subinterpreter's small blocks lie in its own arenas.
  EXPECT_EQ(ArenaMap::Lookup(s.small), s.slot);
  EXPECT_EQ(ArenaMap::Lookup(s.resized), s.slot);
  EXPECT_EQ(ArenaMap::Lookup(s.mem), s.slot);
  EXPECT_TRUE(ArenaMap::IsMemBlock(s.mem));

  PyObject_Free(s.small);
  got = TakeAnomalies();
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_EQ(got[0].kind, AnomalyKind::kCrossInterpreterFree);
  EXPECT_EQ(got[0].call_domain, Domain::kObj);
  EXPECT_EQ(got[0].block_domain, Domain::kObj);
  EXPECT_EQ(got[0].block, s.small);
  EXPECT_EQ(got[0].size, 64u);
  EXPECT_EQ(got[0].owner, s.slot);
  EXPECT_EQ(got[0].current, kMainSlot);

  PyMem_Free(s.mem);
  got = TakeAnomalies();
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_EQ(got[0].kind, AnomalyKind::kCrossInterpreterFree);
  EXPECT_EQ(got[0].block_domain, Domain::kMem);
  EXPECT_EQ(got[0].block, s.mem);
  EXPECT_EQ(got[0].size, 32u);
  EXPECT_EQ(got[0].owner, s.slot);
  EXPECT_EQ(got[0].current, kMainSlot);

  // A resize by the wrong interpreter gets a copy in its own arena; the
  // original stays with its owner.
  void* copy = PyObject_Realloc(s.resized, 48);
  got = TakeAnomalies();
  ASSERT_EQ(got.size(), 1u) << Describe(got);
  EXPECT_EQ(got[0].kind, AnomalyKind::kCrossInterpreterRealloc);
  EXPECT_EQ(got[0].owner, s.slot);
  EXPECT_EQ(got[0].current, kMainSlot);
  ASSERT_NE(copy, nullptr);
  EXPECT_NE(copy, s.resized);
  EXPECT_EQ(ArenaMap::Lookup(copy), kMainSlot);
  EXPECT_TRUE(HasPattern(copy, 32, 21));
  PyObject_Free(copy);

  main_tstate = PyEval_SaveThread();
  s.main_done.Notify();
  sub.join();
  PyEval_RestoreThread(main_tstate);

  EXPECT_EQ(s.small_owner_after, s.slot);
  got = TakeAnomalies();
  EXPECT_TRUE(got.empty()) << "owner's frees and teardown:\n" << Describe(got);
  EXPECT_TRUE(InterpreterRegistry::Info(s.slot).ended);
}

// An extension keeps a PyMem buffer in a C static; the interpreter that
// allocated it ends, and the next interpreter frees the buffer. The
// interpreters here are created and ended by the program itself (as in
// `interpsan exec`, or a program using _interpreters), so nobody calls
// InterpreterRegistry::Retire; the next interpreter is typically allocated
// at the ended one's address.
TEST_F(AllocatorHooksTest, BufferOfAnEndedInterpreterFreedByTheNextOne) {
  struct Result {
    void* buffer = nullptr;
    PyInterpreterState* first = nullptr;
    PyInterpreterState* second = nullptr;
    int64_t first_id = -1, second_id = -1;
    bool created = false;
  } r;
  PyThreadState* main_tstate = PyEval_SaveThread();
  std::thread([&r] {
    PyThreadState* a = testing::NewOwnGilInterpreter();
    if (a == nullptr) return;
    r.first = PyThreadState_GetInterpreter(a);
    r.first_id = PyInterpreterState_GetID(r.first);
    r.buffer = PyMem_Malloc(32);  // kept in a "static"
    Py_EndInterpreter(a);
    PyThreadState* b = testing::NewOwnGilInterpreter();
    if (b == nullptr) return;
    r.second = PyThreadState_GetInterpreter(b);
    r.second_id = PyInterpreterState_GetID(r.second);
    r.created = true;
    PyMem_Free(r.buffer);  // the next interpreter frees the stale buffer
    Py_EndInterpreter(b);
  }).join();
  PyEval_RestoreThread(main_tstate);
  ASSERT_TRUE(r.created);
  std::vector<BlockAnomaly> got = TakeAnomalies();
  ASSERT_EQ(got.size(), 1u)
      << "interpreter " << r.second_id << " (at " << r.second
      << ") freed a buffer of ended interpreter " << r.first_id << " (at "
      << r.first << ")\n"
      << Describe(got);
  EXPECT_EQ(got[0].kind, AnomalyKind::kCrossInterpreterFree);
  EXPECT_EQ(got[0].block, r.buffer);
  EXPECT_NE(got[0].owner, got[0].current);
  EXPECT_EQ(InterpreterRegistry::Info(got[0].owner).id, r.first_id);
  EXPECT_EQ(InterpreterRegistry::Info(got[0].current).id, r.second_id);
}

}  // namespace
}  // namespace interpsan
