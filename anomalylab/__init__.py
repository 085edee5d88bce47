"""anomalylab: helpers for reproducible deep-learning anomaly detection.

The package is layered (``docs/package.md`` in the repository says what each module holds): ``paths`` and
``errors`` first, then ``config``, ``datasets``, ``preprocessing``, ``models``, ``thresholds``, ``metrics``,
``runner``, ``evaluation``, ``reporting`` and ``plotting``. A module imports only modules listed before it.
"""

import os

# TensorFlow's C++ start-up chatter (CUDA probes, CPU flags, graph attribute notes) would fill every notebook
# output; Python errors still raise. Set TF_CPP_MIN_LOG_LEVEL yourself before importing to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Same seed, same numbers whatever the machine: TensorFlow's results depend on how many threads it splits an op
# over (which otherwise follows the core count) and on oneDNN's kernels. Both are fixed here, before TensorFlow
# is imported; parallelism comes from running independent fits in separate processes. See config.TF_SETTINGS.
os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
os.environ["TF_NUM_INTEROP_THREADS"] = "1"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
# The same holds for the BLAS and OpenMP pools under NumPy and scikit-learn (K-Means, logistic regression): their
# sums depend on the thread count too. Libraries loaded later read these variables; those already loaded (a
# notebook imports NumPy first) are limited now through threadpoolctl, and again by config.set_seed.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

from threadpoolctl import threadpool_limits  # noqa: E402 (after the variables, which it must not pre-empt)

threadpool_limits(limits=1)

__version__ = "0.1.0"
