"""`python -m interpsan ...`: the same as the `interpsan` command."""

import sys

from interpsan._cli import main

sys.exit(main())
