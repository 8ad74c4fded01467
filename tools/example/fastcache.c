// fastcache: the bundled example of an extension that claims to support a
// per-interpreter GIL and does not.
//
// It memoizes results in a dict kept in a C static. The first interpreter
// to call it creates the dict; every other interpreter then inserts its own
// objects into that interpreter's dict, and grows it, which frees the old
// key table into the wrong interpreter's allocator. Stock CPython corrupts
// pymalloc silently and crashes later, far away (often in glibc at exit).
// interpsan reports the first cross-interpreter free, names fastcache and
// the line, and stops.
//
// The fix is PEP 630: keep the dict in module state (see
// tests/extensions/correct_module_state.c).
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

static PyObject* cache = NULL;  // BUG: one dict shared by every interpreter
// The lock makes the C-level data race go away (the interpreters have
// separate GILs), so what remains is the isolation bug interpsan is for.
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

// cached(key, factory): cache[key], computing it with factory() on a miss.
static PyObject* cached(PyObject* module, PyObject* const* args,
                        Py_ssize_t nargs) {
  if (nargs != 2) {
    PyErr_SetString(PyExc_TypeError, "cached(key, factory)");
    return NULL;
  }
  pthread_mutex_lock(&cache_lock);
  if (cache == NULL && (cache = PyDict_New()) == NULL) {
    pthread_mutex_unlock(&cache_lock);
    return NULL;
  }
  PyObject* value = PyDict_GetItemWithError(cache, args[0]);
  pthread_mutex_unlock(&cache_lock);
  if (value != NULL) return Py_NewRef(value);
  if (PyErr_Occurred()) return NULL;
  value = PyObject_CallNoArgs(args[1]);
  if (value == NULL) return NULL;
  pthread_mutex_lock(&cache_lock);
  int rc = PyDict_SetItem(cache, args[0], value);
  pthread_mutex_unlock(&cache_lock);
  if (rc < 0) {
    Py_DECREF(value);
    return NULL;
  }
  return value;
}

static PyMethodDef methods[] = {
    {"cached", (PyCFunction)(void (*)(void))cached, METH_FASTCALL,
     "cached(key, factory) -> value, memoized."},
    {NULL, NULL, 0, NULL},
};

// The claim that makes this example worth running under interpsan: the
// module says it is safe in interpreters with their own GIL (PEP 684), so
// CPython lets every such interpreter import it, and each one then shares
// the one static `cache` above.
static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "fastcache",
    .m_doc = "A memoizing cache (broken).",
    .m_size = 0,  // no per-module state: the cache is a C static instead
    .m_methods = methods,
    .m_slots = slots,  // multi-phase initialization (PEP 489)
};

PyMODINIT_FUNC PyInit_fastcache(void) { return PyModuleDef_Init(&module); }
