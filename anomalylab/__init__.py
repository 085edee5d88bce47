"""anomalylab: helpers for reproducible deep-learning anomaly detection.

The package is layered (``docs/package.md`` in the repository says what each module holds), in the order of
:data:`LAYERS`: a module imports only modules of its own layer or of layers listed before it, and no two modules
import each other, even through others (``tests/test_layers.py`` checks both, imports inside functions included).
"""

import os

LAYERS = ("errors", "paths", "extras", "config", "datasets", "preprocessing", "models", "thresholds", "metrics",
          "runner", "evaluation", "reporting", "plotting", "suites", "explorer", "cli")  # fmt: skip

# Importing anomalylab changes nothing in the host process: a practitioner who imports a detector keeps their own
# thread pools. The fixed numerics of the notebooks and `make reproduce` (TensorFlow and the BLAS/OpenMP pools on
# one thread, oneDNN off: same seed, same numbers on any machine) are a setting: config.use_fixed_numerics(),
# which RunConfig.create, the command line and the runner's workers call, or ANOMALYLAB_FIXED_NUMERICS=1 in the
# environment (the Makefile sets it), which applies it here, before TensorFlow or NumPy's pools start.
if os.environ.get("ANOMALYLAB_FIXED_NUMERICS") == "1":
    from anomalylab.config import use_fixed_numerics as _use_fixed_numerics

    _use_fixed_numerics()

__version__ = "0.1.0"
