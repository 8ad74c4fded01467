# The body of cy_isolated.pyx and cy_isolated_heaptypes.pyx (included by
# both; only their build settings differ).

cdef class Accumulator:
    """A cdef class: C fields, Python-visible methods."""
    cdef public long count
    cdef list items

    def __init__(self):
        self.count = 0
        self.items = []

    def add(self, value):
        self.items.append(value)
        self.count += 1
        return self.count

    def total(self):
        return sum(self.items)  # a call to a builtin (cached in module state)

    def largest(self):
        return max(self.items) if self.items else None


def make_scaler(factor):
    """Returns a closure over `factor`."""
    def scale(values):
        return [v * factor for v in values]
    return scale


_registry = {}  # a Python-level module global: lives in the module's dict


def register(key, value):
    _registry[key] = value
    return sorted(_registry)  # builtin again


def describe(obj):
    return "%s:%d" % (type(obj).__name__, len(repr(obj)))
