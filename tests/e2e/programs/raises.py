"""Every interpreter's program fails with an uncaught exception."""
import interpsan


def fail():
    raise ValueError("e2e-boom from index %d" % interpsan.index)  # RAISE


fail()
