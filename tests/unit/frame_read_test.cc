// TraceCurrent's inline read of the innermost frames (tracemalloc/
// frame_layout.h offsets) against the shim's walk, on live Python stacks
// (plain calls, recursion, generators, coroutines, comprehensions, class
// bodies, exec'd module code, 1 and 2 frames), and the traces it interns:
// the same line gives the same trace, another line or depth another, and
// the trace's frame names the line Python itself reports.
#include <Python.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "tests/unit/python_test_env.h"
#include "tracemalloc/traceback_table.h"

namespace interpsan {
namespace {

std::atomic<int> g_compared{0};
std::atomic<int> g_mismatches{0};

// compare(nframes): both reads of the caller's stack must agree.
PyObject* Compare(PyObject*, PyObject* arg) {
  int nframes = static_cast<int>(PyLong_AsLong(arg));
  void* codes[2] = {};
  int instrs[2] = {};
  int depth = -1;
  int n =
      TracebackTable::InlinePositionsForTest(nframes, codes, instrs, &depth);
  void* shim_codes[2] = {};
  int shim_instrs[2] = {};
  int shim_depth = -1;
  int shim_n = TracebackTable::ShimPositionsForTest(nframes, shim_codes,
                                                    shim_instrs, &shim_depth);
  bool same = n == shim_n && depth == shim_depth;
  for (int i = 0; same && i < n; i++) {
    same = codes[i] == shim_codes[i] && instrs[i] == shim_instrs[i];
  }
  g_compared++;
  if (!same) {
    g_mismatches++;
    ADD_FAILURE() << "inline n=" << n << " depth=" << depth
                  << " shim n=" << shim_n << " depth=" << shim_depth;
  }
  Py_RETURN_NONE;
}

// The slot trace() interns for (one per thread in the concurrent test).
thread_local OwnerSlot t_slot = 5;

// trace(): (trace id, line of its innermost frame) for the caller, 1 frame.
PyObject* Trace(PyObject*, PyObject*) {
  TraceId id = TracebackTable::TraceCurrent(Domain::kObj, t_slot, 0, 1);
  TraceRecord r;
  if (id == 0 || !TracebackTable::Get(id, &r) || r.nframes != 1) {
    PyErr_SetString(PyExc_AssertionError, "no trace");
    return nullptr;
  }
  return Py_BuildValue("(ii)", static_cast<int>(id),
                       TracebackTable::Frame(r.frames[0]).lineno);
}

PyMethodDef g_methods[] = {
    {"compare", &Compare, METH_O, nullptr},
    {"trace", &Trace, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

// compare() and trace() as globals of the current interpreter's __main__.
bool AddFunctions() {
  PyObject* main = PyImport_AddModule("__main__");
  for (PyMethodDef* m = g_methods; m->ml_name != nullptr; m++) {
    PyObject* f = PyCFunction_New(m, nullptr);
    if (f == nullptr || PyObject_SetAttrString(main, m->ml_name, f) != 0) {
      Py_XDECREF(f);
      return false;
    }
    Py_DECREF(f);
  }
  return true;
}

class FrameReadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::InitializePythonForTest();
    ASSERT_TRUE(AddFunctions());
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(testing::FinalizePythonForTest(), 0);
  }
};

TEST_F(FrameReadTest, InlineReadAgreesWithTheShimWalk) {
  ASSERT_TRUE(testing::RunPython(R"(
import asyncio

def both():
    compare(1)
    compare(2)

def recurse(k):
    if k == 0:
        both()
    else:
        recurse(k - 1)

def gen():
    both()
    yield 1
    both()

async def coro():
    both()
    await asyncio.sleep(0)
    both()

def closure():
    cell = 1
    def inner():
        both()
        return cell
    return inner()

class Body:
    both()

both()
recurse(30)
list(gen())
asyncio.run(coro())
closure()
[both() for _ in range(2)]
exec("both()\ncompare(1)\ncompare(2)\n")
compare(1)
compare(2)
)"));
  EXPECT_EQ(g_compared, 26);  // every call above, 1 and 2 frames
  EXPECT_EQ(g_mismatches, 0);
}

TEST_F(FrameReadTest, TracesFollowLineAndDepth) {
  ASSERT_TRUE(testing::RunPython(R"(
import sys

def here():
    return trace()

def at_depth(k):
    return here() if k == 0 else at_depth(k - 1)

a1, line_a1 = trace(); a2, line_a2 = trace()
b, line_b = trace()
assert a1 == a2 and line_a1 == line_a2, (a1, a2)
assert b != a1 and line_b == line_a1 + 1, (b, a1, line_b, line_a1)
# the line is the one Python reports (the line cursor, not a fresh walk)
def where():
    t, line = trace(); return line, sys._getframe().f_lineno
for _ in range(3):
    got, want = where()
    assert got == want, (got, want)
# one position at two depths: two traces
assert at_depth(1)[0] != at_depth(5)[0]
assert at_depth(5)[0] == at_depth(5)[0]
)"));
}

// Four own-GIL interpreters on four threads reading frames and interning
// at once (run under ThreadSanitizer by tests/sanitizers/run_sanitizers.sh):
// each thread's traces are its own slot's, and its lines are right.
TEST_F(FrameReadTest, ConcurrentInterpretersTraceTheirOwnStacks) {
  constexpr int kThreads = 4;
  std::vector<std::set<TraceId>> ids(kThreads);
  bool ok[kThreads] = {};
  PyThreadState* main_tstate = PyEval_SaveThread();
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; i++) {
    threads.emplace_back([i, &ids, &ok] {
      t_slot = static_cast<OwnerSlot>(40 + i);
      PyThreadState* tstate = testing::NewOwnGilInterpreter();
      if (tstate == nullptr) return;
      ok[i] = AddFunctions() && testing::RunPython(R"(
import sys
seen = set()
for k in range(2000):
    t, line = trace(); here = sys._getframe().f_lineno
    assert line == here, (line, here)
    seen.add(t)
    compare(1)
)");
      PyObject* seen = PyDict_GetItemString(
          PyModule_GetDict(PyImport_AddModule("__main__")), "seen");
      if (seen != nullptr) {
        PyObject* iter = PyObject_GetIter(seen);
        for (PyObject* item; iter && (item = PyIter_Next(iter));) {
          ids[i].insert(static_cast<TraceId>(PyLong_AsLong(item)));
          Py_DECREF(item);
        }
        Py_XDECREF(iter);
      }
      Py_EndInterpreter(tstate);
    });
  }
  for (std::thread& t : threads) t.join();
  PyEval_RestoreThread(main_tstate);
  for (int i = 0; i < kThreads; i++) {
    EXPECT_TRUE(ok[i]) << i;
    ASSERT_EQ(ids[i].size(), 1u) << i;  // one line, one depth: one trace
    TraceRecord r;
    ASSERT_TRUE(TracebackTable::Get(*ids[i].begin(), &r));
    EXPECT_EQ(r.slot, 40 + i);
  }
  EXPECT_EQ(g_mismatches, 0);
}

}  // namespace
}  // namespace interpsan
