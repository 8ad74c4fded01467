// BROKEN on purpose: objects carried between interpreters through a C-level
// queue. put(obj) keeps a strong reference to obj in a C static array shared
// by every interpreter; drain(), called by whichever interpreter comes next,
// drops those references with Py_DECREF inside this C function. An object
// created by one interpreter is then deallocated by another: its memory goes
// back to the wrong interpreter's allocator (or, for floats, tuples, dicts
// and lists, onto the wrong interpreter's freelist).
//
// Expected from interpsan: kind "cross-interpreter-dealloc", object_type the
// type of the queued object (e.g. "float", "dict", "tuple"), extension
// "broken_queue", the Python traceback of the drain() call.
//
// The queue itself is thread-safe (a pthread mutex), so the only bug is the
// one above: plain C data behind a lock is not a violation.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

#define QUEUE_CAPACITY 1024

static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;
static PyObject*
    queue[QUEUE_CAPACITY];  // the bug: objects of every interpreter
static Py_ssize_t queue_len = 0;
static long long total_put = 0;  // plain C counters: fine behind the lock
static long long total_drained = 0;

// put(obj): queues a strong reference to obj.
static PyObject* put(PyObject* module, PyObject* obj) {
  int full = 0;
  Py_INCREF(obj);
  pthread_mutex_lock(&queue_mu);
  if (queue_len < QUEUE_CAPACITY) {
    queue[queue_len++] = obj;
    total_put++;
  } else {
    full = 1;
  }
  pthread_mutex_unlock(&queue_mu);
  if (full) {
    Py_DECREF(obj);
    PyErr_SetString(PyExc_OverflowError, "broken_queue is full");
    return NULL;
  }
  Py_RETURN_NONE;
}

// drain(): empties the queue and drops every reference in the calling
// interpreter, whoever created the objects. Returns how many it dropped.
static PyObject* drain(PyObject* module, PyObject* unused) {
  PyObject* taken[QUEUE_CAPACITY];
  Py_ssize_t n;
  pthread_mutex_lock(&queue_mu);
  n = queue_len;
  memcpy(taken, queue, sizeof(PyObject*) * (size_t)n);
  queue_len = 0;
  pthread_mutex_unlock(&queue_mu);
  for (Py_ssize_t i = 0; i < n; i++) {
    Py_DECREF(taken[i]);  // the cross-interpreter deallocation happens here
  }
  // Counted after the references are gone, so a producer waiting for
  // drained() outlives the objects it created.
  pthread_mutex_lock(&queue_mu);
  total_drained += n;
  pthread_mutex_unlock(&queue_mu);
  return PyLong_FromSsize_t(n);
}

// size(): objects waiting in the queue.
static PyObject* size(PyObject* module, PyObject* unused) {
  Py_ssize_t n;
  pthread_mutex_lock(&queue_mu);
  n = queue_len;
  pthread_mutex_unlock(&queue_mu);
  return PyLong_FromSsize_t(n);
}

// drained(): objects dropped by drain() so far, in any interpreter.
static PyObject* drained(PyObject* module, PyObject* unused) {
  long long n;
  pthread_mutex_lock(&queue_mu);
  n = total_drained;
  pthread_mutex_unlock(&queue_mu);
  return PyLong_FromLongLong(n);
}

static PyMethodDef methods[] = {
    {"put", put, METH_O, "Queues a strong reference to the object."},
    {"drain", drain, METH_NOARGS,
     "Empties the queue, dropping the references in this interpreter."},
    {"size", size, METH_NOARGS, "Objects waiting in the queue."},
    {"drained", drained, METH_NOARGS, "Objects drained so far, in total."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    // The claim this extension cannot back up.
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "broken_queue", NULL, 0, methods, slots,
};

PyMODINIT_FUNC PyInit_broken_queue(void) { return PyModuleDef_Init(&module); }
