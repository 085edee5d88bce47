"""Wall time of one notebook's grid serially and on a LocalCluster, measured side by side in one run.

Run with ``.venv/bin/python benchmarks/grid_speed.py`` (needs ``make data`` and notebook 01's processed files).
The grid is notebook 02's NAB part: DeepAnT as 02 trains it (45 steps of history, 25 epochs, batch 64) on the
first ``--series`` NAB series x ``--seeds`` seeds, one task per (seed, series), through
``evaluation.nab_runs``. It runs three ways, one after another in this process:

1. ``serial``: every task in this process;
2. ``local, 1 worker``: a LocalCluster with one worker process (the runner's own overhead: start-up, sending
   data and tasks, importing TensorFlow in the worker);
3. ``local, N workers``: a LocalCluster with as many one-thread workers as usable cores (the default).

It prints the machine, the thread settings, the wall time of each (cluster start-up included, and apart), the
ratio to serial, and whether every raw score equals the serial run's bit for bit. Not a test: nothing here is
asserted, the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

from anomalylab import config, datasets, evaluation, runner
from anomalylab.models.forecasters import DEEPANT, CNNForecaster
from anomalylab.reporting.provenance import hardware


def deepant(seed):
    return CNNForecaster(lookback=45, **DEEPANT, epochs=25, patience=None, seed=seed)


def timed_run(corpus: pd.DataFrame, seeds: tuple, scheduler: str) -> tuple[dict, float, float]:
    """The runs, the wall time with the cluster's start-up and the start-up alone."""
    start = time.perf_counter()
    client = runner.client(scheduler)
    if client is not None:
        client.wait_for_workers(runner.n_workers(), timeout=120)
    startup = time.perf_counter() - start
    runs = evaluation.nab_runs(deepant, corpus, seeds=seeds, desc=scheduler, progress=False)
    wall = time.perf_counter() - start
    runner.shutdown()
    return runs, wall, startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=12, help="first N NAB series of the corpus (default 12)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per series (default 2)")
    args = parser.parse_args()
    cfg = config.RunConfig.create(False)
    nab = datasets.load_processed("nab", cfg)
    corpus = nab[nab["series"].isin(nab["series"].unique()[: args.series])]
    seeds = tuple(range(args.seeds))
    cores = runner.n_workers()
    machine = hardware()
    print(f"machine: {platform.platform()}, {machine['logical_cores']} logical cores, {machine['usable_cores']} "
          f"usable; Python {platform.python_version()}")  # fmt: skip
    print("threads: " + ", ".join(f"{k}={os.environ.get(k)}" for k in config.TF_SETTINGS) + " (every process)")
    print(f"grid: DeepAnT on {corpus['series'].nunique()} NAB series ({len(corpus):,} rows) x {len(seeds)} seeds = "
          f"{corpus['series'].nunique() * len(seeds)} tasks\n")  # fmt: skip
    rows, reference = [], None
    for label, scheduler, workers in [("serial", "serial", None), ("local, 1 worker", "local", 1),
                                      (f"local, {cores} workers", "local", cores)]:  # fmt: skip
        if workers is not None:
            os.environ[runner.WORKERS_ENV] = str(workers)
        runs, wall, startup = timed_run(corpus, seeds, scheduler)
        scores = np.concatenate([runs[s]["raw_score"].to_numpy() for s in seeds])
        reference = scores if reference is None else reference
        rows.append({"schedule": label, "wall s": wall, "cluster start-up s": startup,
                     "wall without start-up s": wall - startup,
                     "same raw scores as serial": bool(np.array_equal(scores, reference, equal_nan=True))})  # fmt: skip
    os.environ.pop(runner.WORKERS_ENV, None)
    table = pd.DataFrame(rows)
    serial = table.loc[0, "wall s"]
    table["ratio to serial"] = table["wall s"] / serial
    table["ratio without start-up"] = table["wall without start-up s"] / serial
    print(table.round(2).to_markdown(index=False))


if __name__ == "__main__":
    main()
