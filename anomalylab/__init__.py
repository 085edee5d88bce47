"""anomalylab: helpers for reproducible deep-learning anomaly detection.

The package is layered (see ``DESIGN.md`` of the project): ``paths`` and
``errors`` first, then ``config``, ``datasets``, ``preprocessing``,
``models``, ``thresholds``, ``metrics``, ``evaluation``, ``reporting`` and
``plotting``. A module imports only modules listed before it.
"""

import os

# TensorFlow's C++ start-up chatter (CUDA probes, CPU flags, graph attribute notes) would fill every notebook
# output; Python errors still raise. Set TF_CPP_MIN_LOG_LEVEL yourself before importing to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"
