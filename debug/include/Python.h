/* interpsan's check-mode Python.h: `tools/interpsan cflags` puts this
 * directory first on the include path. It includes CPython's real Python.h
 * (after whatever the extension defined first: Py_LIMITED_API,
 * PY_SSIZE_T_CLEAN, _GNU_SOURCE...) and then routes every refcount
 * operation through an ownership check: an extension that increfs or
 * decrefs an object another interpreter owns is reported at that line.
 *
 * The check function is a weak symbol that interpsan's runner and preload
 * library define: the same .so still loads and runs, unchecked, in a plain
 * python.
 */
#include_next <Python.h>

#ifndef INTERPSAN_CHECK_MODE_H_
#define INTERPSAN_CHECK_MODE_H_

#ifdef __cplusplus
extern "C" {
#endif
/* Reports `op` if another interpreter owns it. `what` names the operation;
 * `file`, `line` and `function` the extension's source line that did it
 * (the macro's point of use: the report names that line, not this header). */
__attribute__((weak)) void interpsan_check_refcount_at(PyObject *op,
                                                       const char *what,
                                                       const char *file,
                                                       int line,
                                                       const char *function);
#ifdef __cplusplus
}
#endif

/* Always inlined, so that the native stack's innermost extension frame is
 * the extension's own function, not this helper. */
static inline __attribute__((always_inline)) PyObject *interpsan_checked_(
    PyObject *op, const char *what, const char *file, int line,
    const char *function) {
  if (op != NULL && interpsan_check_refcount_at)
    interpsan_check_refcount_at(op, what, file, line, function);
  return op;
}

/* Used inside function bodies only (as the refcount macros are), where
 * __func__ is defined. */
#define INTERPSAN_CHECKED_(op, what) \
  interpsan_checked_(_PyObject_CAST(op), what, __FILE__, __LINE__, __func__)

/* Each macro names CPython's own static inline function of the same name
 * (a macro is not expanded inside itself), so the count still changes
 * inline; only the check is a call. Release builds of 3.12/3.13 (no
 * Py_REF_DEBUG) are assumed. */
#undef Py_INCREF
#undef Py_DECREF
#undef Py_XINCREF
#undef Py_XDECREF
#undef Py_NewRef
#undef Py_XNewRef
#undef Py_SET_REFCNT
#define Py_INCREF(op) Py_INCREF(INTERPSAN_CHECKED_(op, "Py_INCREF"))
#define Py_DECREF(op) Py_DECREF(INTERPSAN_CHECKED_(op, "Py_DECREF"))
#define Py_XINCREF(op) Py_XINCREF(INTERPSAN_CHECKED_(op, "Py_XINCREF"))
#define Py_XDECREF(op) Py_XDECREF(INTERPSAN_CHECKED_(op, "Py_XDECREF"))
#define Py_NewRef(op) _Py_NewRef(INTERPSAN_CHECKED_(op, "Py_NewRef"))
#define Py_XNewRef(op) _Py_XNewRef(INTERPSAN_CHECKED_(op, "Py_XNewRef"))
#define Py_SET_REFCNT(op, n) \
  Py_SET_REFCNT(INTERPSAN_CHECKED_(op, "Py_SET_REFCNT"), (n))
/* Py_CLEAR, Py_SETREF and Py_XSETREF expand to Py_DECREF/Py_XDECREF at the
 * point of use, so they are checked through the definitions above. */

#endif /* INTERPSAN_CHECK_MODE_H_ */
