"""Speed of the CNN forecasters on this machine: scoring throughput and fit seconds per NAB series.

Run with ``.venv/bin/python benchmarks/forecaster_speed.py`` (needs the NAB files: ``make data``).
Prints the machine, the thread settings and two tables:

1. scoring throughput in windows per second, for DeepAnT and its attention variants, through the package
   (``CNNForecaster.score_samples``: windows, scaling, the network and the error; the network runs as one traced
   graph per model from 50,000 windows on, eagerly below) and, for comparison, the network alone through Keras
   ``model.predict``;
2. fit seconds per NAB series for DeepAnT as notebook 02 trains it (probationary rows, 25 epochs, batch 64);
3. with ``--streaming-series N``: seconds per NAB series (fit plus scoring) of DeepAnT and of the
   :class:`~anomalylab.models.forecasters.StreamingForecaster` on the same series, side by side, and their ratio
   (the streaming detector does its learning while it scores).

Not a test: numbers depend on the machine. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

from anomalylab import datasets
from anomalylab.models.forecasters import DEEPANT, CNNForecaster, StreamingForecaster


def best_of(fn, repeat: int = 3) -> float:
    """Shortest wall time of ``repeat`` calls (the least disturbed one)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def throughput_table(n_windows: int, lookback: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    train = pd.Series(np.sin(np.arange(2000) / 10) + rng.normal(0, 0.1, 2000))
    series = pd.Series(np.sin(np.arange(n_windows + lookback) / 10) + rng.normal(0, 0.1, n_windows + lookback))
    rows = []
    for attention in (None, "additive", "self"):
        det = CNNForecaster(lookback=lookback, **DEEPANT, attention=attention, epochs=1, patience=None).fit(train)
        det.score_samples(series.iloc[: lookback + 10])  # warm-up
        direct = best_of(lambda det=det: det.score_samples(series))
        windows = det._windows(series).X.astype("float32")
        keras_predict = best_of(
            lambda det=det, windows=windows: det.model_.predict(windows, batch_size=4096, verbose=0)
        )
        rows.append({
            "model": f"deepant{'' if attention is None else '_' + attention + '_attention'}",
            "lookback": lookback,
            "windows": n_windows,
            "score_samples windows/s": round(n_windows / direct),
            "keras predict windows/s": round(n_windows / keras_predict),
        })  # fmt: skip
    return pd.DataFrame(rows)


def nab_fit_table(names: list[str], epochs: int = 25) -> pd.DataFrame:
    rows = []
    for name in names:
        values = datasets.load_nab(name)["value"]
        probation = datasets.nab_probationary_length(len(values))
        det = CNNForecaster(lookback=45, **DEEPANT, epochs=epochs, patience=None, seed=0)
        start = time.perf_counter()
        det.fit(values.iloc[:probation])
        fit = time.perf_counter() - start
        start = time.perf_counter()
        det.score_samples(values)
        score = time.perf_counter() - start
        rows.append({"series": name, "rows": len(values), "training rows": probation,
                     "fit s": round(fit, 2), "score s": round(score, 3)})  # fmt: skip
    return pd.DataFrame(rows)


def streaming_table(names: list[str], epochs: int = 25, **schedule) -> pd.DataFrame:
    """Fit-plus-score seconds per NAB series: DeepAnT as in notebook 02, then the streaming forecaster."""
    rows = []
    for name in names:
        values = datasets.load_nab(name)["value"]
        probation = values.iloc[: datasets.nab_probationary_length(len(values))]
        seconds = {}
        for label, make in {"deepant": CNNForecaster, "streaming": StreamingForecaster}.items():
            det = make(lookback=45, **DEEPANT, epochs=epochs, patience=None, seed=0,
                       **(schedule if make is StreamingForecaster else {}))  # fmt: skip
            start = time.perf_counter()
            det.fit(probation).score_samples(values)
            seconds[label] = time.perf_counter() - start
        rows.append({"series": name, "rows": len(values), "deepant s": round(seconds["deepant"], 1),
                     "streaming s": round(seconds["streaming"], 1),
                     "ratio": round(seconds["streaming"] / seconds["deepant"], 2)})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=200_000, help="windows to score per model")
    parser.add_argument("--nab-series", type=int, default=6, help="how many NAB series to time (0 = skip)")
    parser.add_argument("--streaming-series", type=int, default=0,
                        help="how many NAB series to time DeepAnT against the streaming forecaster on (0 = skip)")
    parser.add_argument("--refit-every", type=int, default=500, help="streaming: forecasts between fine-tunes")
    parser.add_argument("--refit-epochs", type=int, default=2, help="streaming: epochs of each fine-tune")
    parser.add_argument("--refit-history", type=int, default=2000, help="streaming: windows each fine-tune reads")
    parser.add_argument("--skip-throughput", action="store_true", help="skip the scoring throughput table")
    args = parser.parse_args()

    import tensorflow as tf

    print(f"machine: {platform.platform()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}")
    print(f"tensorflow {tf.__version__}: intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()} "
          f"(0 = all cores), inter-op {tf.config.threading.get_inter_op_parallelism_threads()}")  # fmt: skip
    if not args.skip_throughput:
        print("\nScoring throughput (best of 3):")
        print(pd.concat([throughput_table(args.windows, 45), throughput_table(args.windows, 72)]).to_markdown(
            index=False))  # fmt: skip
    if args.nab_series:
        names = datasets.nab_series_names()[:: max(1, 58 // args.nab_series)][: args.nab_series]
        table = nab_fit_table(names)
        print("\nDeepAnT fit on NAB probationary rows (25 epochs, batch 64, seed 0):")
        print(table.to_markdown(index=False))
        print(f"mean fit {table['fit s'].mean():.2f} s per series -> about {58 * table['fit s'].mean() / 60:.1f} min "
              "for the 58 series per seed")  # fmt: skip
    if args.streaming_series:
        names = datasets.nab_series_names()[:: max(1, 58 // args.streaming_series)][: args.streaming_series]
        schedule = {"refit_every": args.refit_every, "refit_epochs": args.refit_epochs,
                    "refit_history": args.refit_history}  # fmt: skip
        table = streaming_table(names, **schedule)
        print(f"\nDeepAnT against the streaming forecaster ({schedule}), fit plus scoring, seed 0:")
        print(table.to_markdown(index=False))
        print(f"total: {table['streaming s'].sum() / table['deepant s'].sum():.2f} times DeepAnT's seconds")


if __name__ == "__main__":
    main()
