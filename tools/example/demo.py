"""interpsan's bundled example: a program using the `fastcache` extension.

Run it in 4 interpreters at once, each with its own GIL:

    tools/interpsan run -n 4 --report /tmp/interpsan-example -- tools/example/demo.py

interpsan stops at the first object that crosses between interpreters and
names fastcache.c as the culprit (exit status 3).
"""

import os
import sys

# The launcher builds fastcache next to the runner; find it there.
sys.path.insert(0, os.path.join(os.environ.get("INTERPSAN_BIN_DIR", ""), "tools", "example"))

import fastcache
import interpsan


def square_table(n):
    return [i * i for i in range(n)]


def main():
    total = 0
    for n in range(200):
        # Each interpreter caches its own tables, in what it believes is its
        # own cache.
        key = "interpreter-%d/table-%d" % (interpsan.index, n)
        total += len(fastcache.cached(key, lambda: square_table(n)))
    print("interpreter %d: %d cached items" % (interpsan.index, total))


main()
