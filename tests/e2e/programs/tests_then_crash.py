"""tests_then_crash.py MARKER_DIR (run with -n 2)

A unittest program: test_1..test_3 pass in both interpreters. In test_4,
index 1 says so in MARKER_DIR/in-test-4-1 and sleeps; index 0 waits for
that and kills the process with SIGSEGV. Expect status 4 and, for both
interpreters, the 3 results recorded before the crash: tests.run == 3."""
import os
import signal
import sys
import threading
import time
import unittest

import interpsan

MARKER_DIR = sys.argv.pop(1)


class BeforeTheCrash(unittest.TestCase):
    def test_1(self):
        pass

    def test_2(self):
        pass

    def test_3(self):
        pass

    def test_4(self):
        marker = os.path.join(MARKER_DIR, "in-test-4-1")
        if interpsan.index == 1:
            with open(marker, "w"):
                pass
            time.sleep(600)
        deadline = time.monotonic() + 60
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.01)
        # In this thread (os.kill could hit any thread of the process).
        signal.pthread_kill(threading.get_ident(), signal.SIGSEGV)


if __name__ == "__main__":
    unittest.main()
