"""on_demand.py MARKER_DIR

Every interpreter waits in known functions (waiting.py) until the file
MARKER_DIR/release appears, then ends normally. Each writes os.getpid()
(the checked process, not the supervisor) into its marker files, so the
test can send that process SIGUSR1."""

import sys

import waiting

marker_dir = sys.argv[1]
helper = waiting.start_helper(marker_dir)
waiting.wait_here(marker_dir)
helper.join()
