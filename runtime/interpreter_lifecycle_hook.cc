#include "runtime/interpreter_lifecycle_hook.h"

#include <Python.h>
#include <dlfcn.h>

#include <atomic>

#include "runtime/interpreter_registry.h"

namespace {

using DeleteFn = void (*)(PyInterpreterState*);
DeleteFn g_real_delete = nullptr;

constexpr int kMaxListeners = 4;
std::atomic<interpsan::InterpreterEndListener> g_listeners[kMaxListeners];

}  // namespace

extern "C" __attribute__((visibility("default"))) void PyInterpreterState_Delete(
    PyInterpreterState* interp) {
  using interpsan::InterpreterRegistry;
  if (g_real_delete == nullptr) interpsan::InitInterpreterLifecycleHook();
  interpsan::OwnerSlot slot = InterpreterRegistry::FindSlot(interp);
  g_real_delete(interp);
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
  if (g_real_delete != nullptr) return true;
  g_real_delete = reinterpret_cast<DeleteFn>(
      dlsym(RTLD_NEXT, "PyInterpreterState_Delete"));
  return g_real_delete != nullptr;
}

}  // namespace interpsan
