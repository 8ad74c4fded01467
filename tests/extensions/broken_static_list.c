// BROKEN on purpose: a list kept in a C static and appended to from every
// interpreter. The list (and its item buffer) belongs to whichever
// interpreter created it first; every other interpreter that appends
// resizes that interpreter's PyMem buffer. interpsan must report a
// cross-interpreter realloc attributed to this extension
// (kind "cross-interpreter-realloc", extension "broken_static_list").
//
// Appends are serialised by a pthread mutex: own-GIL interpreters run in
// parallel, and without the lock the concurrent PyList_Append calls would
// add a plain data race (torn item buffers) to the ownership bug this module
// is about, making --keep-going runs non-deterministic.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

static pthread_mutex_t list_mu = PTHREAD_MUTEX_INITIALIZER;
static PyObject* shared_list = NULL;  // the bug: one list for all interpreters

static PyObject* append(PyObject* module, PyObject* item) {
  int result = 0;
  pthread_mutex_lock(&list_mu);
  if (shared_list == NULL) shared_list = PyList_New(0);
  if (shared_list == NULL) {
    result = -1;
  } else {
    result = PyList_Append(shared_list, item);  // cross-interpreter realloc
  }
  pthread_mutex_unlock(&list_mu);
  if (result < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject* size(PyObject* module, PyObject* unused) {
  Py_ssize_t n;
  pthread_mutex_lock(&list_mu);
  n = shared_list ? PyList_GET_SIZE(shared_list) : 0;
  pthread_mutex_unlock(&list_mu);
  return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"append", append, METH_O, "Appends to the shared list."},
    {"size", size, METH_NOARGS, "Length of the shared list."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    // The claim this extension cannot back up.
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "broken_static_list", NULL, 0, methods, slots,
};

PyMODINIT_FUNC PyInit_broken_static_list(void) {
  return PyModuleDef_Init(&module);
}
