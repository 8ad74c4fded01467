/* An "extension" for capi_wrappers_test: a shared library outside libpython
 * and the test program, so that its calls to the C API are checked as an
 * extension's are. One function per wrapped call the test makes; each only
 * forwards, so the call site is here. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

int caller_list_append(PyObject* list, PyObject* item) {
  return PyList_Append(list, item);
}

int caller_list_set_item(PyObject* list, Py_ssize_t i, PyObject* item) {
  return PyList_SetItem(list, i, item);
}

/* A second call site: findings are de-duplicated by site. */
int caller_list_set_item_again(PyObject* list, Py_ssize_t i, PyObject* item) {
  return PyList_SetItem(list, i, item);
}

PyObject* caller_dict_get_item(PyObject* dict, PyObject* key) {
  return PyDict_GetItem(dict, key);
}

void caller_incref(PyObject* obj) { Py_IncRef(obj); }

PyObject* caller_call_no_args(PyObject* callable) {
  return PyObject_CallNoArgs(callable);
}

PyObject* caller_vectorcall(PyObject* callable, PyObject* const* args,
                            size_t nargs) {
  return PyObject_Vectorcall(callable, args, nargs, NULL);
}
