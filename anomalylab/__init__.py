"""anomalylab: helpers for reproducible deep-learning anomaly detection.

The package is layered (``docs/package.md`` in the repository says what each module holds): ``paths`` and
``errors`` first, then ``config``, ``datasets``, ``preprocessing``, ``models``, ``thresholds``, ``metrics``,
``runner``, ``evaluation``, ``reporting`` and ``plotting``. A module imports only modules listed before it.
"""

import os

# Importing anomalylab changes nothing in the host process: a practitioner who imports a detector keeps their own
# thread pools. The fixed numerics of the notebooks and `make reproduce` (TensorFlow and the BLAS/OpenMP pools on
# one thread, oneDNN off: same seed, same numbers on any machine) are a setting: config.use_fixed_numerics(),
# which RunConfig.create, the command line and the runner's workers call, or ANOMALYLAB_FIXED_NUMERICS=1 in the
# environment (the Makefile sets it), which applies it here, before TensorFlow or NumPy's pools start.
if os.environ.get("ANOMALYLAB_FIXED_NUMERICS") == "1":
    from anomalylab.config import use_fixed_numerics as _use_fixed_numerics

    _use_fixed_numerics()

__version__ = "0.1.0"
