"""sleepers.py MARKER_DIR

Every interpreter writes MARKER_DIR/sleeping-INDEX (the checked process's
pid) and then sleeps in sleeping_function() for ten minutes: a run that ends
only when it is stopped (Ctrl-C, SIGTERM)."""

import os
import sys
import time

import interpsan


def sleeping_function():
    path = os.path.join(sys.argv[1], "sleeping-%d" % interpsan.index)
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    time.sleep(600)


sleeping_function()
