# cython: language_level=3
# cython: subinterpreters_compatible=own_gil
#
# DELIBERATELY BROKEN. Declares own-GIL support like cy_isolated.pyx, but
# keeps a Python object in a `cdef object` module global. Cython compiles
# it (with only a warning: "Global cdef Python variable used with
# subinterpreter support enabled"): a cdef global is a C static of the
# shared library, not module state, so the first interpreter's dict is
# seen and mutated by every other interpreter, under a GIL that does not
# protect it.

cdef object _cache = None


def remember(key):
    global _cache
    if _cache is None:
        _cache = {}
    _cache[key] = len(_cache)  # BUG: writes into another interpreter's dict
    return len(_cache)
