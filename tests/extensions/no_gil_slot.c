// UNSUPPORTED in own-GIL interpreters: a multi-phase-init module
// (PyModuleDef_Init) that does not declare the Py_mod_multiple_interpreters
// slot. Without it CPython assumes Py_MOD_MULTIPLE_INTERPRETERS_SUPPORTED
// (interpreters sharing one GIL) and refuses the import in an interpreter
// with its own GIL. interpsan must report it as an unsupported extension
// (interpreters[i].failure == "unsupported_extension", exit status 1).
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject* hello(PyObject* module, PyObject* unused) {
  return PyUnicode_FromString("hello from no_gil_slot");
}

static PyMethodDef methods[] = {
    {"hello", hello, METH_NOARGS, "Returns a greeting."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    // No Py_mod_multiple_interpreters slot: the point of this module.
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "no_gil_slot", NULL, 0, methods, slots,
};

PyMODINIT_FUNC PyInit_no_gil_slot(void) { return PyModuleDef_Init(&module); }
