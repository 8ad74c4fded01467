// alloc_swap_widener.so: an LD_PRELOAD library for one test
// (test_hard_crashes.AllocatorSwapRaceTest). It makes a rare race
// deterministic; it changes nothing else.
//
// CPython 3.12 briefly installs its default RAW allocator, process-wide,
// while it creates a subinterpreter (_Py_ClearStandardStreamEncoding in
// init_sys_streams calls _PyMem_SetDefaultAllocator(PYMEM_DOMAIN_RAW, &old)
// ... PyMem_SetAllocator(PYMEM_DOMAIN_RAW, &old)), on the thread creating
// it. Any other thread that allocates or frees a RAW block in that window
// uses the default allocator instead of the installed one. This library
// interposes _PyMem_SetDefaultAllocator (libpython exports it and calls it
// through the PLT) and sleeps 20 ms inside that window whenever it is
// opened off the main thread. 3.13 opens no such window off the main
// thread, so there the library has no effect.
//
// The runner defines _PyMem_SetDefaultAllocator itself
// (runtime/allocator_swap_guard.cc, so that the window never opens); an
// executable comes before LD_PRELOAD libraries in symbol lookup, so while
// that guard exists this definition is never called. Remove the guard and
// this one widens the window: the test then crashes every time on 3.12.
#define _GNU_SOURCE
#include <Python.h>
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>

static pthread_t main_thread;

__attribute__((constructor)) static void remember_main_thread(void) {
  main_thread = pthread_self();
}

int _PyMem_SetDefaultAllocator(PyMemAllocatorDomain domain,
                               PyMemAllocatorEx* old) {
  static int (*real)(PyMemAllocatorDomain, PyMemAllocatorEx*);
  if (real == NULL) {
    real = (int (*)(PyMemAllocatorDomain, PyMemAllocatorEx*))dlsym(
        RTLD_NEXT, "_PyMem_SetDefaultAllocator");
  }
  int result = real(domain, old);
  if (domain == PYMEM_DOMAIN_RAW &&
      !pthread_equal(pthread_self(), main_thread)) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return result;
}
