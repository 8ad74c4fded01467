#include "runtime/dealloc_hook.h"

#include <Python.h>

#include <atomic>

#include "runtime/allocation_tracer.h"
#include "runtime/anomaly.h"
#include "runtime/arena_map.h"
#include "runtime/interpreter_registry.h"
#include "runtime/object_owner.h"
#include "runtime/symbol_interposition.h"

namespace {

using DeallocFn = void (*)(PyObject*);
// Resolved once (InitDeallocHook, before any interpreter); atomic because
// a process without the runner's set-up resolves it on first use.
std::atomic<DeallocFn> g_real_dealloc{nullptr};

}  // namespace

namespace {

// Reports a cross-interpreter deallocation (out of line: the hook's fast
// path stays frameless). Returns true if tp_dealloc must not run.
__attribute__((noinline, cold)) bool ReportCrossDealloc(
    PyObject* op, interpsan::OwnerSlot owner, interpsan::OwnerSlot current) {
  using namespace interpsan;
  BlockAnomaly a{};
  a.kind = AnomalyKind::kCrossInterpreterDealloc;
  a.call_domain = Domain::kObj;
  a.block_domain = Domain::kObj;
  a.block = op;
  a.owner = owner;
  a.current = current;
  a.object = op;
  if (HandleAnomaly(a) != Resolution::kLeak) return false;
  // Running tp_dealloc here would put the object on this interpreter's
  // freelists or hand its memory to this interpreter's pymalloc. Keep it,
  // frozen.
  MakeImmortal(op);
  return true;
}

}  // namespace

namespace {

// _Py_Dealloc before InitDeallocHook ran (a process without the runner's
// set-up): resolve CPython's, then call it.
__attribute__((noinline)) void DeallocUnresolved(PyObject* op) {
  interpsan::InitDeallocHook();
  g_real_dealloc.load(std::memory_order_acquire)(op);
}

// What every deallocation does after the check: a dying code object
// invalidates tracemalloc's caches keyed by code addresses (the address may
// soon hold another code object); then CPython's own _Py_Dealloc.
inline void FinishDealloc(PyObject* op) {
  if (__builtin_expect(Py_TYPE(op) == &PyCode_Type, 0)) {
    interpsan::g_code_epoch.fetch_add(1, std::memory_order_release);
  }
  DeallocFn real = g_real_dealloc.load(std::memory_order_relaxed);
  if (__builtin_expect(real == nullptr, 0)) return DeallocUnresolved(op);
  real(op);
}

// The whole check, for what the fast path in _Py_Dealloc does not clear:
// objects outside the arenas, a thread whose interpreter is not in its
// memo yet, and a cross-interpreter deallocation.
__attribute__((noinline)) void CheckedDeallocSlow(PyObject* op) {
  using namespace interpsan;
  OwnerSlot owner = OwnerOfObject(op);
  if (owner != kNoOwner) {
    OwnerSlot current = InterpreterRegistry::CurrentSlot();
    if (current != kNoOwner && current != owner &&
        ReportCrossDealloc(op, owner, current)) {
      return;
    }
  }
  FinishDealloc(op);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) void _Py_Dealloc(
    PyObject* op) {
  using namespace interpsan;
  if ((g_enabled_checks & kCheckDealloc) && !ReentryGuard::active &&
      !_Py_IsImmortal(op)) {
    // Most objects live in a pymalloc arena: one table load, and the
    // thread's memo of its interpreter. Anything else takes the slow path
    // (a tail call: this path needs no stack frame). The table exists:
    // g_enabled_checks is only ever set by AllocatorHooks::Install, which
    // requires it.
    OwnerSlot owner = ArenaMap::LookupMapped(op);
    if (__builtin_expect(owner == kNoOwner ||
                             !InterpreterRegistry::OwnerIsCurrentFast(owner),
                         0)) {
      return CheckedDeallocSlow(op);
    }
  }
  FinishDealloc(op);
}

namespace interpsan {

bool InitDeallocHook() { return ResolveNext(&g_real_dealloc, "_Py_Dealloc"); }

bool DeallocHookActive() {
  return ProcessBindsTo("_Py_Dealloc", reinterpret_cast<void*>(&_Py_Dealloc)) &&
         g_real_dealloc.load() != nullptr;
}

}  // namespace interpsan
