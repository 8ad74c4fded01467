// UNSUPPORTED in own-GIL interpreters: a legacy single-phase-init module
// (PyModule_Create in PyInit_single_phase). CPython refuses to import it in
// an interpreter created with check_multi_interp_extensions = 1 (ImportError
// "... does not support loading in subinterpreters"). Not an isolation bug
// interpsan finds at run time: it must be reported as an unsupported
// extension (report.json interpreters[i].failure == "unsupported_extension",
// exit status 1), not as a crash.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject* hello(PyObject* module, PyObject* unused) {
  return PyUnicode_FromString("hello from single_phase");
}

static PyMethodDef methods[] = {
    {"hello", hello, METH_NOARGS, "Returns a greeting."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "single_phase", NULL, -1, methods,
};

PyMODINIT_FUNC PyInit_single_phase(void) { return PyModule_Create(&module); }
