"""The Numenta Anomaly Benchmark (58 series, NAB v1.1's scorer, its development and evaluation halves)."""

from anomalylab.suites.nab.experiments import *  # noqa: F403  (the room's grids, rules and constants)
from anomalylab.suites.nab.experiments import __all__  # noqa: F401  (what `import *` of the room gives)
