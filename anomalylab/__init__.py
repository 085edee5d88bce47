"""anomalylab: helpers for reproducible deep-learning anomaly detection.

The package is layered (see ``DESIGN.md`` of the project): ``paths`` and
``errors`` first, then ``config``, ``datasets``, ``preprocessing``,
``models``, ``thresholds``, ``metrics``, ``evaluation``, ``reporting`` and
``plotting``. A module imports only modules listed before it.
"""

__version__ = "0.1.0"
