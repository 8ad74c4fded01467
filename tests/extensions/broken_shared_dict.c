// BROKEN on purpose: one dict, kept in a C static, used as a cache by every
// interpreter, without a lock (as a Cython module's static type dict is).
// The first interpreter to call creates it; every other one inserts into
// it, so two interpreters resize the same hash table at once, each under
// its own GIL, in each other's allocator: in stock CPython, glibc heap
// corruption.
//
// Expected from interpsan: kind "cross-interpreter-argument", object_type
// "dict", extension "broken_shared_dict", at PyDict_SetItem. With
// --keep-going the insertion is not performed: store() gets
// interpsan.CrossInterpreterError.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;
static PyObject* shared_cache = NULL;  // the bug: one dict for all interpreters
static long finished_users = 0;        // plain C counter behind the lock: fine

static PyObject* cache(void) {
  // Only the creation is locked; the dict is then used without a lock,
  // like a static type's dict.
  pthread_mutex_lock(&create_mu);
  if (shared_cache == NULL) shared_cache = PyDict_New();
  PyObject* d = shared_cache;
  pthread_mutex_unlock(&create_mu);
  return d;
}

// store(key, value): cache[key] = value.
static PyObject* store(PyObject* module, PyObject* const* args,
                       Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "store(key, value)");
    return NULL;
  }
  PyObject* d = cache();
  if (d == NULL) return NULL;
  if (PyDict_SetItem(d, args[0], args[1]) < 0) return NULL;  // grows the table
  Py_RETURN_NONE;
}

// lookup(key): cache.get(key).
static PyObject* lookup(PyObject* module, PyObject* key) {
  PyObject* d = cache();
  if (d == NULL) return NULL;
  PyObject* value = PyDict_GetItemWithError(d, key);
  if (value == NULL) {
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
  }
  return Py_NewRef(value);
}

// created(): True once some interpreter created the dict.
static PyObject* created(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&create_mu);
  int made = shared_cache != NULL;
  pthread_mutex_unlock(&create_mu);
  return PyBool_FromLong(made);
}

// finish(): counts an interpreter that is done with the cache; returns how
// many are (so that the dict's owner can outlive its users).
static PyObject* finish(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&create_mu);
  long n = ++finished_users;
  pthread_mutex_unlock(&create_mu);
  return PyLong_FromLong(n);
}

static PyObject* finished(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&create_mu);
  long n = finished_users;
  pthread_mutex_unlock(&create_mu);
  return PyLong_FromLong(n);
}

static PyMethodDef methods[] = {
    {"created", created, METH_NOARGS, "True once the shared dict exists."},
    {"finish", finish, METH_NOARGS,
     "Counts an interpreter done with the cache."},
    {"finished", finished, METH_NOARGS, "Interpreters done with the cache."},
    {"store", (PyCFunction)(void (*)(void))store, METH_FASTCALL,
     "cache[key] = value, in the dict shared by all interpreters."},
    {"lookup", lookup, METH_O, "cache.get(key)."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "broken_shared_dict", NULL, 0, methods, slots,
};

PyMODINIT_FUNC PyInit_broken_shared_dict(void) {
  return PyModuleDef_Init(&module);
}
