# cython: language_level=3
# cython: subinterpreters_compatible=own_gil
#
# The code of cy_isolated.pyx, built so that Cython 3.3.1 shares nothing
# between interpreters: CYTHON_USE_MODULE_STATE=1 as documented, plus
# CYTHON_USE_TYPE_SPECS=1 (the cdef class becomes a heap type per module)
# and Cython's cache_builtins option off (builtins are looked up at call
# time instead of cached in C statics). build_modules.py sets both.
# interpsan must stay silent on it.

include "isolated_body.pxi"
