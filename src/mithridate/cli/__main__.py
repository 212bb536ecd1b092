"""`python -m mithridate.cli ...`: the same as the `mithridate` command."""

import sys

from . import main

sys.exit(main())
