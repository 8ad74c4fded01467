#include "runtime/interpreter_registry.h"

#include <Python.h>

#include <cstddef>
#include <mutex>

#include "runtime/current_thread_state.h"
#include "runtime/python_shim.h"

namespace interpsan {
namespace {

// The slot's interpreter pointer lives in InterpreterRegistry::slot_interp_
// (read inline by OwnerIsCurrentFast).
struct Slot {
  std::atomic<int64_t> id{-1};
  std::atomic<int> index{-1};
  std::atomic<bool> own_gil{false};
  std::atomic<bool> ended{false};
};

Slot g_slots[kMaxSlots];
std::atomic<int> g_next_slot{kMainSlot + 1};

std::mutex g_register_mu;
std::atomic<InterpreterRegistry::NewInterpreterListener> g_new_listener{
    nullptr};

// Checked once: the inline tstate->interp read in the header relies on it.
static_assert(offsetof(PyThreadState, interp) == 2 * sizeof(void*),
              "PyThreadState layout changed: update InterpreterOf");

int64_t ReadId(PyInterpreterState* interp) {
  // PyInterpreterState_GetID only reads interp->id (and raises on NULL,
  // which cannot happen here).
  return PyInterpreterState_GetID(interp);
}

}  // namespace

std::atomic<uint32_t> InterpreterRegistry::epoch_{1};
std::atomic<PyInterpreterState*> InterpreterRegistry::slot_interp_[kMaxSlots];

OwnerSlot InterpreterRegistry::FindLocked(PyInterpreterState* interp) {
  int n = g_next_slot.load(std::memory_order_relaxed);
  for (int i = kMainSlot; i < n; i++) {
    if (slot_interp_[i].load(std::memory_order_relaxed) == interp) {
      return static_cast<OwnerSlot>(i);
    }
  }
  return kNoOwner;
}

OwnerSlot InterpreterRegistry::SlowCurrentSlot(PyInterpreterState* interp) {
  if (!CurrentThreadState::fast_path_enabled()) {
    CurrentThreadState::Discover(interpsan_shim_current_tstate());
  }
  uint32_t epoch = epoch_.load(std::memory_order_acquire);
  OwnerSlot slot = SlotOf(interp);
  t_cache_.interp = interp;
  t_cache_.epoch = epoch;
  t_cache_.slot = slot;
  return slot;
}

OwnerSlot InterpreterRegistry::SlotOf(PyInterpreterState* interp) {
  if (interp == nullptr) {
    return kNoOwner;
  }
  std::lock_guard<std::mutex> lock(g_register_mu);
  OwnerSlot found = FindLocked(interp);
  if (found != kNoOwner) {
    return found;
  }
  int slot;
  if (interp == PyInterpreterState_Main() &&
      slot_interp_[kMainSlot].load() == nullptr) {
    // The main interpreter, or the main interpreter of a runtime
    // initialised again after Py_Finalize: it keeps slot 1. What the
    // previous runtime left behind (blocks in the main interpreter's arenas,
    // objects that survived finalization) was never another interpreter's,
    // and the new main interpreter uses the same allocator state for it.
    slot = kMainSlot;
    g_slots[kMainSlot].ended.store(false, std::memory_order_relaxed);
  } else {
    slot = g_next_slot.load(std::memory_order_relaxed);
    if (slot >= kMaxSlots) {
      return kNoOwner;  // out of slots: stop attributing rather than guess
    }
    g_next_slot.store(slot + 1, std::memory_order_release);
  }
  g_slots[slot].id.store(ReadId(interp), std::memory_order_relaxed);
  slot_interp_[slot].store(interp, std::memory_order_release);
  if (NewInterpreterListener listener = g_new_listener.load()) {
    listener(static_cast<OwnerSlot>(slot), slot == kMainSlot);
  }
  return static_cast<OwnerSlot>(slot);
}

void InterpreterRegistry::SetNewInterpreterListener(
    NewInterpreterListener listener) {
  g_new_listener.store(listener);
}

OwnerSlot InterpreterRegistry::FindSlot(PyInterpreterState* interp) {
  if (interp == nullptr) return kNoOwner;
  std::lock_guard<std::mutex> lock(g_register_mu);
  return FindLocked(interp);
}

void InterpreterRegistry::SetIndex(OwnerSlot slot, int index, bool own_gil) {
  if (slot == kNoOwner) return;
  g_slots[slot].index.store(index, std::memory_order_relaxed);
  g_slots[slot].own_gil.store(own_gil, std::memory_order_relaxed);
  if (PyInterpreterState* interp = slot_interp_[slot].load()) {
    g_slots[slot].id.store(ReadId(interp), std::memory_order_relaxed);
  }
}

void InterpreterRegistry::Retire(OwnerSlot slot) {
  if (slot == kNoOwner) return;
  std::lock_guard<std::mutex> lock(g_register_mu);
  g_slots[slot].ended.store(true, std::memory_order_relaxed);
  slot_interp_[slot].store(nullptr, std::memory_order_release);
  epoch_.fetch_add(1, std::memory_order_acq_rel);
}

InterpreterInfo InterpreterRegistry::Info(OwnerSlot slot) {
  InterpreterInfo info{-1, -1, false, false};
  if (slot == kNoOwner) return info;
  info.id = g_slots[slot].id.load(std::memory_order_relaxed);
  info.index = g_slots[slot].index.load(std::memory_order_relaxed);
  info.own_gil = g_slots[slot].own_gil.load(std::memory_order_relaxed);
  info.ended = g_slots[slot].ended.load(std::memory_order_relaxed);
  return info;
}

int InterpreterRegistry::IndexOfId(int64_t id) {
  int n = g_next_slot.load(std::memory_order_relaxed);
  for (int i = kMainSlot; i < n && i < kMaxSlots; i++) {
    if (g_slots[i].id.load(std::memory_order_relaxed) == id) {
      return g_slots[i].index.load(std::memory_order_relaxed);
    }
  }
  return -1;
}

int InterpreterRegistry::SlotCount() {
  return g_next_slot.load(std::memory_order_relaxed);
}

OwnerSlot InterpreterRegistry::RegisterForTesting(PyInterpreterState* fake,
                                                  int64_t id) {
  std::lock_guard<std::mutex> lock(g_register_mu);
  int slot = g_next_slot.fetch_add(1);
  g_slots[slot].id.store(id);
  slot_interp_[slot].store(fake);
  return static_cast<OwnerSlot>(slot);
}

}  // namespace interpsan
