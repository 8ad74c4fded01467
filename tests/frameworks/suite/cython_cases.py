"""Tests shared by test_cy_isolated.py and test_cy_isolated_heaptypes.py
(the same Cython code built two ways): each calls these with its module."""


def check_cdef_class(mod):
    acc = mod.Accumulator()
    for v in range(100):
        assert acc.add(v) == v + 1
    assert acc.count == 100
    assert acc.total() == sum(range(100))
    assert acc.largest() == 99


def check_closure(mod):
    triple = mod.make_scaler(3)
    assert triple([1, 2, 3]) == [3, 6, 9]
    assert mod.make_scaler("ab")([1, 2]) == ["ab", "abab"]


def check_module_global_and_builtins(mod):
    for i in range(50):
        keys = mod.register("k%03d" % i, object())
    assert keys == sorted(keys) and len(keys) >= 50
    assert mod.describe([1, 2]) == "list:6"
