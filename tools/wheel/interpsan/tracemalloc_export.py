"""`python -m interpsan.tracemalloc_export ...`: runs the bundled
tools/report/tracemalloc_export.py (collapsed stacks, speedscope, HTML flame graphs
from a run's events.jsonl) with the given arguments."""

import os
import runpy
import sys

from interpsan import REPORT_DIR

if __name__ == "__main__":
    script = os.path.join(REPORT_DIR, "tracemalloc_export.py")
    sys.argv[0] = script
    runpy.run_path(script, run_name="__main__")
