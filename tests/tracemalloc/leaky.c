// LEAKY: a multi-phase extension that declares per-interpreter-GIL support
// and leaks on purpose. keep(obj) stores a NEW reference to obj in a static
// C array and never releases it, so every object passed to keep() is still
// alive when its interpreter is torn down: interpsan's tracemalloc must list
// the Python line that allocated it in report.json's `leaks`, for each
// interpreter.
//
// The objects are only ever stored, never read back, so no interpreter ever
// touches another interpreter's object (the array itself is plain C data
// behind a lock). This is a leak, not an isolation bug.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

#define MAX_KEPT 65536

static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;
static PyObject* kept[MAX_KEPT];  // never released: the leak
static Py_ssize_t n_kept = 0;     // across all interpreters

static PyObject* keep(PyObject* module, PyObject* obj) {
  Py_ssize_t n;
  pthread_mutex_lock(&kept_mu);
  if (n_kept < MAX_KEPT) {
    kept[n_kept++] = Py_NewRef(obj);
  }
  n = n_kept;
  pthread_mutex_unlock(&kept_mu);
  return PyLong_FromSsize_t(n);
}

static PyObject* kept_count(PyObject* module, PyObject* unused) {
  Py_ssize_t n;
  pthread_mutex_lock(&kept_mu);
  n = n_kept;
  pthread_mutex_unlock(&kept_mu);
  return PyLong_FromSsize_t(n);
}

static PyMethodDef leaky_methods[] = {
    {"keep", keep, METH_O,
     "keep(obj) -> total kept: stores a new reference to obj forever."},
    {"kept_count", kept_count, METH_NOARGS,
     "Number of references kept so far, by every interpreter."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot leaky_slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef leaky_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "leaky",
    .m_doc = "Keeps new references in a C array forever (a deliberate leak).",
    .m_size = 0,
    .m_methods = leaky_methods,
    .m_slots = leaky_slots,
};

PyMODINIT_FUNC PyInit_leaky(void) { return PyModuleDef_Init(&leaky_module); }
