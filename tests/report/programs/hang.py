"""Every interpreter sleeps far past the watchdog (--timeout)."""
import time


def stuck():
    time.sleep(60)  # HANG


stuck()
