"""Passes K fresh lists to leaky.keep(), which keeps a new reference to each
in a C array forever: when the interpreter ends they are all still alive, so
report.json's `leaks` must show this file's KEEP line with >= K blocks, for
every interpreter of the run."""
import sys

import leaky

K = int(sys.argv[1]) if len(sys.argv) > 1 else 200

for _ in range(K):
    leaky.keep([0] * 1000)  # KEEP
