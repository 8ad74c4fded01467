"""pytest tests of the pybind11 modules, run inside every interpreter."""


def test_bound_class():
    import pb_isolated
    acc = pb_isolated.Accumulator("a")
    for v in range(100):
        assert acc.add(v) == v + 1
    assert acc.total() == sum(range(100))
    assert acc.values == list(range(100))
    assert acc.name == "a"
    assert repr(acc) == "<Accumulator a>"


def test_functions():
    import pb_isolated
    assert pb_isolated.join(["x", "y", "z"]) == "x,y,z"
    assert pb_isolated.histogram("abracadabra") == {"a": 5, "b": 2, "r": 2, "c": 1, "d": 1}
