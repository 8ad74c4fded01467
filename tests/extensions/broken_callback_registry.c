// BROKEN on purpose: a callback registry kept in a C static. The first
// interpreter to call register_callback() stores its Python callable in
// `registered_callback`; fire(n) then calls it n times from whichever
// interpreter asks. Every other interpreter thereby runs the first
// interpreter's function (its code, globals and frames) under its own GIL:
// in stock CPython this corrupts both interpreters and usually ends in a
// SIGSEGV.
//
// Expected from interpsan: kind "cross-interpreter-call", object_type
// "function", extension "broken_callback_registry". With --keep-going the
// call is not executed: fire() gets interpsan.CrossInterpreterError.
//
// The static is guarded by a pthread mutex: the bug is the sharing, not a
// C data race.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static PyObject* registered_callback =
    NULL;                           // the bug: one for all interpreters
static long done_firing_count = 0;  // plain C counter behind the lock: fine

// register_callback(cb): keeps the first callback registered, in any
// interpreter. Returns True if `cb` is now the registered one.
static PyObject* register_callback(PyObject* module, PyObject* cb) {
  int stored = 0;
  pthread_mutex_lock(&registry_mu);
  if (registered_callback == NULL) {
    registered_callback = Py_NewRef(cb);
    stored = 1;
  }
  pthread_mutex_unlock(&registry_mu);
  return PyBool_FromLong(stored);
}

// fire(n): calls the registered callback n times with the call number and
// returns the list of its results.
static PyObject* fire(PyObject* module, PyObject* arg) {
  Py_ssize_t n = PyLong_AsSsize_t(arg);
  if (n == -1 && PyErr_Occurred()) return NULL;
  pthread_mutex_lock(&registry_mu);
  PyObject* cb = registered_callback;
  pthread_mutex_unlock(&registry_mu);
  if (cb == NULL) Py_RETURN_NONE;
  PyObject* results = PyList_New(0);
  if (results == NULL) return NULL;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject* number = PyLong_FromSsize_t(i);
    if (number == NULL) goto error;
    PyObject* result =
        PyObject_CallOneArg(cb, number);  // the cross-interpreter call
    Py_DECREF(number);
    if (result == NULL) goto error;
    int rc = PyList_Append(results, result);
    Py_DECREF(result);
    if (rc < 0) goto error;
  }
  return results;
error:
  Py_DECREF(results);
  return NULL;
}

// registered(): True once a callback is registered.
static PyObject* registered(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&registry_mu);
  int yes = registered_callback != NULL;
  pthread_mutex_unlock(&registry_mu);
  return PyBool_FromLong(yes);
}

// done_firing(): counts an interpreter that will not fire again; fired()
// says how many did (so that the callback's owner can outlive them).
static PyObject* done_firing(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&registry_mu);
  long n = ++done_firing_count;
  pthread_mutex_unlock(&registry_mu);
  return PyLong_FromLong(n);
}

static PyObject* fired(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&registry_mu);
  long n = done_firing_count;
  pthread_mutex_unlock(&registry_mu);
  return PyLong_FromLong(n);
}

static PyMethodDef methods[] = {
    {"registered", registered, METH_NOARGS,
     "True once a callback is registered."},
    {"done_firing", done_firing, METH_NOARGS,
     "Counts an interpreter done firing."},
    {"fired", fired, METH_NOARGS, "Interpreters done firing."},
    {"register_callback", register_callback, METH_O,
     "Keeps the first callback registered (in a C static)."},
    {"fire", fire, METH_O, "Calls the registered callback n times."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "broken_callback_registry", NULL, 0, methods, slots,
};

PyMODINIT_FUNC PyInit_broken_callback_registry(void) {
  return PyModuleDef_Init(&module);
}
