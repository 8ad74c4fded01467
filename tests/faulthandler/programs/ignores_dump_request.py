"""ignores_dump_request.py MARKER_DIR

A plain CPython program for `interpsan exec` that ignores SIGUSR1, the
supervisor's dump request, then writes MARKER_DIR/sleeping-main and sleeps
in sleeping_function() for ten minutes: only a second Ctrl-C (or the grace
period) ends it."""

import os
import signal
import sys
import time

signal.signal(signal.SIGUSR1, signal.SIG_IGN)


def sleeping_function():
    path = os.path.join(sys.argv[1], "sleeping-main")
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    time.sleep(600)


sleeping_function()
