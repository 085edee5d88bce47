"""``python -m anomalylab detect data.csv --model deepant --out flags.csv``: see :mod:`anomalylab.cli`."""

import sys

from anomalylab.cli import main

sys.exit(main())
