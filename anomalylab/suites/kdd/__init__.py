"""KDD Cup 99 (the K1 and K2 protocols of the tabular detectors)."""

from anomalylab.suites.kdd.experiments import *  # noqa: F403  (the room's grids, rules and constants)
from anomalylab.suites.kdd.experiments import __all__  # noqa: F401  (what `import *` of the room gives)
