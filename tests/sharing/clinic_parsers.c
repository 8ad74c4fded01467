// A third-party extension that carries Argument Clinic style parsers, as
// extensions that vendor Clinic's generated code do (a `static
// _PyArg_Parser` per function, kwtuple left NULL for CPython to fill in).
//
//   kw(a, *, key=None) -> (a, key)
//       parsed through `static _PyArg_Parser kw_parser`: CPython's getargs.c
//       creates and caches the keyword tuple ("key",). 3.12: in whichever
//       interpreter calls first (shared by all: a real isolation bug in
//       CPython's getargs.c); 3.13: in the main interpreter, on purpose.
//   imitate()
//       BROKEN on purpose: fills `static _PyArg_Parser imitation` by hand the
//       way getargs.c would (keywords, fname, a kwtuple of the same names,
//       created in the main interpreter by switching to it as 3.13's
//       _parser_init does) but CPython never initialised this parser. The
//       tuple is the extension's own object in a C static, shared by every
//       interpreter: it must be reported on every version.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

static const char* const kw_keywords[] = {"a", "key", NULL};
static _PyArg_Parser kw_parser = {
    .format = "O|$O:kw",
    .keywords = kw_keywords,
};

static PyObject* kw(PyObject* module, PyObject* args, PyObject* kwargs) {
  PyObject* a = NULL;
  PyObject* key = Py_None;
  if (!_PyArg_ParseTupleAndKeywordsFast(args, kwargs, &kw_parser, &a, &key)) {
    return NULL;
  }
  return PyTuple_Pack(2, a, key);
}

static const char* const imitation_keywords[] = {"a", "key", NULL};
static _PyArg_Parser imitation = {
    .keywords = imitation_keywords,
    .fname = "imitated",
};
static pthread_mutex_t imitation_lock = PTHREAD_MUTEX_INITIALIZER;

static PyObject* imitate(PyObject* module, PyObject* unused) {
  pthread_mutex_lock(&imitation_lock);
  if (imitation.kwtuple == NULL) {
    PyThreadState* temp = PyThreadState_New(PyInterpreterState_Main());
    PyThreadState* saved = PyThreadState_Swap(temp);
    PyObject* names = Py_BuildValue("(ss)", "a", "key");
    PyThreadState_Clear(temp);
    PyThreadState_Swap(saved);
    PyThreadState_Delete(temp);
    imitation.kwtuple = names;
#if PY_VERSION_HEX >= 0x030D0000
    imitation.is_kwtuple_owned = 1;
    imitation.once.v = 4;  // _Py_ONCE_INITIALIZED
#else
    imitation.initialized = 1;
#endif
  }
  PyObject* names = imitation.kwtuple;
  pthread_mutex_unlock(&imitation_lock);
  if (names == NULL) return NULL;
  return PyLong_FromSsize_t(PyTuple_GET_SIZE(names));
}

static PyMethodDef methods[] = {
    {"kw", (PyCFunction)(void (*)(void))kw, METH_VARARGS | METH_KEYWORDS, NULL},
    {"imitate", imitate, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "clinic_parsers", NULL, 0, methods, slots,
};

PyMODINIT_FUNC PyInit_clinic_parsers(void) {
  return PyModuleDef_Init(&module_def);
}
