"""What the fit cache saves on a rerun, measured side by side in one process: one KDD K1 draw with notebook 04's
classical detectors and two deep ones, run without a cache, then with an empty cache (every fit stored), then again
(every fit read back); the rows of the three runs are compared (times aside). A first run, not counted, warms up the
imports. Serially, in one process. One seeded draw of a 20,000-row sample of each KDD file::

    .venv/bin/python benchmarks/fit_cache.py            # about three minutes on 2 cores

The cache lives in a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import os
import tempfile
import time

import pandas as pd

from anomalylab import datasets, evaluation
from anomalylab.config import use_fixed_numerics
from anomalylab.evaluation.fitcache import CACHE_ENV
from anomalylab.models.autoencoders import DenseAutoencoder
from anomalylab.models.classical import IsolationForestDetector, OneClassSVMDetector, PCAReconstruction
from anomalylab.models.selfsupervised import DeepSVDD
from anomalylab.runner import SCHEDULER_ENV

ROWS = 20_000
SEEDS = (0, 1)


def models() -> dict:
    rules = {"val_q95": evaluation.table_rule_val_quantile(0.95)}
    return {
        "pca": (lambda seed: PCAReconstruction(n_components=0.95), SEEDS, rules),
        "ocsvm": (lambda seed: OneClassSVMDetector(nu=0.01, max_train_rows=5_000, seed=seed), SEEDS, rules),
        "isolation_forest": (lambda seed: IsolationForestDetector(n_estimators=200, seed=seed), SEEDS, rules),
        "autoencoder": (lambda seed: DenseAutoencoder(epochs=5, batch_size=1024, seed=seed), SEEDS, rules),
        "deep_svdd": (lambda seed: DeepSVDD(epochs=5, batch_size=1024, seed=seed), SEEDS, rules),
    }


def run(splits) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    table, _ = evaluation.evaluate_table_grid(models(), splits, progress=False, desc="K1 draw 0")
    return table, time.perf_counter() - start


def main() -> None:
    # in this process: the runner keeps its Dask workers for the process, and a worker reads ANOMALYLAB_FIT_CACHE
    # once, when it starts (docs/package.md), so the three runs' settings could not reach a kept cluster
    os.environ[SCHEDULER_ENV] = "serial"
    use_fixed_numerics()
    train = datasets.load_kdd("train").sample(ROWS, random_state=0).sort_index()
    test = datasets.load_kdd("test").sample(ROWS, random_state=0).sort_index()
    splits = evaluation.kdd_protocol_k1(train, test, seed=0, n_inliers=2_000, n_outliers=500)
    os.environ.pop(CACHE_ENV, None)
    run(splits)  # a first run warms up what every later one reuses (imports, the workers' TensorFlow): not counted
    fresh, fresh_s = run(splits)
    with tempfile.TemporaryDirectory() as folder:
        os.environ[CACHE_ENV] = folder
        cold, cold_s = run(splits)
        warm, warm_s = run(splits)
        entries = len([f for f in os.listdir(folder) if f.endswith(".npz")])
        del os.environ[CACHE_ENV]
    untimed = ~fresh["metric"].str.endswith("_seconds")
    out = pd.DataFrame([
        {"run": "empty cache (fit, then store)", "seconds": cold_s, "rows equal to the uncached run":
         cold[untimed].equals(fresh[untimed])},
        {"run": f"warm cache ({entries} entries read back)", "seconds": warm_s, "rows equal to the uncached run":
         warm[untimed].equals(fresh[untimed])},
        {"run": "no cache", "seconds": fresh_s, "rows equal to the uncached run": True},
    ])  # fmt: skip
    out["ratio to no cache"] = out["seconds"] / fresh_s
    print(f"K1 draw 0 on a {ROWS:,}-row sample of each file; {len(models())} models x {len(SEEDS)} seeds")
    print(out.round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
