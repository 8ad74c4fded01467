#include "runtime/interpreter_lifecycle_hook.h"

#include <Python.h>

#include <atomic>

#include "runtime/interpreter_registry.h"
#include "runtime/symbol_interposition.h"

namespace {

using DeleteFn = void (*)(PyInterpreterState*);
// Resolved once; atomic because any thread may be the first to need it.
std::atomic<DeleteFn> g_real_delete{nullptr};

constexpr int kMaxListeners = 4;
std::atomic<interpsan::InterpreterEndListener> g_listeners[kMaxListeners];

}  // namespace

extern "C" __attribute__((visibility("default"))) void
PyInterpreterState_Delete(PyInterpreterState* interp) {
  using interpsan::InterpreterRegistry;
  if (g_real_delete.load(std::memory_order_acquire) == nullptr) {
    interpsan::InitInterpreterLifecycleHook();
  }
  interpsan::OwnerSlot slot = InterpreterRegistry::FindSlot(interp);
  g_real_delete.load(std::memory_order_acquire)(interp);
  if (slot == interpsan::kNoOwner) return;
  InterpreterRegistry::Retire(slot);
  for (auto& listener : g_listeners) {
    interpsan::InterpreterEndListener fn = listener.load();
    if (fn != nullptr) fn(slot);
  }
}

namespace interpsan {

void AddInterpreterEndListener(InterpreterEndListener listener) {
  for (auto& slot : g_listeners) {
    InterpreterEndListener expected = nullptr;
    if (slot.compare_exchange_strong(expected, listener)) return;
  }
}

bool InitInterpreterLifecycleHook() {
  return ResolveNext(&g_real_delete, "PyInterpreterState_Delete");
}

}  // namespace interpsan
