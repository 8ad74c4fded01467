"""A plain CPython program (no interpsan module needed) that creates 4
isolated interpreters itself, as an embedder or a test runner would, and
runs PROGRAM (a file from this folder) in each of them at once:

    python3.X exec_interpreters.py PROGRAM EXTENSIONS_DIR

Run under `tools/interpsan exec`, the interpreters it creates are checked."""
import os
import sys
import threading

try:
    import _interpreters as interpreters  # 3.13
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.12

program, extensions = sys.argv[1], sys.argv[2]
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), program)) as f:
    body = f.read()
# Interpreters created this way have no `interpsan` module: give the
# programs the little they use of it.
prelude = (
    "import sys, types\n"
    "sys.path.insert(0, %r)\n"
    "sys.modules.setdefault('interpsan', types.SimpleNamespace(index=0, interpreter_id=0))\n"
    % extensions
)
ids = [interpreters.create() for _ in range(4)]
errors = []


def run(interp):
    try:
        interpreters.run_string(interp, prelude + body)
    except Exception as exc:  # noqa: BLE001 - reported below
        errors.append(exc)


threads = [threading.Thread(target=run, args=(i,)) for i in ids]
for t in threads:
    t.start()
for t in threads:
    t.join()
for i in ids:
    interpreters.destroy(i)
print("exec_interpreters done", len(ids), "errors:", errors)
sys.exit(1 if errors else 0)
