// BROKEN on purpose: an object handed from one interpreter to another
// through a C static, then kept in the receiving interpreter's module
// state. give(obj) parks a reference in `parked`; take() moves it into the
// calling interpreter's module state (the static is emptied); use() then
// passes the kept object to the C API. The module state itself is done
// right (PEP 630); what it holds is another interpreter's object.
//
// Expected from interpsan: kind "cross-interpreter-argument" at use()
// (PyObject_GetAttrString), extension "broken_handoff", holder: the module
// state of broken_handoff (report.json "holder": {"kind": "module-state"}).
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

typedef struct {
  PyObject* kept;  // another interpreter's object once take() ran: the bug
} HandoffState;

static pthread_mutex_t parked_mu = PTHREAD_MUTEX_INITIALIZER;
static PyObject* parked = NULL;  // the hand-off between interpreters
static long taken = 0;           // plain C counters behind the lock: fine
static long finished = 0;

static HandoffState* state_of(PyObject* module) {
  return (HandoffState*)PyModule_GetState(module);
}

// give(obj): parks a reference to obj (the first one given).
static PyObject* give(PyObject* module, PyObject* obj) {
  pthread_mutex_lock(&parked_mu);
  if (parked == NULL && taken == 0) parked = Py_NewRef(obj);
  pthread_mutex_unlock(&parked_mu);
  Py_RETURN_NONE;
}

// take(): moves the parked object into this interpreter's module state.
// Returns True if there was one.
static PyObject* take(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&parked_mu);
  PyObject* obj = parked;
  parked = NULL;
  if (obj != NULL) taken++;
  pthread_mutex_unlock(&parked_mu);
  if (obj == NULL) Py_RETURN_FALSE;
  Py_XSETREF(state_of(module)->kept, obj);
  Py_RETURN_TRUE;
}

// use(): the class name of the kept object, through the C API.
static PyObject* use(PyObject* module, PyObject* unused) {
  PyObject* kept = state_of(module)->kept;
  if (kept == NULL) Py_RETURN_NONE;
  return PyObject_GetAttrString(kept,
                                "__class__");  // another interpreter's object
}

static PyObject* was_taken(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&parked_mu);
  long n = taken;
  pthread_mutex_unlock(&parked_mu);
  return PyLong_FromLong(n);
}

static PyObject* finish(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&parked_mu);
  long n = ++finished;
  pthread_mutex_unlock(&parked_mu);
  return PyLong_FromLong(n);
}

static PyObject* finished_count(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&parked_mu);
  long n = finished;
  pthread_mutex_unlock(&parked_mu);
  return PyLong_FromLong(n);
}

static int traverse(PyObject* module, visitproc visit, void* arg) {
  HandoffState* st = state_of(module);
  Py_VISIT(st ? st->kept : NULL);
  return 0;
}

static int clear(PyObject* module) {
  HandoffState* st = state_of(module);
  if (st != NULL) {
    // Not released: it is not this interpreter's to release (a leak keeps
    // the test about the hand-off, not about a teardown deallocation).
    st->kept = NULL;
  }
  return 0;
}

static void free_module(void* module) { clear((PyObject*)module); }

static PyMethodDef methods[] = {
    {"give", give, METH_O, "Parks a reference in a C static."},
    {"take", take, METH_NOARGS, "Moves the parked object into module state."},
    {"use", use, METH_NOARGS, "The kept object's class, through the C API."},
    {"taken", was_taken, METH_NOARGS, "How many objects were taken."},
    {"finish", finish, METH_NOARGS, "Counts an interpreter done."},
    {"finished", finished_count, METH_NOARGS, "Interpreters done."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "broken_handoff",
    NULL,
    sizeof(HandoffState),
    methods,
    slots,
    traverse,
    clear,
    free_module,
};

PyMODINIT_FUNC PyInit_broken_handoff(void) { return PyModuleDef_Init(&module); }
