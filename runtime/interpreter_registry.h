// interpreter_registry.h: every interpreter the process has had, by slot.
//
// A slot is a small number (1..65535) stored in each owner record instead of
// a PyInterpreterState*: it fits in 16 bits and is never reused, so an
// interpreter that has ended is still named correctly in a late report.
//
// CurrentSlot() is on every allocation's path. It costs one call to read the
// thread state plus a compare against a thread-local cache; a miss (the
// thread switched interpreter, or one ended) takes the slow path, which
// registers interpreters on first sight. No lock on the fast path.
//
// Thread safety: all functions are thread-safe. Registration and Retire take
// a mutex (rare: once per interpreter). Lookups never lock.
#ifndef INTERPSAN_RUNTIME_INTERPRETER_REGISTRY_H_
#define INTERPSAN_RUNTIME_INTERPRETER_REGISTRY_H_

#include <atomic>
#include <cstdint>

#include "runtime/current_thread_state.h"
#include "runtime/owner_record.h"

typedef struct _is PyInterpreterState;

namespace interpsan {

constexpr int kMaxSlots = 1 << 16;
// The main interpreter always has slot 1; blocks allocated before any thread
// state exists (early Py_Initialize) can only belong to it. After
// Py_Finalize and a new Py_Initialize, the new main interpreter takes slot 1
// again (its `ended` flag is cleared): the previous runtime's leftovers are
// the main interpreter's, not an ended interpreter's.
constexpr OwnerSlot kMainSlot = 1;

struct InterpreterInfo {
  int64_t id;  // PyInterpreterState_GetID, or -1 before it is known
  int index;   // place in the run (interpsan.index), -1 if not run by us
  bool own_gil;
  bool ended;
};

// InterpreterRegistry's per-thread memo of the last lookup (outside the
// class so that its inline thread_local can be constant-initialised).
struct RegistryThreadCache {
  PyInterpreterState* interp = nullptr;
  uint32_t epoch = 0;
  OwnerSlot slot = kNoOwner;
};

class InterpreterRegistry {
 public:
  // The calling thread's interpreter, kNoOwner if it has no thread state.
  // Inline: it is on every allocation's path.
  static inline OwnerSlot CurrentSlot() {
    PyThreadState* tstate = CurrentThreadState::Get();
    if (tstate == nullptr) return kNoOwner;
    PyInterpreterState* interp = InterpreterOf(tstate);
    ThreadCache& cache = t_cache_;
    if (__builtin_expect(
            interp == cache.interp &&
                cache.epoch == epoch_.load(std::memory_order_acquire),
            1)) {
      return cache.slot;
    }
    return SlowCurrentSlot(interp);
  }

  // True if the calling thread runs in the interpreter of `owner`, or has
  // no thread state (then nothing can be compared). False if it may not
  // be, including whenever the answer needs a slow path: the caller then
  // asks CurrentSlot(). Inline and frameless, for the checks on every free
  // and deallocation: the thread state, its interpreter, and the owner
  // slot's interpreter pointer (null once that interpreter has ended, so a
  // new interpreter at the same address never matches an ended one's
  // slot).
  static inline bool OwnerIsCurrentFast(OwnerSlot owner) {
    PyThreadState* tstate;
    if (!CurrentThreadState::TryGetFast(&tstate)) return false;
    if (tstate == nullptr) return true;
    return InterpreterOf(tstate) ==
           slot_interp_[owner].load(std::memory_order_relaxed);
  }

  // The slot of `interp`, registering it if new. `interp` may be null.
  static OwnerSlot SlotOf(PyInterpreterState* interp);

  // Called (under the registry's lock, from whatever hook saw it first)
  // when an interpreter is seen for the first time. For `exec` mode, where
  // the program creates its interpreters itself.
  using NewInterpreterListener = void (*)(OwnerSlot slot, bool is_main);
  static void SetNewInterpreterListener(NewInterpreterListener listener);

  // The slot of `interp` if registered, else kNoOwner (never registers).
  static OwnerSlot FindSlot(PyInterpreterState* interp);

  // Marks an interpreter's run index (called by the runner).
  static void SetIndex(OwnerSlot slot, int index, bool own_gil);

  // The interpreter has ended: its slot stays for reports, its pointer is
  // forgotten (the address may be reused by a new interpreter). Called from
  // the PyInterpreterState_Delete hook; idempotent.
  static void Retire(OwnerSlot slot);

  // A copy of what is known about `slot`.
  static InterpreterInfo Info(OwnerSlot slot);

  // The run index of the interpreter with CPython id `id`, -1 if unknown.
  // Async-signal-safe: lock-free reads only.
  static int IndexOfId(int64_t id);

  // For tests: how many slots have been handed out.
  static int SlotCount();

  // For tests: register an arbitrary pointer as an interpreter.
  static OwnerSlot RegisterForTesting(PyInterpreterState* fake, int64_t id);

 private:
  using ThreadCache = RegistryThreadCache;
  static PyInterpreterState* InterpreterOf(PyThreadState* tstate);
  static OwnerSlot SlowCurrentSlot(PyInterpreterState* interp);
  // The slot holding `interp`, or kNoOwner (under the registry's lock).
  static OwnerSlot FindLocked(PyInterpreterState* interp);

  // Each slot's interpreter, null until registered and once retired.
  static std::atomic<PyInterpreterState*> slot_interp_[kMaxSlots];

  // Bumped whenever an interpreter is retired, so thread-local caches keyed
  // by a PyInterpreterState* notice that the address may now mean someone
  // else.
  static std::atomic<uint32_t> epoch_;
  // Inline with a constant initializer: no TLS wrapper call in CurrentSlot.
  static inline thread_local ThreadCache t_cache_{};
};

// tstate->interp without including CPython's headers here: PyThreadState's
// first fields are public and stable (prev, next, interp) on 3.12 and 3.13.
inline PyInterpreterState* InterpreterRegistry::InterpreterOf(
    PyThreadState* tstate) {
  return reinterpret_cast<PyInterpreterState* const*>(tstate)[2];
}

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_INTERPRETER_REGISTRY_H_
