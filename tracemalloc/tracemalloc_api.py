"""interpsan.tracemalloc: the stdlib tracemalloc API, per interpreter.

The stdlib's own tracemalloc.py is loaded from this interpreter's standard
library and bound to interpsan's `_interpsan_tracemalloc` instead of the
stock `_tracemalloc`, so Snapshot, Statistic, StatisticDiff, Traceback,
Frame, Filter, DomainFilter, compare_to, filter_traces, dump and load behave
exactly as documented. On top of them:

- tracing, traced memory and snapshots are per interpreter: start() and
  stop() affect the calling interpreter only, and it works in own-GIL
  subinterpreters (stock tracemalloc hangs there);
- every trace carries the id of the interpreter that allocated it
  (Trace.interpreter);
- take_snapshot(all_interpreters=True) covers every interpreter of the
  process, InterpreterFilter selects by interpreter, and
  Snapshot.statistics("interpreter") groups by it.

Embedded into the runner (tools/BUILD) and executed as a module.
"""

import importlib as _importlib
import importlib.machinery as _machinery
import pickle as _pickle

import _interpsan_tracemalloc


def _load_stdlib_tracemalloc():
    # The path finder directly: interpsan maps `import tracemalloc` itself to
    # this module.
    spec = _machinery.PathFinder.find_spec("tracemalloc")
    if spec is None or spec.origin is None:
        raise ImportError("the standard library's tracemalloc.py is not available")
    with open(spec.origin, encoding="utf-8") as f:
        source = f.read()
    source = source.replace("from _tracemalloc import", "from _interpsan_tracemalloc import")
    namespace = {"__name__": __name__, "__file__": spec.origin}
    exec(compile(source, spec.origin, "exec"), namespace)
    return namespace


_stdlib = _load_stdlib_tracemalloc()
globals().update({k: v for k, v in _stdlib.items() if not k.startswith("__") or k == "__all__"})

_StdlibSnapshot = _stdlib["Snapshot"]
_Statistic = _stdlib["Statistic"]
_Traceback = _stdlib["Traceback"]
_BaseFilter = _stdlib["BaseFilter"]
_Trace = _stdlib["Trace"]


class _Domain(int):
    """A trace's PEP 445 domain that also remembers the interpreter that
    allocated the block. It compares and hashes as the plain domain number,
    so the stdlib code (and DomainFilter) sees exactly what it expects."""

    def __new__(cls, domain, interpreter):
        self = super().__new__(cls, domain)
        self.interpreter = interpreter
        return self

    def __reduce__(self):
        return (_Domain, (int(self), self.interpreter))


def _interpreter_of(trace):
    return getattr(trace[0], "interpreter", None)


def _trace_interpreter(self):
    """Id of the interpreter that allocated the block."""
    return _interpreter_of(self._trace)


_Trace.interpreter = property(_trace_interpreter)


def _traces_from_c(raw):
    # _interpsan_tracemalloc gives (domain, size, traceback, nframe,
    # interpreter); the stdlib code wants 4-tuples. Like _tracemalloc,
    # identical tracebacks are one and the same tuple.
    domains = {}
    tracebacks = {}
    out = []
    for domain, size, traceback, nframe, interp in raw:
        key = (domain, interp)
        d = domains.get(key)
        if d is None:
            d = domains[key] = _Domain(domain, interp)
        traceback = tracebacks.setdefault(traceback, traceback)
        out.append((d, size, traceback, nframe))
    return out


def _get_traces(all_interpreters=False):
    """Like _tracemalloc._get_traces(): one (domain, size, traceback,
    total_nframe) tuple per live traced block of this interpreter (of every
    interpreter with all_interpreters=True); each domain also carries the
    allocating interpreter's id (Trace.interpreter)."""
    return _traces_from_c(_interpsan_tracemalloc._get_traces(all_interpreters))


class InterpreterFilter(_BaseFilter):
    """Keeps (inclusive=True) or drops the traces of one interpreter."""

    def __init__(self, inclusive, interpreter):
        super().__init__(inclusive)
        self._interpreter = interpreter

    @property
    def interpreter(self):
        return self._interpreter

    def _match(self, trace):
        return (_interpreter_of(trace) == self._interpreter) ^ (not self.inclusive)


class Snapshot(_StdlibSnapshot):
    def statistics(self, key_type, cumulative=False):
        if key_type != "interpreter":
            return super().statistics(key_type, cumulative)
        groups = {}
        for trace in self.traces._traces:
            interp = _interpreter_of(trace)
            size, count = groups.get(interp, (0, 0))
            groups[interp] = (size + trace[1], count + 1)
        stats = [
            _Statistic(_Traceback((("<interpreter %s>" % interp, 0),)), size, count)
            for interp, (size, count) in groups.items()
        ]
        stats.sort(reverse=True, key=_Statistic._sort_key)
        return stats

    def filter_traces(self, filters):
        filtered = super().filter_traces(filters)
        return Snapshot(filtered.traces._traces, filtered.traceback_limit)

    def dump(self, filename):
        """Writes the snapshot in the stdlib's format: stock tracemalloc's
        Snapshot.load() reads it (the interpreter ids ride along in an extra
        attribute that Snapshot.load() here puts back)."""
        portable = _StdlibSnapshot.__new__(_StdlibSnapshot)
        portable.__dict__.update(self.__dict__)
        interpreters = [_interpreter_of(t) for t in self.traces._traces]
        if any(i is not None for i in interpreters):
            portable._interpsan_interpreters = interpreters
        with open(filename, "wb") as fp:
            _PortablePickler(fp, _pickle.HIGHEST_PROTOCOL).dump(portable)

    @staticmethod
    def load(filename):
        loaded = _StdlibSnapshot.load(filename)
        if not isinstance(loaded, Snapshot):
            loaded.__class__ = Snapshot  # keeps every attribute
        interpreters = loaded.__dict__.pop("_interpsan_interpreters", None)
        traces = loaded.traces._traces
        if interpreters is not None and len(interpreters) == len(traces):
            loaded.traces = _stdlib["_Traces"](
                [
                    (_Domain(t[0], i) if i is not None else t[0],) + tuple(t[1:])
                    for t, i in zip(traces, interpreters)
                ]
            )
        return loaded


class _TracemallocModule:
    """Stands for the `tracemalloc` module in a pickle: it loads as whichever
    tracemalloc the loading process imports (stock, or this one inside an
    interpsan run)."""

    def __reduce__(self):
        return (_importlib.import_module, ("tracemalloc",))


# The classes a Snapshot's pickle names, by their stdlib names.
_PORTABLE_CLASSES = {
    Snapshot: "Snapshot",
    _StdlibSnapshot: "Snapshot",
    _stdlib["_Traces"]: "_Traces",
}


class _PortablePickler(_pickle.Pickler):
    """Pickles a Snapshot exactly as stock tracemalloc does: classes by their
    `tracemalloc.NAME`, domains as plain ints."""

    def reducer_override(self, obj):
        if type(obj) is _Domain:
            return (int, (int(obj),))
        if isinstance(obj, type):
            name = _PORTABLE_CLASSES.get(obj)
            if name is not None:
                return (getattr, (_TracemallocModule(), name))
        return NotImplemented


def take_snapshot(all_interpreters=False):
    """A snapshot of this interpreter's traces (of every interpreter's with
    all_interpreters=True)."""
    if not is_tracing():
        raise RuntimeError(
            "the tracemalloc module must be tracing memory allocations to take a snapshot"
        )
    traces = _get_traces(all_interpreters) if all_interpreters else _get_traces()
    return Snapshot(traces, get_traceback_limit())


def interpreter_id():
    """The id of the calling interpreter, as Trace.interpreter reports it."""
    return _interpsan_tracemalloc._interpreter_id()
