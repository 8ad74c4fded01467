// Stress test for interpsan's runtime under ThreadSanitizer (and
// AddressSanitizer): the full set of hooks the runner installs (allocator
// hooks, checks, _Py_Dealloc and _Py_NewReference interposition, and
// tracemalloc with 3 frames in every interpreter), four own-GIL
// subinterpreters on four threads churning through allocations at once,
// then teardown.
//
// A correct program must produce no violation, and under --config=tsan no
// data race in interpsan's code (TSan fails the test through its exit
// code). A positive control then proves the checks were live all along.
#include <Python.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "debug/checks.h"
#include "debug/report.h"
#include "runtime/allocator_hooks.h"
#include "runtime/anomaly.h"
#include "runtime/dealloc_hook.h"
#include "runtime/interpreter_registry.h"
#include "runtime/new_reference_hook.h"
#include "tests/unit/python_test_env.h"
#include "tracemalloc/tracer.h"

namespace interpsan {
namespace {

constexpr int kInterpreters = 4;

// Allocation-heavy and exercising freelists (tuples, floats, lists, dicts),
// the json C accelerator, str/bytes and large (> 512 byte) blocks.
const char kChurn[] = R"PY(
import json, time
deadline = time.monotonic() + 0.5
rounds = 0
while time.monotonic() < deadline or rounds < 3:
    doc = {str(i): [i, float(i), 'v' * (i % 50), (i, -i), {'k': i}]
           for i in range(300)}
    text = json.dumps(doc)
    back = json.loads(text)
    assert back[str(7)][0] == 7, back[str(7)]
    big = [bytes(1000 + i) for i in range(50)]
    lst = list(range(2000))
    lst.reverse()
    lst.sort()
    d = {}
    for i in range(500):
        d[i] = (i, str(i))
    for i in range(0, 500, 2):
        del d[i]
    s = ''.join(map(str, range(300)))
    del doc, text, back, big, lst, d, s
    rounds += 1
assert rounds >= 3
)PY";

class HookedPythonEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    ReportOptions options;
    options.fatal = false;  // count violations; the test asserts on them
    ConfigureReports(options);
    InstallChecks();
    ASSERT_TRUE(InitDeallocHook());
    ASSERT_TRUE(InitNewReferenceHook());
    // Tracing on: allocation, free and freelist-reuse traces on every
    // thread at once (no leak events: there is no event log here).
    Tracer::Install(/*report_leaks=*/false);
    AllocatorHooks::Install(kCheckAllBlock);
    Tracer::SetDefaultFrames(3);
    testing::InitializePythonForTest();
    ASSERT_EQ(InterpreterRegistry::CurrentSlot(), kMainSlot);
    InterpreterRegistry::SetIndex(kMainSlot, -1, true);
  }
  void TearDown() override { EXPECT_EQ(testing::FinalizePythonForTest(), 0); }
};
::testing::Environment* const hooked_python_env =
    ::testing::AddGlobalTestEnvironment(new HookedPythonEnvironment);

struct InterpreterRun {
  bool created = false;
  bool program_ok = false;
  OwnerSlot slot = kNoOwner;
};

void RunChurn(int index, std::atomic<int>* waiting, InterpreterRun* out) {
  PyThreadState* tstate = testing::NewOwnGilInterpreter();
  out->created = tstate != nullptr;
  if (tstate == nullptr) return;
  out->slot = InterpreterRegistry::CurrentSlot();
  InterpreterRegistry::SetIndex(out->slot, index, true);
  // Start the churn together, so the interpreters really overlap.
  waiting->fetch_sub(1);
  while (waiting->load() > 0) std::this_thread::yield();
  out->program_ok = testing::RunPython(kChurn);
  Py_EndInterpreter(tstate);
  InterpreterRegistry::Retire(out->slot);
}

TEST(SubinterpreterStressTest, OwnGilInterpretersChurnWithoutViolations) {
  // The dealloc checks only see CPython's own deallocations if our
  // _Py_Dealloc is the one the process binds to.
  EXPECT_TRUE(DeallocHookActive());
  EXPECT_TRUE(NewReferenceHookActive());
  ASSERT_EQ(TotalViolationCount(), 0) << "violations during Py_Initialize";

  PyThreadState* main_tstate = PyEval_SaveThread();
  std::vector<InterpreterRun> runs(kInterpreters);
  std::atomic<int> waiting{kInterpreters};
  std::vector<std::thread> threads;
  for (int i = 0; i < kInterpreters; i++) {
    threads.emplace_back(RunChurn, i, &waiting, &runs[i]);
  }
  for (std::thread& t : threads) t.join();
  PyEval_RestoreThread(main_tstate);

  for (int i = 0; i < kInterpreters; i++) {
    EXPECT_TRUE(runs[i].created) << i;
    EXPECT_TRUE(runs[i].program_ok) << i;
    EXPECT_NE(runs[i].slot, kNoOwner) << i;
    EXPECT_NE(runs[i].slot, kMainSlot) << i;
    EXPECT_TRUE(InterpreterRegistry::Info(runs[i].slot).ended) << i;
    // Traced: the churn kept well over 100 KiB alive at its peak.
    EXPECT_GT(Tracer::PeakBytes(runs[i].slot), 100 * 1024) << i;
  }
  // The main interpreter keeps working after the others ended.
  EXPECT_TRUE(testing::RunPython(kChurn));
  EXPECT_EQ(TotalViolationCount(), 0);
  EXPECT_EQ(DistinctViolationCount(), 0);
}

// Positive control, after the stress test: the same hooks report an object
// and a buffer that cross from a subinterpreter into the main interpreter.
TEST(SubinterpreterStressTest, ChecksWereLiveControl) {
  int before = TotalViolationCount();
  struct Shared {
    PyObject* object = nullptr;
    void* buffer = nullptr;
    std::mutex mu;
    std::condition_variable cv;
    int stage = 0;
  } s;
  auto advance = [&s](int stage) {
    std::lock_guard<std::mutex> lock(s.mu);
    s.stage = stage;
    s.cv.notify_all();
  };
  auto wait_for = [&s](int stage) {
    std::unique_lock<std::mutex> lock(s.mu);
    s.cv.wait(lock, [&] { return s.stage >= stage; });
  };

  PyThreadState* main_tstate = PyEval_SaveThread();
  std::thread sub([&] {
    PyThreadState* tstate = testing::NewOwnGilInterpreter();
    if (tstate != nullptr) {
      s.object = PyList_New(0);  // owned by the subinterpreter
      s.buffer = PyMem_Malloc(100);
    }
    advance(1);
    wait_for(2);
    if (tstate != nullptr) {
      // interpsan left the buffer with its owner, which can still free it.
      PyMem_Free(s.buffer);
      OwnerSlot slot = InterpreterRegistry::CurrentSlot();
      Py_EndInterpreter(tstate);
      InterpreterRegistry::Retire(slot);
    }
  });
  wait_for(1);
  PyEval_RestoreThread(main_tstate);
  ASSERT_NE(s.object, nullptr);
  Py_DECREF(s.object);   // the last reference, dropped by main
  PyMem_Free(s.buffer);  // freed by main: reported, and left to its owner
  main_tstate = PyEval_SaveThread();
  advance(2);
  sub.join();
  PyEval_RestoreThread(main_tstate);
  EXPECT_EQ(TotalViolationCount() - before, 2);
}

}  // namespace
}  // namespace interpsan
