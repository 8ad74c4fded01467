"""`python -m interpsan.example` prints the path of the bundled example
program (tools/example/demo.py, next to its fastcache extension), so that

    interpsan run -n 4 --report /tmp/interpsan-example -- "$(python -m interpsan.example)"

runs it: interpsan stops at the object fastcache passes between
interpreters, names fastcache.c, and exits 3.
"""

import sys

from interpsan import EXAMPLE_DEMO

if __name__ == "__main__":
    print(EXAMPLE_DEMO)
    sys.exit(0)
