"""Every interpreter's program ends with sys.exit(3)."""
import sys

sys.exit(3)
