// The interpreter registry: slots are distinct and never reused, Info
// reflects what the runner records, and CurrentSlot() names the calling
// thread's interpreter, for the main interpreter and for own-GIL
// subinterpreters on their own threads.
#include "runtime/interpreter_registry.h"

#include <Python.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "tests/unit/python_test_env.h"

namespace interpsan {
namespace {

// Stands in for a PyInterpreterState. The registry reads the interpreter id
// through PyInterpreterState_GetID (interp->id, an int64_t near the start of
// the struct); filling the buffer with the id makes that read return it
// whatever the field's offset in this CPython version.
struct FakeInterpreter {
  explicit FakeInterpreter(int64_t id) {
    for (int64_t& word : words) word = id;
  }
  PyInterpreterState* get() {
    return reinterpret_cast<PyInterpreterState*>(words);
  }
  alignas(64) int64_t words[4096];
};

// A one-shot barrier for N threads (C++17 has none).
class Barrier {
 public:
  explicit Barrier(int n) : left_(n) {}
  void ArriveAndWait() {
    std::unique_lock<std::mutex> lock(mu_);
    if (--left_ == 0) {
      cv_.notify_all();
    } else {
      cv_.wait(lock, [this] { return left_ == 0; });
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int left_;
};

TEST(InterpreterRegistryTest, NoThreadStateMeansNoOwner) {
  // Before CPython is initialized (tests run in declaration order) ...
  if (!Py_IsInitialized()) {
    EXPECT_EQ(InterpreterRegistry::CurrentSlot(), kNoOwner);
  }
  // ... and on any thread without a thread state.
  OwnerSlot bare_thread_slot = kMainSlot;
  std::thread([&] {
    bare_thread_slot = InterpreterRegistry::CurrentSlot();
  }).join();
  EXPECT_EQ(bare_thread_slot, kNoOwner);
  EXPECT_EQ(InterpreterRegistry::SlotOf(nullptr), kNoOwner);
}

TEST(InterpreterRegistryTest, InfoOfNoOwnerIsEmpty) {
  InterpreterInfo info = InterpreterRegistry::Info(kNoOwner);
  EXPECT_EQ(info.id, -1);
  EXPECT_EQ(info.index, -1);
  EXPECT_FALSE(info.own_gil);
  EXPECT_FALSE(info.ended);
  // Both are no-ops on kNoOwner, not writes to slot 0.
  InterpreterRegistry::SetIndex(kNoOwner, 5, true);
  InterpreterRegistry::Retire(kNoOwner);
  info = InterpreterRegistry::Info(kNoOwner);
  EXPECT_EQ(info.index, -1);
  EXPECT_FALSE(info.ended);
}

TEST(InterpreterRegistryTest, RegisterForTestingHandsOutDistinctSlots) {
  static std::vector<FakeInterpreter>* fakes = [] {
    auto* v = new std::vector<FakeInterpreter>();
    for (int i = 0; i < 50; i++) v->emplace_back(1000 + i);
    return v;
  }();
  int before = InterpreterRegistry::SlotCount();
  std::set<OwnerSlot> seen;
  for (int i = 0; i < 50; i++) {
    OwnerSlot slot =
        InterpreterRegistry::RegisterForTesting((*fakes)[i].get(), 1000 + i);
    EXPECT_NE(slot, kNoOwner);
    // Slot 1 is reserved for the main interpreter, even before it exists.
    EXPECT_NE(slot, kMainSlot);
    EXPECT_TRUE(seen.insert(slot).second)
        << "slot " << slot << " handed out twice";
    InterpreterInfo info = InterpreterRegistry::Info(slot);
    EXPECT_EQ(info.id, 1000 + i);
    EXPECT_EQ(info.index, -1);
    EXPECT_FALSE(info.own_gil);
    EXPECT_FALSE(info.ended);
  }
  EXPECT_EQ(InterpreterRegistry::SlotCount(), before + 50);
}

TEST(InterpreterRegistryTest, InfoReflectsSetIndexAndRetire) {
  static FakeInterpreter fake(4242);
  OwnerSlot slot = InterpreterRegistry::RegisterForTesting(fake.get(), 4242);
  InterpreterRegistry::SetIndex(slot, 3, /*own_gil=*/true);
  InterpreterInfo info = InterpreterRegistry::Info(slot);
  EXPECT_EQ(info.id, 4242);  // re-read from the interpreter: unchanged
  EXPECT_EQ(info.index, 3);
  EXPECT_TRUE(info.own_gil);
  EXPECT_FALSE(info.ended);

  InterpreterRegistry::Retire(slot);
  info = InterpreterRegistry::Info(slot);
  EXPECT_TRUE(info.ended);
  // An ended interpreter is still named correctly in a late report.
  EXPECT_EQ(info.id, 4242);
  EXPECT_EQ(info.index, 3);
  EXPECT_TRUE(info.own_gil);

  // SetIndex after Retire keeps the id (the pointer is forgotten).
  InterpreterRegistry::SetIndex(slot, 4, false);
  info = InterpreterRegistry::Info(slot);
  EXPECT_EQ(info.id, 4242);
  EXPECT_EQ(info.index, 4);
  EXPECT_FALSE(info.own_gil);
}

TEST(InterpreterRegistryTest, SlotOfRegistersOnceAndNeverReusesASlot) {
  static FakeInterpreter fake(77);
  OwnerSlot first = InterpreterRegistry::SlotOf(fake.get());
  ASSERT_NE(first, kNoOwner);
  EXPECT_NE(first, kMainSlot);  // not the main interpreter
  EXPECT_EQ(InterpreterRegistry::SlotOf(fake.get()), first);
  EXPECT_EQ(InterpreterRegistry::Info(first).id, 77);

  // The interpreter ends and a new one is allocated at the same address:
  // it gets a new slot; the old slot keeps describing the ended one.
  InterpreterRegistry::Retire(first);
  for (int64_t& word : fake.words) word = 78;
  OwnerSlot second = InterpreterRegistry::SlotOf(fake.get());
  EXPECT_NE(second, kNoOwner);
  EXPECT_GT(second, first);
  EXPECT_EQ(InterpreterRegistry::Info(second).id, 78);
  EXPECT_FALSE(InterpreterRegistry::Info(second).ended);
  EXPECT_EQ(InterpreterRegistry::Info(first).id, 77);
  EXPECT_TRUE(InterpreterRegistry::Info(first).ended);
  EXPECT_EQ(InterpreterRegistry::SlotOf(fake.get()), second);
}

TEST(InterpreterRegistryTest, ConcurrentRegistrationGivesDistinctSlots) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  static std::vector<FakeInterpreter>* fakes = [] {
    auto* v = new std::vector<FakeInterpreter>();
    v->reserve(kThreads * kPerThread);
    for (int i = 0; i < kThreads * kPerThread; i++) v->emplace_back(5000 + i);
    return v;
  }();
  std::vector<OwnerSlot> slots(kThreads * kPerThread);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([t, &slots] {
      for (int i = 0; i < kPerThread; i++) {
        int k = t * kPerThread + i;
        slots[k] = InterpreterRegistry::SlotOf((*fakes)[k].get());
        // Looking it up again finds the same slot while others register.
        if (InterpreterRegistry::SlotOf((*fakes)[k].get()) != slots[k]) {
          slots[k] = kNoOwner;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<OwnerSlot> seen;
  for (int k = 0; k < kThreads * kPerThread; k++) {
    ASSERT_NE(slots[k], kNoOwner) << k;
    EXPECT_TRUE(seen.insert(slots[k]).second) << "slot " << slots[k];
    EXPECT_EQ(InterpreterRegistry::Info(slots[k]).id, 5000 + k);
  }
}

struct SubinterpreterResult {
  bool created = false;
  OwnerSlot slot = kNoOwner;
  OwnerSlot slot_again = kNoOwner;
  OwnerSlot slot_of = kNoOwner;
  OwnerSlot after_end = kMainSlot;
  int64_t id = -1;
  PyInterpreterState* interp = nullptr;
};

// Creates an own-GIL interpreter on the calling thread, records what the
// registry says about it, waits at `barrier` (so that all are alive at
// once), then ends it the way the runner does.
void RunSubinterpreter(Barrier* barrier, SubinterpreterResult* out) {
  PyThreadState* tstate = testing::NewOwnGilInterpreter();
  out->created = tstate != nullptr;
  if (tstate != nullptr) {
    out->interp = PyThreadState_GetInterpreter(tstate);
    out->id = PyInterpreterState_GetID(out->interp);
    out->slot = InterpreterRegistry::CurrentSlot();
    // Some real work in the interpreter between the two lookups.
    testing::RunPython("x = [str(i) for i in range(1000)]");
    out->slot_again = InterpreterRegistry::CurrentSlot();
    out->slot_of = InterpreterRegistry::SlotOf(out->interp);
  }
  if (barrier != nullptr) barrier->ArriveAndWait();
  if (tstate != nullptr) {
    Py_EndInterpreter(tstate);
    out->after_end = InterpreterRegistry::CurrentSlot();
    InterpreterRegistry::Retire(out->slot);
  }
}

// CPython starts on first use, after the tests above (gtest runs tests in
// declaration order), and is finalized when the program ends.
void EnsurePython() {
  if (!Py_IsInitialized()) testing::InitializePythonForTest();
}

class FinalizePythonAtExit : public ::testing::Environment {
 public:
  void TearDown() override {
    if (Py_IsInitialized()) EXPECT_EQ(testing::FinalizePythonForTest(), 0);
  }
};
::testing::Environment* const finalize_python_env =
    ::testing::AddGlobalTestEnvironment(new FinalizePythonAtExit);

// The inline owner test on every free and deallocation: true only for the
// slot of the thread's own, live interpreter; a slot that held the same
// address but was retired never matches (a new interpreter is often
// allocated where an ended one was).
TEST(InterpreterRegistryTest, OwnerIsCurrentFastMatchesOnlyTheLiveOwner) {
  EnsurePython();
  OwnerSlot main = InterpreterRegistry::CurrentSlot();
  ASSERT_EQ(main, kMainSlot);
  if (CurrentThreadState::fast_path_enabled()) {
    EXPECT_TRUE(InterpreterRegistry::OwnerIsCurrentFast(main));
  }
  PyInterpreterState* here = PyThreadState_GetInterpreter(PyThreadState_Get());
  int fake_interp = 0;
  OwnerSlot other = InterpreterRegistry::RegisterForTesting(
      reinterpret_cast<PyInterpreterState*>(&fake_interp), 9001);
  EXPECT_FALSE(InterpreterRegistry::OwnerIsCurrentFast(other));
  OwnerSlot ghost = InterpreterRegistry::RegisterForTesting(here, 9002);
  if (CurrentThreadState::fast_path_enabled()) {
    EXPECT_TRUE(InterpreterRegistry::OwnerIsCurrentFast(ghost));
  }
  InterpreterRegistry::Retire(ghost);
  EXPECT_FALSE(InterpreterRegistry::OwnerIsCurrentFast(ghost));
  InterpreterRegistry::Retire(other);
  // The main slot is untouched by both.
  EXPECT_EQ(InterpreterRegistry::CurrentSlot(), kMainSlot);
}

TEST(InterpreterRegistryTest, MainInterpreterHasTheReservedMainSlot) {
  int slots_before = InterpreterRegistry::SlotCount();
  EnsurePython();
  EXPECT_EQ(InterpreterRegistry::CurrentSlot(), kMainSlot);
  EXPECT_EQ(InterpreterRegistry::SlotOf(PyInterpreterState_Main()), kMainSlot);
  EXPECT_EQ(InterpreterRegistry::Info(kMainSlot).id,
            PyInterpreterState_GetID(PyInterpreterState_Main()));
  EXPECT_FALSE(InterpreterRegistry::Info(kMainSlot).ended);
  // Slot 1 was reserved: registering main took no new slot, although the
  // tests above registered hundreds of fake interpreters first.
  EXPECT_EQ(InterpreterRegistry::SlotCount(), slots_before);

  // A thread with no thread state has no owner while Python runs.
  OwnerSlot bare_thread_slot = kMainSlot;
  std::thread([&] {
    bare_thread_slot = InterpreterRegistry::CurrentSlot();
  }).join();
  EXPECT_EQ(bare_thread_slot, kNoOwner);
}

TEST(InterpreterRegistryTest, OwnGilSubinterpretersGetTheirOwnSlots) {
  EnsurePython();
  int slots_before = InterpreterRegistry::SlotCount();
  PyThreadState* main_tstate = PyEval_SaveThread();

  // Two own-GIL interpreters alive at once, on two threads.
  SubinterpreterResult a, b;
  Barrier barrier(2);
  std::thread ta(RunSubinterpreter, &barrier, &a);
  std::thread tb(RunSubinterpreter, &barrier, &b);
  ta.join();
  tb.join();

  // Then two in a row on one thread, retired in between as the runner
  // does: the second may be allocated at the first one's address, which
  // the thread's cache must not confuse.
  SubinterpreterResult c, d;
  std::thread tc([&] {
    RunSubinterpreter(nullptr, &c);
    RunSubinterpreter(nullptr, &d);
  });
  tc.join();

  PyEval_RestoreThread(main_tstate);
  EXPECT_EQ(InterpreterRegistry::CurrentSlot(), kMainSlot);

  for (SubinterpreterResult* r : {&a, &b, &c, &d}) {
    ASSERT_TRUE(r->created);
    EXPECT_NE(r->slot, kNoOwner);
    EXPECT_NE(r->slot, kMainSlot);
    EXPECT_EQ(r->slot_again, r->slot);
    EXPECT_EQ(r->slot_of, r->slot);
    EXPECT_EQ(r->after_end, kNoOwner);
    InterpreterInfo info = InterpreterRegistry::Info(r->slot);
    EXPECT_EQ(info.id, r->id);
    EXPECT_NE(info.id, 0);  // not the main interpreter's id
    EXPECT_TRUE(info.ended);
  }
  std::set<OwnerSlot> slots = {a.slot, b.slot, c.slot, d.slot};
  EXPECT_EQ(slots.size(), 4u);
  std::set<int64_t> ids = {a.id, b.id, c.id, d.id};
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_GT(d.slot, c.slot);
  EXPECT_EQ(InterpreterRegistry::SlotCount(), slots_before + 4);
  ::testing::Test::RecordProperty("sequential_interpreters_same_address",
                                  c.interp == d.interp ? "yes" : "no");
}

// Interpreters the program creates and ends itself (`interpsan exec`, or
// a program using _interpreters): nobody calls Retire, which only
// interpsan's runner does for the interpreters it created. glibc usually
// places the next PyInterpreterState where the ended one was; it must
// still get its own slot and be named by its own id.
TEST(InterpreterRegistryTest, InterpretersEndedWithoutRetireDoNotShareASlot) {
  EnsurePython();
  PyThreadState* main_tstate = PyEval_SaveThread();
  std::vector<SubinterpreterResult> runs(8);
  std::thread([&runs] {
    for (SubinterpreterResult& r : runs) {
      PyThreadState* tstate = testing::NewOwnGilInterpreter();
      r.created = tstate != nullptr;
      if (tstate == nullptr) return;
      r.interp = PyThreadState_GetInterpreter(tstate);
      r.id = PyInterpreterState_GetID(r.interp);
      r.slot = InterpreterRegistry::CurrentSlot();
      Py_EndInterpreter(tstate);
    }
  }).join();
  PyEval_RestoreThread(main_tstate);

  std::set<OwnerSlot> slots;
  int reused_addresses = 0;
  for (size_t i = 0; i < runs.size(); i++) {
    const SubinterpreterResult& r = runs[i];
    ASSERT_TRUE(r.created) << i;
    if (i > 0 && r.interp == runs[i - 1].interp) reused_addresses++;
    slots.insert(r.slot);
    EXPECT_EQ(InterpreterRegistry::Info(r.slot).id, r.id)
        << "interpreter " << r.id << " (#" << i << ", at " << r.interp
        << ") is named by slot " << r.slot << ", which belongs to interpreter "
        << InterpreterRegistry::Info(r.slot).id;
  }
  EXPECT_EQ(slots.size(), runs.size())
      << reused_addresses << " of " << runs.size() - 1
      << " interpreters were allocated at their predecessor's address";
  ::testing::Test::RecordProperty("reused_addresses", reused_addresses);
}

// An embedder that finalizes and initializes again (pybind11's embedding
// tests): the new runtime's main interpreter takes slot 1 again, not ended,
// so what the previous runtime left behind is its own, not an ended
// interpreter's.
TEST(InterpreterRegistryTest, ReinitializedMainInterpreterKeepsTheMainSlot) {
  EnsurePython();
  ASSERT_EQ(InterpreterRegistry::CurrentSlot(), kMainSlot);
  int64_t first_id = InterpreterRegistry::Info(kMainSlot).id;
  int slots_before = InterpreterRegistry::SlotCount();
  ASSERT_EQ(testing::FinalizePythonForTest(), 0);
  // The PyInterpreterState_Delete hook retired it.
  EXPECT_TRUE(InterpreterRegistry::Info(kMainSlot).ended);

  testing::InitializePythonForTest();
  EXPECT_EQ(InterpreterRegistry::CurrentSlot(), kMainSlot);
  InterpreterInfo info = InterpreterRegistry::Info(kMainSlot);
  EXPECT_FALSE(info.ended);
  EXPECT_EQ(info.id, first_id);  // CPython numbers the new main 0 again
  EXPECT_EQ(InterpreterRegistry::SlotCount(), slots_before);
  EXPECT_TRUE(testing::RunPython("x = [str(i) for i in range(100)]"));
}

}  // namespace
}  // namespace interpsan
