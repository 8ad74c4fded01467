"""A plain CPython program (run with `tools/interpsan exec`) that carries
objects between two interpreters it creates itself, through
broken_queue's C static array: interpreter A puts floats, interpreter B
drains them (expect cross-interpreter-dealloc, blamed on broken_queue: the
interpreters module that runs the code is on the stack too, and is never
the one to blame).

    python3.X queue_via_interpreters.py EXTENSIONS_DIR"""
import sys

try:
    import _interpreters as interpreters  # 3.13

    def run(interp, code):
        error = interpreters.exec(interp, code)
        if error is not None:
            raise RuntimeError(error)
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.12

    def run(interp, code):
        interpreters.run_string(interp, code)

prelude = "import sys; sys.path.insert(0, %r); import broken_queue\n" % sys.argv[1]
producer, consumer = interpreters.create(), interpreters.create()
run(producer, prelude + "for i in range(16): broken_queue.put(float(i) + 0.5)\n")
run(consumer, prelude + "broken_queue.drain()\n")
interpreters.destroy(consumer)
interpreters.destroy(producer)
print("queue_via_interpreters done")
