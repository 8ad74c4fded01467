// CORRECT: an extension isolated the way PEP 630 / PEP 684 ask, exercising
// the same operations the broken extensions get wrong. interpsan must report
// nothing, with any number of interpreters, with or without --keep-going.
//   - its list, its PyMem buffer, its exception and its heap type live in
//     per-interpreter module state (m_size, PyModule_GetState), with
//     m_traverse / m_clear / m_free;
//   - the Box type is a heap type created per module with
//     PyType_FromModuleAndSpec (never a static PyTypeObject);
//   - the only C static holding an object holds Py_None, which is immortal
//     (PEP 683) and legitimately shared;
//   - a process-wide C counter (plain C data) is shared behind a lock:
//     PyMutex on 3.13+, a pthread mutex on 3.12.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030D0000
#define COUNTER_LOCK_KIND "PyMutex"
static PyMutex counter_mu = {0};
#define COUNTER_LOCK() PyMutex_Lock(&counter_mu)
#define COUNTER_UNLOCK() PyMutex_Unlock(&counter_mu)
#else
#include <pthread.h>
#define COUNTER_LOCK_KIND "pthread_mutex"
static pthread_mutex_t counter_mu = PTHREAD_MUTEX_INITIALIZER;
#define COUNTER_LOCK() pthread_mutex_lock(&counter_mu)
#define COUNTER_UNLOCK() pthread_mutex_unlock(&counter_mu)
#endif

static long long shared_counter = 0;  // plain C data, behind counter_mu

// Immortal: the same object in every interpreter, never deallocated.
static PyObject* immortal_none = Py_None;

typedef struct {
  PyObject* items;  // a list owned by this interpreter
  PyObject* error;  // this interpreter's exception class
  PyTypeObject* box_type;
  char* buffer;  // a PyMem buffer owned by this interpreter
  Py_ssize_t buffer_size;
} module_state;

static module_state* get_state(PyObject* module) {
  return (module_state*)PyModule_GetState(module);
}

// ---- Box: a heap type holding one object -------------------------------

typedef struct {
  PyObject_HEAD PyObject* value;
} BoxObject;

static int box_init(PyObject* self, PyObject* args, PyObject* kwds) {
  PyObject* value = Py_None;
  static char* kwlist[] = {"value", NULL};
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O", kwlist, &value)) return -1;
  Py_XSETREF(((BoxObject*)self)->value, Py_NewRef(value));
  return 0;
}

static int box_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));  // heap types: instances own a type reference
  Py_VISIT(((BoxObject*)self)->value);
  return 0;
}

static int box_clear(PyObject* self) {
  Py_CLEAR(((BoxObject*)self)->value);
  return 0;
}

static void box_dealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  box_clear(self);
  tp->tp_free(self);
  Py_DECREF(tp);
}

static PyObject* box_get(PyObject* self, PyObject* unused) {
  PyObject* value = ((BoxObject*)self)->value;
  return Py_NewRef(value ? value : Py_None);
}

static PyMethodDef box_methods[] = {
    {"get", box_get, METH_NOARGS, "Returns the boxed value."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot box_slots[] = {
    {Py_tp_init, box_init},
    {Py_tp_traverse, box_traverse},
    {Py_tp_clear, box_clear},
    {Py_tp_dealloc, box_dealloc},
    {Py_tp_methods, box_methods},
    {Py_tp_doc, "A box holding one value (a heap type in module state)."},
    {0, NULL},
};

static PyType_Spec box_spec = {
    .name = "correct_module_state.Box",
    .basicsize = sizeof(BoxObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_BASETYPE |
             Py_TPFLAGS_IMMUTABLETYPE,
    .slots = box_slots,
};

// ---- module functions ----------------------------------------------------

// append(obj): appends obj to this interpreter's list; returns its length.
static PyObject* append(PyObject* module, PyObject* item) {
  module_state* st = get_state(module);
  if (PyList_Append(st->items, item) < 0) return NULL;
  return PyLong_FromSsize_t(PyList_GET_SIZE(st->items));
}

static PyObject* items(PyObject* module, PyObject* unused) {
  return PyList_GetSlice(get_state(module)->items, 0, PY_SSIZE_T_MAX);
}

// clear(): empties the list (deallocating items in their own interpreter).
static PyObject* clear(PyObject* module, PyObject* unused) {
  module_state* st = get_state(module);
  if (PyList_SetSlice(st->items, 0, PY_SSIZE_T_MAX, NULL) < 0) return NULL;
  Py_RETURN_NONE;
}

// resize(n): PyMem_Realloc's this interpreter's buffer; returns n.
static PyObject* resize(PyObject* module, PyObject* arg) {
  module_state* st = get_state(module);
  Py_ssize_t n = PyLong_AsSsize_t(arg);
  if (n == -1 && PyErr_Occurred()) return NULL;
  if (n <= 0) {
    PyErr_SetString(PyExc_ValueError, "size must be positive");
    return NULL;
  }
  char* p = PyMem_Realloc(st->buffer, (size_t)n);
  if (p == NULL) return PyErr_NoMemory();
  memset(p, 'y', (size_t)n);
  st->buffer = p;
  st->buffer_size = n;
  return PyLong_FromSsize_t(n);
}

// release(): PyMem_Free's this interpreter's buffer.
static PyObject* release(PyObject* module, PyObject* unused) {
  module_state* st = get_state(module);
  PyMem_Free(st->buffer);
  st->buffer = NULL;
  st->buffer_size = 0;
  Py_RETURN_NONE;
}

// fail(message): raises this interpreter's correct_module_state.Error.
static PyObject* fail(PyObject* module, PyObject* message) {
  PyErr_SetObject(get_state(module)->error, message);
  return NULL;
}

// bump(): increments the process-wide C counter; returns the new value.
static PyObject* bump(PyObject* module, PyObject* unused) {
  COUNTER_LOCK();
  long long value = ++shared_counter;
  COUNTER_UNLOCK();
  return PyLong_FromLongLong(value);
}

// shared_none(): the object in the static (Py_None, immortal).
static PyObject* shared_none(PyObject* module, PyObject* unused) {
  return Py_NewRef(immortal_none);
}

static PyMethodDef methods[] = {
    {"append", append, METH_O, "Appends to this interpreter's list."},
    {"items", items, METH_NOARGS, "A copy of this interpreter's list."},
    {"clear", clear, METH_NOARGS, "Empties this interpreter's list."},
    {"resize", resize, METH_O, "PyMem_Realloc's this interpreter's buffer."},
    {"release", release, METH_NOARGS,
     "PyMem_Free's this interpreter's buffer."},
    {"fail", fail, METH_O, "Raises correct_module_state.Error."},
    {"bump", bump, METH_NOARGS, "Increments the process-wide C counter."},
    {"shared_none", shared_none, METH_NOARGS, "Returns the static (None)."},
    {NULL, NULL, 0, NULL},
};

// ---- module state lifecycle -----------------------------------------------

static int exec_module(PyObject* module) {
  module_state* st = get_state(module);
  st->items = PyList_New(0);
  if (st->items == NULL) return -1;
  st->error = PyErr_NewException("correct_module_state.Error", NULL, NULL);
  if (st->error == NULL) return -1;
  if (PyModule_AddObjectRef(module, "Error", st->error) < 0) return -1;
  st->box_type =
      (PyTypeObject*)PyType_FromModuleAndSpec(module, &box_spec, NULL);
  if (st->box_type == NULL) return -1;
  if (PyModule_AddType(module, st->box_type) < 0) return -1;
  if (PyModule_AddStringConstant(module, "COUNTER_LOCK", COUNTER_LOCK_KIND) <
      0) {
    return -1;
  }
  return 0;
}

static int module_traverse(PyObject* module, visitproc visit, void* arg) {
  module_state* st = get_state(module);
  if (st == NULL) return 0;
  Py_VISIT(st->items);
  Py_VISIT(st->error);
  Py_VISIT(st->box_type);
  return 0;
}

static int module_clear(PyObject* module) {
  module_state* st = get_state(module);
  if (st == NULL) return 0;
  Py_CLEAR(st->items);
  Py_CLEAR(st->error);
  Py_CLEAR(st->box_type);
  return 0;
}

static void module_free(void* module) {
  module_clear((PyObject*)module);
  module_state* st = get_state((PyObject*)module);
  if (st != NULL) {
    PyMem_Free(st->buffer);  // freed by the interpreter that owns it
    st->buffer = NULL;
    st->buffer_size = 0;
  }
}

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
    // A claim this extension backs up.
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "correct_module_state",
    .m_doc = "A correctly isolated extension (PEP 630 module state).",
    .m_size = sizeof(module_state),
    .m_methods = methods,
    .m_slots = slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit_correct_module_state(void) {
  return PyModuleDef_Init(&module);
}
