// BROKEN on purpose: memory released through the wrong PEP 445 allocator
// family, inside one interpreter (no sharing involved):
//   object_malloc_mem_free()  PyObject_Malloc, then PyMem_Free
//   mem_malloc_object_free()  PyMem_Malloc, then PyObject_Free
// The API forbids mixing the domains. Stock CPython's default build happens
// to use pymalloc for both, so this usually survives without interpsan
// (which makes it the broken extension to use with --checks none), but it
// breaks under PYTHONMALLOC=malloc/debug and with any custom allocator.
//
// Expected from interpsan: kind "wrong-domain-free", object_type
// "PyObject_Malloc block (N bytes)" (resp. "PyMem_Malloc block (N bytes)"),
// extension "broken_wrong_domain", interpreter == owner_interpreter.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static Py_ssize_t get_size(PyObject* args) {
  Py_ssize_t n = 48;
  if (!PyArg_ParseTuple(args, "|n", &n)) return -1;
  if (n <= 0) {
    PyErr_SetString(PyExc_ValueError, "size must be positive");
    return -1;
  }
  return n;
}

// object_malloc_mem_free([n]): PyObject_Malloc(n), then PyMem_Free (the bug).
static PyObject* object_malloc_mem_free(PyObject* module, PyObject* args) {
  Py_ssize_t n = get_size(args);
  if (n < 0) return NULL;
  void* p = PyObject_Malloc((size_t)n);
  if (p == NULL) return PyErr_NoMemory();
  memset(p, 0, (size_t)n);
  PyMem_Free(p);  // wrong domain: must be PyObject_Free
  Py_RETURN_NONE;
}

// mem_malloc_object_free([n]): PyMem_Malloc(n), then PyObject_Free (the bug).
static PyObject* mem_malloc_object_free(PyObject* module, PyObject* args) {
  Py_ssize_t n = get_size(args);
  if (n < 0) return NULL;
  void* p = PyMem_Malloc((size_t)n);
  if (p == NULL) return PyErr_NoMemory();
  memset(p, 0, (size_t)n);
  PyObject_Free(p);  // wrong domain: must be PyMem_Free
  Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"object_malloc_mem_free", object_malloc_mem_free, METH_VARARGS,
     "PyObject_Malloc, then PyMem_Free."},
    {"mem_malloc_object_free", mem_malloc_object_free, METH_VARARGS,
     "PyMem_Malloc, then PyObject_Free."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "broken_wrong_domain", NULL, 0, methods, slots,
};

PyMODINIT_FUNC PyInit_broken_wrong_domain(void) {
  return PyModuleDef_Init(&module);
}
