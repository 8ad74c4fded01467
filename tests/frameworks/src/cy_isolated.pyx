# cython: language_level=3
# cython: subinterpreters_compatible=own_gil
#
# A Cython module declared for own-GIL subinterpreters exactly as Cython
# documents it: the `subinterpreters_compatible=own_gil` directive above,
# compiled with CYTHON_USE_MODULE_STATE=1 (build_modules.py defines it;
# without module state Cython emits Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED).
# The code itself keeps nothing in C globals. Cython 3.3.1 still shares
# two things between interpreters in this mode (see tests/frameworks/README.md):
# the `cdef class` is a static PyTypeObject unless CYTHON_USE_TYPE_SPECS=1,
# and cached builtins (sum, max) are C statics. interpsan reports both;
# cy_isolated_heaptypes.pyx is the same code built without them.

include "isolated_body.pxi"
