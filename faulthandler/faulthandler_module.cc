#include "faulthandler/faulthandler_module.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>

#include "faulthandler/fatal_signal_handler.h"
#include "runtime/per_interpreter_module.h"

namespace {

constexpr int kMaxExtraSlots = 16;
std::atomic<bool> g_slot_used[kMaxExtraSlots];

struct Watchdog {
  std::mutex mu;
  std::condition_variable cv;
  std::thread thread;
  bool cancel = false;
};

struct State {
  PyObject* file;  // kept alive while enabled, as stock faulthandler does
  int extra_slot;  // slot in the handler's extra descriptors, or -1
  bool all_threads;
  Watchdog* watchdog;
  PyObject* watchdog_file;
  PyObject* registered;  // dict signum -> file, kept alive
};

// PyLong_AsInt is 3.13+; this works on 3.12 too.
int AsInt(PyObject* obj) {
  long v = PyLong_AsLong(obj);
  if (v == -1 && PyErr_Occurred()) return -1;
  if (v > INT_MAX || v < INT_MIN) {
    PyErr_SetString(PyExc_OverflowError, "value out of range for a C int");
    return -1;
  }
  return static_cast<int>(v);
}

State* GetState(PyObject* module) {
  return static_cast<State*>(PyModule_GetState(module));
}

// file=None/omitted -> sys.stderr; an int is a descriptor; else fileno().
// Returns the descriptor and a new reference to the object to keep alive.
int FileDescriptor(PyObject* file, PyObject** keep) {
  *keep = nullptr;
  if (file == nullptr || file == Py_None) {
    file = PySys_GetObject("stderr");
    if (file == nullptr || file == Py_None) {
      PyErr_SetString(PyExc_RuntimeError, "sys.stderr is None");
      return -1;
    }
  }
  if (PyLong_Check(file)) {
    int fd = AsInt(file);
    if (fd == -1 && PyErr_Occurred()) return -1;
    if (fd < 0) {
      PyErr_SetString(PyExc_ValueError, "file is not a valid file descriptor");
      return -1;
    }
    *keep = Py_NewRef(file);
    return fd;
  }
  PyObject* result = PyObject_CallMethod(file, "fileno", nullptr);
  if (result == nullptr) return -1;
  int fd = AsInt(result);
  Py_DECREF(result);
  if (fd == -1 && PyErr_Occurred()) return -1;
  if (fd < 0) {
    PyErr_SetString(PyExc_ValueError, "file is not a valid file descriptor");
    return -1;
  }
  // Flush what Python buffered, so the dump comes after it.
  PyObject* flushed = PyObject_CallMethod(file, "flush", nullptr);
  if (flushed == nullptr) {
    PyErr_Clear();
  } else {
    Py_DECREF(flushed);
  }
  *keep = Py_NewRef(file);
  return fd;
}

void Disable(State* st) {
  if (st->extra_slot >= 0) {
    interpsan::SetExtraDumpFd(st->extra_slot, -1);
    g_slot_used[st->extra_slot].store(false);
    st->extra_slot = -1;
  }
  Py_CLEAR(st->file);
}

PyObject* Enable(PyObject* module, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"file", "all_threads", nullptr};
  PyObject* file = nullptr;
  int all_threads = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|Op:enable",
                                   const_cast<char**>(kwlist), &file,
                                   &all_threads)) {
    return nullptr;
  }
  PyObject* keep;
  int fd = FileDescriptor(file, &keep);
  if (fd < 0) return nullptr;
  State* st = GetState(module);
  Disable(st);
  for (int i = 0; i < kMaxExtraSlots; i++) {
    bool expected = false;
    if (g_slot_used[i].compare_exchange_strong(expected, true)) {
      st->extra_slot = i;
      interpsan::SetExtraDumpFd(i, fd);
      break;
    }
  }
  st->file = keep;
  st->all_threads = all_threads != 0;
  Py_RETURN_NONE;
}

PyObject* DisablePy(PyObject* module, PyObject*) {
  State* st = GetState(module);
  bool was = st->file != nullptr;
  Disable(st);
  return PyBool_FromLong(was);
}

PyObject* IsEnabled(PyObject* module, PyObject*) {
  return PyBool_FromLong(GetState(module)->file != nullptr);
}

PyObject* DumpTraceback(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"file", "all_threads", nullptr};
  PyObject* file = nullptr;
  int all_threads = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|Op:dump_traceback",
                                   const_cast<char**>(kwlist), &file,
                                   &all_threads)) {
    return nullptr;
  }
  PyObject* keep;
  int fd = FileDescriptor(file, &keep);
  if (fd < 0) return nullptr;
  interpsan::DumpTracebacksNow(fd, all_threads != 0, nullptr);
  Py_XDECREF(keep);
  Py_RETURN_NONE;
}

void StopWatchdog(State* st) {
  if (st->watchdog == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(st->watchdog->mu);
    st->watchdog->cancel = true;
  }
  st->watchdog->cv.notify_all();
  Py_BEGIN_ALLOW_THREADS st->watchdog->thread.join();
  Py_END_ALLOW_THREADS delete st->watchdog;
  st->watchdog = nullptr;
  Py_CLEAR(st->watchdog_file);
}

PyObject* DumpTracebackLater(PyObject* module, PyObject* args,
                             PyObject* kwargs) {
  static const char* kwlist[] = {"timeout", "repeat", "file", "exit", nullptr};
  double timeout;
  int repeat = 0, exit_after = 0;
  PyObject* file = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "d|pOp:dump_traceback_later",
                                   const_cast<char**>(kwlist), &timeout,
                                   &repeat, &file, &exit_after)) {
    return nullptr;
  }
  if (timeout <= 0) {
    PyErr_SetString(PyExc_ValueError, "timeout must be greater than 0");
    return nullptr;
  }
  PyObject* keep;
  int fd = FileDescriptor(file, &keep);
  if (fd < 0) return nullptr;
  State* st = GetState(module);
  StopWatchdog(st);
  st->watchdog = new Watchdog;
  st->watchdog_file = keep;
  Watchdog* wd = st->watchdog;
  char header[64];
  long secs = static_cast<long>(timeout);
  snprintf(header, sizeof(header), "Timeout (%ld:%02ld:%02ld)!\n", secs / 3600,
           (secs / 60) % 60, secs % 60);
  std::string text = header;
  wd->thread = std::thread([wd, timeout, repeat, exit_after, fd, text]() {
    std::unique_lock<std::mutex> lock(wd->mu);
    do {
      auto deadline = std::chrono::steady_clock::now() +
                      std::chrono::duration<double>(timeout);
      if (wd->cv.wait_until(lock, deadline, [wd] { return wd->cancel; }))
        return;
      interpsan::DumpTracebacksNow(fd, true, text.c_str());
      if (exit_after) _exit(1);
    } while (repeat);
  });
  Py_RETURN_NONE;
}

PyObject* CancelDumpTracebackLater(PyObject* module, PyObject*) {
  StopWatchdog(GetState(module));
  Py_RETURN_NONE;
}

PyObject* Register(PyObject* module, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"signum", "file", "all_threads", "chain",
                                 nullptr};
  int signum;
  PyObject* file = nullptr;
  int all_threads = 1, chain = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "i|Opp:register",
                                   const_cast<char**>(kwlist), &signum, &file,
                                   &all_threads, &chain)) {
    return nullptr;
  }
  if (signum == SIGSEGV || signum == SIGBUS || signum == SIGFPE ||
      signum == SIGILL || signum == SIGABRT) {
    PyErr_Format(PyExc_RuntimeError,
                 "signal %i cannot be registered, use enable() instead",
                 signum);
    return nullptr;
  }
  PyObject* keep;
  int fd = FileDescriptor(file, &keep);
  if (fd < 0) return nullptr;
  if (!interpsan::RegisterDumpSignal(signum, fd, all_threads != 0,
                                     chain != 0)) {
    Py_XDECREF(keep);
    PyErr_SetString(PyExc_ValueError, "signal number out of range");
    return nullptr;
  }
  State* st = GetState(module);
  PyObject* key = PyLong_FromLong(signum);
  int rc = PyDict_SetItem(st->registered, key, keep);
  Py_DECREF(key);
  Py_XDECREF(keep);
  if (rc < 0) return nullptr;
  Py_RETURN_NONE;
}

PyObject* Unregister(PyObject* module, PyObject* arg) {
  int signum = AsInt(arg);
  if (signum == -1 && PyErr_Occurred()) return nullptr;
  State* st = GetState(module);
  bool was = interpsan::UnregisterDumpSignal(signum);
  PyObject* key = PyLong_FromLong(signum);
  if (PyDict_Contains(st->registered, key) == 1)
    PyDict_DelItem(st->registered, key);
  Py_DECREF(key);
  return PyBool_FromLong(was);
}

PyMethodDef kMethods[] = {
    {"enable",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(Enable)),
     METH_VARARGS | METH_KEYWORDS,
     "enable(file=sys.stderr, all_threads=True): also write fatal dumps to "
     "file."},
    {"disable", DisablePy, METH_NOARGS,
     "disable(): stop writing dumps to the file."},
    {"is_enabled", IsEnabled, METH_NOARGS, "is_enabled() -> bool"},
    {"dump_traceback",
     reinterpret_cast<PyCFunction>(
         reinterpret_cast<void (*)(void)>(DumpTraceback)),
     METH_VARARGS | METH_KEYWORDS,
     "dump_traceback(file=sys.stderr, all_threads=True): every interpreter's "
     "threads."},
    {"dump_traceback_later",
     reinterpret_cast<PyCFunction>(
         reinterpret_cast<void (*)(void)>(DumpTracebackLater)),
     METH_VARARGS | METH_KEYWORDS,
     "dump_traceback_later(timeout, repeat=False, file=sys.stderr, "
     "exit=False)"},
    {"cancel_dump_traceback_later", CancelDumpTracebackLater, METH_NOARGS,
     "Cancels dump_traceback_later()."},
    {"register",
     reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(Register)),
     METH_VARARGS | METH_KEYWORDS,
     "register(signum, file=sys.stderr, all_threads=True, chain=False)"},
    {"unregister", Unregister, METH_O, "unregister(signum) -> bool"},
    {nullptr, nullptr, 0, nullptr},
};

int Exec(PyObject* module) {
  State* st = GetState(module);
  st->file = nullptr;
  st->extra_slot = -1;
  st->all_threads = true;
  st->watchdog = nullptr;
  st->watchdog_file = nullptr;
  st->registered = PyDict_New();
  return st->registered == nullptr ? -1 : 0;
}

int Traverse(PyObject* module, visitproc visit, void* arg) {
  State* st = GetState(module);
  if (st == nullptr) return 0;
  Py_VISIT(st->file);
  Py_VISIT(st->watchdog_file);
  Py_VISIT(st->registered);
  return 0;
}

void Free(void* module) {
  State* st = GetState(static_cast<PyObject*>(module));
  if (st == nullptr) return;
  StopWatchdog(st);
  Disable(st);
  if (st->registered != nullptr) {
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(st->registered, &pos, &key, &value)) {
      interpsan::UnregisterDumpSignal(static_cast<int>(PyLong_AsLong(key)));
    }
  }
  Py_CLEAR(st->registered);
}

interpsan::PerInterpreterModule g_module({
    "interpsan.faulthandler",
    "faulthandler's API, process-wide, for every interpreter (interpsan).",
    kMethods,
    &Exec,
    sizeof(State),
    Traverse,
    /*clear=*/nullptr,
    Free,
});

}  // namespace

extern "C" PyObject* PyInit__interpsan_faulthandler(void) {
  return g_module.Init();
}
