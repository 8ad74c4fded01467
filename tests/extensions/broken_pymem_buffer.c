// BROKEN on purpose: a PyMem_Malloc buffer kept in a C static and resized
// (PyMem_Realloc) or freed (PyMem_Free) by whichever interpreter calls.
// PyMem_* blocks belong to the calling interpreter's allocator (each own-GIL
// interpreter has its own obmalloc state), so the interpreter that did not
// allocate the buffer must not resize or free it.
//
// Expected from interpsan: kind "cross-interpreter-realloc" for resize() and
// "cross-interpreter-free" for release(), object_type
// "PyMem_Malloc block (N bytes)", extension "broken_pymem_buffer".
//
// The pointer and size are guarded by a pthread mutex: the bug is not a data
// race but the allocator the block goes back to.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <string.h>

static pthread_mutex_t buffer_mu = PTHREAD_MUTEX_INITIALIZER;
static char* buffer = NULL;  // the bug: one PyMem buffer for all interpreters
static Py_ssize_t buffer_size = 0;

// resize(n): PyMem_Realloc's the shared buffer to n bytes (allocating it if
// there is none) and fills it. Returns the new size.
static PyObject* resize(PyObject* module, PyObject* arg) {
  Py_ssize_t n = PyLong_AsSsize_t(arg);
  if (n == -1 && PyErr_Occurred()) return NULL;
  if (n <= 0) {
    PyErr_SetString(PyExc_ValueError, "size must be positive");
    return NULL;
  }
  pthread_mutex_lock(&buffer_mu);
  char* p = PyMem_Realloc(buffer, (size_t)n);  // cross-interpreter realloc
  if (p != NULL) {
    memset(p, 'x', (size_t)n);
    buffer = p;
    buffer_size = n;
  }
  pthread_mutex_unlock(&buffer_mu);
  if (p == NULL) return PyErr_NoMemory();
  return PyLong_FromSsize_t(n);
}

// release(): PyMem_Free's the shared buffer. Returns the size it had.
static PyObject* release(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&buffer_mu);
  char* p = buffer;
  Py_ssize_t n = buffer_size;
  buffer = NULL;
  buffer_size = 0;
  PyMem_Free(p);  // cross-interpreter free
  pthread_mutex_unlock(&buffer_mu);
  return PyLong_FromSsize_t(n);
}

// size(): the buffer's current size (0 if there is none).
static PyObject* size(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&buffer_mu);
  Py_ssize_t n = buffer_size;
  pthread_mutex_unlock(&buffer_mu);
  return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"resize", resize, METH_O, "PyMem_Realloc's the shared buffer."},
    {"release", release, METH_NOARGS, "PyMem_Free's the shared buffer."},
    {"size", size, METH_NOARGS, "Current size of the shared buffer."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    // The claim this extension cannot back up.
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "broken_pymem_buffer", NULL, 0, methods, slots,
};

PyMODINIT_FUNC PyInit_broken_pymem_buffer(void) {
  return PyModuleDef_Init(&module);
}
