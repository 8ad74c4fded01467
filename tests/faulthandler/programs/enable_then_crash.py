"""enable_then_crash.py OUT_DIR FAULT_INDEX

Each interpreter calls faulthandler.enable(file=OUT_DIR/enabled-N.txt) and
waits in waiting_after_enable_N(); then the interpreter with index
FAULT_INDEX calls crashers.segv(). The fatal dump must reach every enabled
file as well as stderr."""

import faulthandler
import os
import sys
import time

import crashers
import interpsan

out_dir, fault_index = sys.argv[1], int(sys.argv[2])
index = interpsan.index
N = 4

enabled_file = open(os.path.join(out_dir, "enabled-%d.txt" % index), "w")
faulthandler.enable(file=enabled_file)
open(os.path.join(out_dir, "ready-%d" % index), "w").close()


def all_ready():
    return all(os.path.exists(os.path.join(out_dir, "ready-%d" % i)) for i in range(N))


def waiting_after_enable_0(): time.sleep(60)
def waiting_after_enable_1(): time.sleep(60)
def waiting_after_enable_2(): time.sleep(60)
def waiting_after_enable_3(): time.sleep(60)


if index == fault_index:
    deadline = time.monotonic() + 30
    while not all_ready() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    crashers.segv()
globals()["waiting_after_enable_%d" % index]()
