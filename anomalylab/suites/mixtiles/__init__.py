"""The Mixtiles hourly traffic benchmark (expert-labelled anomalies, a fixed chronological split)."""

from anomalylab.suites.mixtiles.experiments import *  # noqa: F403  (the room's grids, rules and constants)
from anomalylab.suites.mixtiles.experiments import __all__  # noqa: F401  (what `import *` of the room gives)
