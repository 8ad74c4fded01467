// crashers: a test extension that kills the process on purpose, one way per
// fatal signal, for the faulthandler's end-to-end death tests
// (tests/faulthandler). Correctly isolated (multi-phase init, no state,
// Py_MOD_PER_INTERPRETER_GIL_SUPPORTED), so it loads in own-GIL
// interpreters and interpsan reports nothing about it but the crash.
//
// Each crashing function is a static function whose name the tests look for
// in report.json's crash.native_stack (symbolized with addr2line), so none
// of them may be inlined into its caller or have its frame merged away.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

// A NULL write the compiler cannot prove and drop.
static int* volatile null_pointer = NULL;

// segv(): writes through a NULL pointer (SIGSEGV, SEGV_MAPERR).
static NOINLINE PyObject* segv(PyObject* module, PyObject* unused) {
  *null_pointer = 42;
  Py_RETURN_NONE;
}

// bus(): touches a page of a file mapping beyond the end of the file
// (SIGBUS, BUS_ADRERR), a real hardware-reported bus error.
static NOINLINE PyObject* bus(PyObject* module, PyObject* unused) {
  char path[] = "/tmp/interpsan-crashers-bus-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return PyErr_SetFromErrno(PyExc_OSError);
  unlink(path);
  long page = sysconf(_SC_PAGESIZE);
  // Two pages mapped, file truncated to zero: any access faults with SIGBUS.
  volatile char* p =
      mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return PyErr_SetFromErrno(PyExc_OSError);
  p[page] = 1;
  Py_RETURN_NONE;
}

static volatile int zero = 0;

// fpe(): integer division by zero (SIGFPE, FPE_INTDIV on x86-64).
static NOINLINE PyObject* fpe(PyObject* module, PyObject* unused) {
  volatile int numerator = 42;
  int result = numerator / zero;
  return PyLong_FromLong(result);
}

// ill(): executes an undefined instruction (ud2 on x86-64: SIGILL).
static NOINLINE PyObject* ill(PyObject* module, PyObject* unused) {
  __builtin_trap();
  Py_RETURN_NONE;
}

// call_abort(): abort(3) (SIGABRT), as a glibc heap-corruption check would.
static NOINLINE PyObject* call_abort(PyObject* module, PyObject* unused) {
  abort();
  Py_RETURN_NONE;
}

// ---- two threads faulting at the same moment -----------------------------

static pthread_barrier_t pair_barrier;

static NOINLINE void* fault_after_barrier(void* arg) {
  pthread_barrier_wait(&pair_barrier);
  *null_pointer = (int)(intptr_t)arg;
  return NULL;
}

// crash_in_thread_pair(): starts two native threads that meet at a barrier
// and then both write through NULL; the caller waits for them (it never
// returns).
static NOINLINE PyObject* crash_in_thread_pair(PyObject* module,
                                               PyObject* unused) {
  pthread_t threads[2];
  pthread_barrier_init(&pair_barrier, NULL, 2);
  for (int i = 0; i < 2; i++) {
    if (pthread_create(&threads[i], NULL, fault_after_barrier,
                       (void*)(intptr_t)(i + 1)) != 0) {
      PyErr_SetString(PyExc_RuntimeError, "pthread_create failed");
      return NULL;
    }
  }
  Py_BEGIN_ALLOW_THREADS for (int i = 0; i < 2; i++)
      pthread_join(threads[i], NULL);
  Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"segv", segv, METH_NOARGS, "Writes through a NULL pointer (SIGSEGV)."},
    {"bus", bus, METH_NOARGS,
     "Touches a mapping beyond the end of its file (SIGBUS)."},
    {"fpe", fpe, METH_NOARGS, "Integer division by zero (SIGFPE)."},
    {"ill", ill, METH_NOARGS, "__builtin_trap (SIGILL)."},
    {"abort", call_abort, METH_NOARGS, "abort() (SIGABRT)."},
    {"crash_in_thread_pair", crash_in_thread_pair, METH_NOARGS,
     "Two native threads write through NULL at the same moment."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "crashers",
    .m_doc =
        "Functions that crash the process on purpose (interpsan's faulthandler "
        "tests).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC PyInit_crashers(void) { return PyModuleDef_Init(&module); }
