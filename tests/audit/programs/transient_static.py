"""A foreign object that sits in an extension's static memory for a while
and is gone before the program ends (unittest, run in every interpreter).

Interpreter index 0 puts one of its lists into broken_queue's C static
array in its first test. Every other interpreter waits for it there, then
runs FILLER more tests while the static still holds the list (each test's
end is an audit checkpoint), and then says so with a marker file in
argv[1]. Once all of them have, interpreter 0 drains the queue itself (its
own object: no cross-interpreter deallocation) and overwrites the slot with
None; the others wait for that before they end. At the program's end the
static holds no foreign object: only an audit after a test can see the bug.

With argv[2] == "own", only one interpreter is expected (-n 1): it holds
its own list in the static across tests, which is not a violation.
"""
import os
import sys
import time
import unittest

import broken_queue
import interpsan

MARKERS = sys.argv[1]
OWN = len(sys.argv) > 2 and sys.argv[2] == "own"
FILLER = 100
TIMEOUT = 30.0


def wait_for(condition, what):
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.002)


def others_done():
    return len(os.listdir(MARKERS)) >= int(os.environ.get("TRANSIENT_OTHERS", "3"))


class TransientStatic(unittest.TestCase):
    def test_000_put_or_wait(self):
        if interpsan.index == 0:
            broken_queue.put(["held by interpreter 0"] * 4)  # VIOLATION
        else:
            wait_for(lambda: broken_queue.size() >= 1, "interpreter 0's put")

    def test_999_release(self):
        if interpsan.index == 0:
            if not OWN:
                wait_for(others_done, "the other interpreters' audits")
            self.assertEqual(broken_queue.drain(), 1)
            # drain() leaves the pointer in the array: overwrite it with an
            # immortal object, so that no stale pointer is left to find.
            broken_queue.put(None)
            self.assertEqual(broken_queue.drain(), 1)
        else:
            # FILLER test ends (audits) have passed while the list was held.
            open(os.path.join(MARKERS, str(interpsan.index)), "w").close()
            # Stay until the static is clean: the end of this program must
            # not see the list either.
            wait_for(lambda: broken_queue.drained() >= 2, "interpreter 0's drain")


def _filler(self):
    self.assertGreaterEqual(broken_queue.size() + broken_queue.drained(), 1)


for _i in range(1, FILLER + 1):
    setattr(TransientStatic, "test_%03d_filler" % _i, _filler)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
