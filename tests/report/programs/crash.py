"""The interpreter with index 0 kills the process with SIGSEGV while the
others wait in a nested call (a crash dump with a frame per interpreter)."""
import os
import signal
import time

import interpsan


def wait_here():
    time.sleep(10)  # WAITING


def crash_here():
    time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGSEGV)  # CRASH


if interpsan.index == 0:
    crash_here()
wait_here()
