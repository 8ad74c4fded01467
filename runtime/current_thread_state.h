// current_thread_state.h: the calling thread's PyThreadState, fast.
//
// Every allocation asks "which interpreter is this thread in?". CPython
// keeps the answer in libpython's thread-local `_Py_tss_tstate`, which only
// libpython's own code can address directly; from outside, each read is a
// call through the PLT plus a general-dynamic TLS lookup (__tls_get_addr),
// about a third of interpsan's checking cost on an allocation-heavy load.
//
// When libpython's TLS lives in the static TLS area (it does whenever
// libpython is loaded at start-up, as a DT_NEEDED of python or of the
// runner), the variable sits at a fixed offset from the thread pointer in
// every thread. Discover() finds that offset once, by locating the slot of
// libpython's TLS block that holds the current thread state, and Get()
// then costs one %fs-relative load. Every thread checks the fast read
// against CPython's own accessor the first time it sees a thread state; a
// single mismatch switches the fast path off for good.
//
// Thread safety: Get() is lock-free; Discover() runs on a slow path.
#ifndef INTERPSAN_RUNTIME_CURRENT_THREAD_STATE_H_
#define INTERPSAN_RUNTIME_CURRENT_THREAD_STATE_H_

#include <atomic>
#include <cstdint>

#include "runtime/python_shim.h"

namespace interpsan {

class CurrentThreadState {
 public:
  static inline PyThreadState* Get() {
    intptr_t offset = offset_.load(std::memory_order_relaxed);
    if (__builtin_expect(offset != 0, 1)) {
      PyThreadState* fast =
          *reinterpret_cast<PyThreadState* const*>(ThreadPointer() + offset);
      if (__builtin_expect(t_verified_, 1) || fast == nullptr) return fast;
      return Verify(fast);
    }
    return interpsan_shim_current_tstate();
  }

  // Finds the offset, given that the calling thread's state is `tstate`
  // (non-null). Returns true if the fast path is now on.
  static bool Discover(PyThreadState* tstate);

  static bool fast_path_enabled() { return offset_.load() != 0; }
  // For tests and benchmarks: force the portable path.
  static void DisableFastPath() { offset_.store(0); }

 private:
  static inline uintptr_t ThreadPointer() {
#if defined(__x86_64__)
    uintptr_t tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return tp;
#else
    return reinterpret_cast<uintptr_t>(__builtin_thread_pointer());
#endif
  }
  static PyThreadState* Verify(PyThreadState* fast);

  static std::atomic<intptr_t> offset_;
  static thread_local bool t_verified_;
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_CURRENT_THREAD_STATE_H_
