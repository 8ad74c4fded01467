"""pytest tests of cy_isolated_heaptypes (run in every interpreter)."""

import cy_isolated_heaptypes as mod

from cython_cases import check_cdef_class, check_closure, check_module_global_and_builtins


def test_cdef_class():
    check_cdef_class(mod)


def test_closure():
    check_closure(mod)


def test_module_global_and_builtins():
    check_module_global_and_builtins(mod)
