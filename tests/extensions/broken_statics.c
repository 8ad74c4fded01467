// BROKEN on purpose: one function per class of isolation bug that keeps
// Python objects in C statics (the classes README's check table lists).
// Each static is filled by the first interpreter that calls and then used
// by every other one:
//   shared_error     a static exception object (PyErr_SetString on it)
//   shared_type      a heap type kept in a static (instantiated by others)
//   StaticType       a static PyTypeObject (PyType_Ready'd, instances in
//                    every interpreter)
//   shared_capsule   a capsule in a static (PyCapsule_GetPointer on it)
//   callback         a callback registry (called from other interpreters)
//   first_object     an object kept after its interpreter ended
// A pthread mutex guards the statics: the bugs are the isolation ones, not
// C data races.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static PyObject* shared_error = NULL;
static PyObject* shared_type = NULL;
static PyObject* shared_capsule = NULL;
static PyObject* callback = NULL;
static PyObject* first_object = NULL;
static int capsule_payload = 42;

static PyTypeObject StaticType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "broken_statics.StaticType",
    .tp_basicsize = sizeof(PyObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
};

static PyType_Slot heap_slots[] = {{0, NULL}};
static PyType_Spec heap_spec = {"broken_statics.HeapType", sizeof(PyObject), 0,
                                Py_TPFLAGS_DEFAULT, heap_slots};

static PyObject* raise_shared_error(PyObject* m, PyObject* unused) {
  pthread_mutex_lock(&lock);
  if (shared_error == NULL) {
    shared_error = PyErr_NewException("broken_statics.Error", NULL, NULL);
  }
  PyObject* error = shared_error;
  pthread_mutex_unlock(&lock);
  PyErr_SetString(error, "raised from a static exception object");
  return NULL;
}

static PyObject* make_from_shared_type(PyObject* m, PyObject* unused) {
  pthread_mutex_lock(&lock);
  if (shared_type == NULL) shared_type = PyType_FromSpec(&heap_spec);
  PyObject* type = shared_type;
  pthread_mutex_unlock(&lock);
  return PyObject_CallNoArgs(type);
}

static PyObject* make_static_type_instance(PyObject* m, PyObject* unused) {
  // Every interpreter readies the same static type: its tp_dict (and more)
  // ends up shared.
  pthread_mutex_lock(&lock);
  int rc = PyType_Ready(&StaticType);
  pthread_mutex_unlock(&lock);
  if (rc < 0) return NULL;
  return PyObject_CallNoArgs((PyObject*)&StaticType);
}

static PyObject* shared_capsule_value(PyObject* m, PyObject* unused) {
  pthread_mutex_lock(&lock);
  if (shared_capsule == NULL) {
    shared_capsule =
        PyCapsule_New(&capsule_payload, "broken_statics.payload", NULL);
  }
  PyObject* capsule = shared_capsule;
  pthread_mutex_unlock(&lock);
  int* p = PyCapsule_GetPointer(capsule, "broken_statics.payload");
  return p ? PyLong_FromLong(*p) : NULL;
}

static PyObject* register_callback(PyObject* m, PyObject* cb) {
  pthread_mutex_lock(&lock);
  if (callback == NULL) callback = Py_NewRef(cb);
  pthread_mutex_unlock(&lock);
  Py_RETURN_NONE;
}

static PyObject* fire_callback(PyObject* m, PyObject* unused) {
  pthread_mutex_lock(&lock);
  PyObject* cb = callback;
  pthread_mutex_unlock(&lock);
  if (cb == NULL) Py_RETURN_NONE;
  return PyObject_CallNoArgs(cb);
}

// Keeps the first object it is given; returns its length to everyone.
static PyObject* keep_first(PyObject* m, PyObject* obj) {
  pthread_mutex_lock(&lock);
  if (first_object == NULL) first_object = Py_NewRef(obj);
  PyObject* kept = first_object;
  pthread_mutex_unlock(&lock);
  Py_ssize_t n = PyObject_Length(kept);
  return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"raise_shared_error", raise_shared_error, METH_NOARGS, NULL},
    {"make_from_shared_type", make_from_shared_type, METH_NOARGS, NULL},
    {"make_static_type_instance", make_static_type_instance, METH_NOARGS, NULL},
    {"shared_capsule_value", shared_capsule_value, METH_NOARGS, NULL},
    {"register_callback", register_callback, METH_O, NULL},
    {"fire_callback", fire_callback, METH_NOARGS, NULL},
    {"keep_first", keep_first, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "broken_statics", NULL, 0, methods, slots,
};

PyMODINIT_FUNC PyInit_broken_statics(void) { return PyModuleDef_Init(&module); }
