"""NAB's development half only: DeepAnT as notebook 02 trains it against the streaming forecaster, each with the
rolling Gaussian rescale (notebook 02's today) and with HTM's anomaly likelihood.

Run with ``.venv/bin/python benchmarks/nab_streaming_dev.py --seeds 0 1 2`` (needs the NAB files: ``make data``).
It reads the 27 development series of ``datasets.nab_split()`` and nothing of the evaluation half, so the choice
it informs (which detector and which score rule go to the evaluation half) stays honest. Each score is the
development half's NAB score at the threshold that maximises it (``evaluation.nab_half_score``). Every parameter
is fixed in advance: DeepAnT as in notebook 02 (lookback 45, 25 epochs on the probationary rows), the streaming
schedule at its defaults (fine-tune every 500 forecasts, 2 epochs, on the last 2,000 windows; ``streaming_skip_q99``
leaves out of fine-tuning the windows whose error is above the q99 of the training errors) and the likelihood
at HTM's (NAB's periods, averaging window 10, spatial tolerance 0.05). Prints one row per (detector, score rule,
profile) with the mean and 95 % interval over seeds, the seconds per seed, and NAB's own shipped ``numenta``
detector on the same half for reference. Not a test; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from anomalylab import datasets
from anomalylab.evaluation.nab import nab_half_score, nab_rescale, nab_runs
from anomalylab.metrics import NAB_PROFILE_METRIC
from anomalylab.models.forecasters import DEEPANT, CNNForecaster, StreamingForecaster
from anomalylab.reporting.stats import mean_ci

DETECTORS = {
    "deepant": lambda seed: CNNForecaster(lookback=45, **DEEPANT, epochs=25, patience=None, seed=seed),
    "streaming": lambda seed: StreamingForecaster(lookback=45, **DEEPANT, epochs=25, patience=None, seed=seed),
    # issue 33: fine-tuning that does not learn the windows it has just scored above its training errors' q99
    "streaming_skip_q99": lambda seed: StreamingForecaster(lookback=45, **DEEPANT, epochs=25, patience=None,
                                                           seed=seed, refit_skip_quantile=0.99),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--detectors", nargs="+", choices=list(DETECTORS), default=list(DETECTORS))
    args = parser.parse_args()
    split = datasets.nab_split()
    dev = list(split[split == "dev"].index)
    corpus, windows = datasets.nab_corpus_frame(dev), datasets.nab_windows_frame(dev)
    rows = []
    for name in args.detectors:
        make = DETECTORS[name]
        start = time.perf_counter()
        runs = nab_runs(make, corpus, seeds=args.seeds, rescale="probation", desc=f"{name} (dev half)")
        seconds = (time.perf_counter() - start) / len(args.seeds)
        for seed, run in runs.items():
            for rescale in ("rolling", "likelihood"):
                scored = nab_rescale(run, rescale)
                for profile in NAB_PROFILE_METRIC:
                    rows.append({"detector": name, "score rule": rescale, "profile": profile, "seed": seed,
                                 "score": nab_half_score(scored, windows, split, "dev", profile),
                                 "seconds per seed": seconds})  # fmt: skip
    table = pd.DataFrame(rows)
    stats = table.groupby(["detector", "score rule", "profile"], sort=False).agg(
        mean=("score", "mean"), std=("score", "std"), n=("score", "count"), seconds=("seconds per seed", "first"))
    stats["dev-half NAB score"] = [mean_ci(m, s, n, 1) for m, s, n in zip(stats["mean"], stats["std"], stats["n"])]
    print(f"NAB development half ({len(dev)} series), seeds {args.seeds}:")
    print(stats[["dev-half NAB score", "seconds"]].round(0).reset_index().to_markdown(index=False))
    shipped = datasets.load_nab_detector_results("numenta", dev)
    print("NAB's shipped numenta (HTM) on the same half: " + ", ".join(
        f"{p} {nab_half_score(shipped, windows, split, 'dev', p):.1f}" for p in NAB_PROFILE_METRIC))  # fmt: skip


if __name__ == "__main__":
    main()
