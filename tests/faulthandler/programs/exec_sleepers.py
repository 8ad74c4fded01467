"""exec_sleepers.py MARKER_DIR

A plain CPython program for `interpsan exec`: it creates one isolated
interpreter itself, and both it (in a thread) and the main interpreter sleep
in sleeping_function() for ten minutes, after writing
MARKER_DIR/sleeping-sub and MARKER_DIR/sleeping-main."""

import os
import sys
import threading
import time

try:
    import _interpreters as interpreters  # 3.13
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.12

marker_dir = sys.argv[1]

BODY = '''
import os, time
def sleeping_function():
    path = os.path.join(%r, "sleeping-sub")
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    time.sleep(600)
sleeping_function()
''' % marker_dir


def sleeping_function():
    path = os.path.join(marker_dir, "sleeping-main")
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    time.sleep(600)


sub = interpreters.create()
threading.Thread(target=interpreters.run_string, args=(sub, BODY), daemon=True).start()
sleeping_function()
