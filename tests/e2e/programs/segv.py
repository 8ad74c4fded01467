"""The interpreter with index 0 kills the process with SIGSEGV while the
others are still running (expect status 4, crash.signal == "SIGSEGV")."""
import os
import signal
import time

import interpsan

if interpsan.index == 0:
    time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGSEGV)
time.sleep(5)
