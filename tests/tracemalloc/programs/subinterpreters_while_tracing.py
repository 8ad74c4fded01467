"""Tracing while own-GIL subinterpreters start and stop, where stock
tracemalloc hangs (3.12.1 and 3.13.0: tracemalloc.start() followed by
creating an own-GIL subinterpreter).

Every interpreter of the run starts tracing, then ROUNDS times creates an
own-GIL subinterpreter from Python (3.12: _xxsubinterpreters, 3.13:
_interpreters; both default to an isolated interpreter with its own GIL),
runs code in it that allocates, and destroys it; then stops tracing. The
test driver runs it under --timeout and expects exit status 0.
"""
import sys
import tracemalloc

try:
    import _interpreters as subinterpreters  # 3.13
except ImportError:
    import _xxsubinterpreters as subinterpreters  # 3.12

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10

CODE = """
data = [bytes(1000) for _ in range(200)]
text = "-".join(str(i) for i in range(2000))
table = {i: (i, str(i)) for i in range(500)}
del data
"""

tracemalloc.start(5)
assert tracemalloc.is_tracing()
before, _ = tracemalloc.get_traced_memory()
for _ in range(ROUNDS):
    interp = subinterpreters.create()
    subinterpreters.run_string(interp, CODE)
    subinterpreters.destroy(interp)
    keep = [str(i) for i in range(100)]  # this interpreter still traces
snapshot = tracemalloc.take_snapshot()
assert len(snapshot.traces) > 0
current, peak = tracemalloc.get_traced_memory()
assert peak >= current > 0, (current, peak)
tracemalloc.stop()
assert not tracemalloc.is_tracing()
print("subinterpreters while tracing: %d rounds ok" % ROUNDS)
