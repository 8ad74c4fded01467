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
// libpython's TLS block that holds the current thread state. Every thread
// checks the fast read against CPython's own accessor the first time it
// sees a thread state, and from then on uses its own verified copy of the
// offset: Get() is then one thread-local load and one %fs-relative load. A
// single mismatch switches the fast path off for threads not yet verified.
//
// Thread safety: Get() is lock-free; Discover() runs on a slow path.
// Async-signal-safe: Get() on a verified thread (two loads); otherwise it
// may call CPython's accessor, which only reads TLS.
#ifndef INTERPSAN_RUNTIME_CURRENT_THREAD_STATE_H_
#define INTERPSAN_RUNTIME_CURRENT_THREAD_STATE_H_

#include <atomic>
#include <cstdint>

#include "runtime/python_shim.h"

namespace interpsan {

class CurrentThreadState {
 public:
  static inline PyThreadState* Get() {
    // Inline thread_locals with constant initializers: no TLS wrapper call.
    intptr_t offset = t_offset_;
    if (__builtin_expect(offset != 0, 1)) {
      return *reinterpret_cast<PyThreadState* const*>(ThreadPointer() + offset);
    }
    return SlowGet();
  }

  // Get() without its slow path: false if this thread has not verified
  // the offset yet (the caller then takes a slow path of its own, so that
  // its fast path needs no stack frame).
  static inline bool TryGetFast(PyThreadState** out) {
    intptr_t offset = t_offset_;
    if (__builtin_expect(offset == 0, 0)) return false;
    *out = *reinterpret_cast<PyThreadState* const*>(ThreadPointer() + offset);
    return true;
  }

  // Finds the offset, given that the calling thread's state is `tstate`
  // (non-null). Returns true if the fast path is now on.
  static bool Discover(PyThreadState* tstate);

  static bool fast_path_enabled() { return offset_.load() != 0; }
  // For tests and benchmarks: force the portable path.
  // Threads that verified the offset already keep it.
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
  // A thread that has not verified the offset yet (or has no thread state).
  static PyThreadState* SlowGet();

  static std::atomic<intptr_t> offset_;
  // This thread's copy of offset_, set once a read through it matched
  // CPython's accessor; 0 until then.
  static inline thread_local intptr_t t_offset_ = 0;
};

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_CURRENT_THREAD_STATE_H_
