"""`python -m interpsan.tracemalloc_export ...`: runs the bundled
tools/tracemalloc_export.py (collapsed stacks, speedscope, HTML flame graphs
from a run's events.jsonl) with the given arguments."""

import os
import runpy
import sys

from interpsan import TOOLS_DIR

if __name__ == "__main__":
    script = os.path.join(TOOLS_DIR, "tracemalloc_export.py")
    sys.argv[0] = script
    runpy.run_path(script, run_name="__main__")
