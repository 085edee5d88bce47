"""The seed project's spike series (synthetic spikes labelled by a rolling-median rule; a chronological 80/20 split)."""

from anomalylab.suites.spike.experiments import *  # noqa: F403  (the room's grids, rules and constants)
from anomalylab.suites.spike.experiments import __all__  # noqa: F401  (what `import *` of the room gives)
