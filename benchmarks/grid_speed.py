"""Wall time of one notebook's grid serially and on a LocalCluster, measured side by side in one run.

Run with ``.venv/bin/python benchmarks/grid_speed.py`` (needs ``make data`` and notebook 01's processed files).
The grid is notebook 02's NAB part: DeepAnT as 02 trains it (45 steps of history, 25 epochs, batch 64) on the
first ``--series`` NAB series x ``--seeds`` seeds, one task per (seed, series), through
``evaluation.nab_runs``. It runs three ways, one after another in this process:

1. ``serial``: every task in this process;
2. ``local, 1 worker``: a LocalCluster with one worker process (the runner's own overhead: start-up, sending
   data and tasks, importing TensorFlow in the worker);
3. ``local, N workers``: a LocalCluster with as many one-thread workers as usable cores (the default).

It prints the machine, the thread settings, the wall time of each (start-up included, and apart: starting the
cluster and importing TensorFlow in each fresh process, a one-off per notebook), the
ratio to serial (best of ``--repeat`` interleaved rounds: this machine's speed drifts by a third from one minute
to the next), and whether every raw score equals the serial run's bit for bit. Not a test: nothing here is
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
    """The runs, the wall time with the start-up and the start-up alone."""
    os.environ[runner.SCHEDULER_ENV] = scheduler  # what evaluation.nab_runs sends its tasks to
    start = time.perf_counter()
    client = runner.client(scheduler)
    if client is not None:
        client.wait_for_workers(runner.n_workers(), timeout=120)
    # TensorFlow's import is a one-off per process: in the parent it happened in an earlier round (or now), in
    # fresh workers it happens here, so the start-up column holds it for every schedule
    import tensorflow  # noqa: F401

    if client is not None:
        client.run(lambda: __import__("tensorflow") and None)
    startup = time.perf_counter() - start
    runs = evaluation.nab_runs(deepant, corpus, seeds=seeds, desc=scheduler, progress=False)
    wall = time.perf_counter() - start
    runner.shutdown()
    return runs, wall, startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=12, help="first N NAB series of the corpus (default 12)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per series (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of the three schedules, interleaved (default 2)")
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
    schedules = [("serial", "serial", None), ("local, 1 worker", "local", 1),
                 (f"local, {cores} workers", "local", cores)]
    for round_ in range(args.repeat):  # interleaved, so that a slow spell of the machine hits every schedule
        for label, scheduler, workers in schedules:
            if workers is not None:
                os.environ[runner.WORKERS_ENV] = str(workers)
            runs, wall, startup = timed_run(corpus, seeds, scheduler)
            scores = np.concatenate([runs[s]["raw_score"].to_numpy() for s in seeds])
            reference = scores if reference is None else reference
            same = bool(np.array_equal(scores, reference, equal_nan=True))
            rows.append({"round": round_ + 1, "schedule": label, "wall s": wall, "cluster start-up s": startup,
                         "same raw scores as serial": same})  # fmt: skip
    os.environ.pop(runner.WORKERS_ENV, None)
    table = pd.DataFrame(rows)
    table["wall without start-up s"] = table["wall s"] - table["cluster start-up s"]
    print(table.round(2).to_markdown(index=False), end="\n\n")
    best = table.groupby("schedule", sort=False).agg(**{"best wall s": ("wall s", "min"),
                                                        "start-up s": ("cluster start-up s", "min"),
                                                        "best without start-up s": ("wall without start-up s", "min"),
                                                        "all scores same": ("same raw scores as serial", "all")})
    best["ratio to serial"] = best["best wall s"] / best.loc["serial", "best wall s"]
    best["ratio without start-up"] = best["best without start-up s"] / best.loc["serial", "best without start-up s"]
    print(f"best of {args.repeat} rounds per schedule:")
    print(best.round(2).to_markdown())


if __name__ == "__main__":
    main()
