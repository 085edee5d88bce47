"""Fit seconds, scoring throughput and peak memory of every model, on the same data, on this machine.

Run with ``.venv/bin/python benchmarks/model_speed.py`` (needs the KDD and NAB files: ``make data``).

- Tabular models (autoencoder, VAE, BiGAN, hybrid, NeuTraL AD, GOAD and Deep SVDD, the first two also at the
  doubled width notebook 04's search can choose, PCA, One-Class SVM, Isolation Forest, K-Means distance) fit
  on the same ``--train-rows`` encoded normal KDD Cup 99 connections (protocol K1's encoding) and score
  ``--score-rows`` rows of the test file.
- Series models (DeepAnT and its two attention variants, the LSTM and ConvBiGRU window autoencoders, Isolation
  Forest on windows) fit on the first half of NAB's ``machine_temperature_system_failure`` and score the whole
  series (windows of 24 steps).

Deep models train ``--epochs`` epochs without early stopping, so every one does the same amount of work. Each model
runs in its own (spawned) process: its peak memory is that process's peak resident set size (``VmHWM`` in
``/proc/self/status``; ``ru_maxrss`` would report the parent's peak, which a spawned child inherits on Linux), and
the increase is over the same process after loading the data. Prints the machine and thread settings first.
Not a test: the numbers depend on the machine. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TABULAR = ["autoencoder", "vae", "bigan", "hybrid", "neutral_ad", "neutral_ad_width2", "goad", "goad_width2",
           "deep_svdd", "pca", "ocsvm", "isolation_forest", "kmeans_distance"]
SERIES = ["deepant", "deepant_additive_attention", "deepant_self_attention", "lstm_seq2seq_ae", "convbigru_ae",
          "isolation_forest_windows"]  # fmt: skip
WINDOW = 24


def make_model(name: str, epochs: int):
    from anomalylab.models.autoencoders import DenseAutoencoder, SequenceAutoencoder, VariationalAutoencoder
    from anomalylab.models.classical import (
        IsolationForestDetector,
        KMeansDistance,
        OneClassSVMDetector,
        PCAReconstruction,
    )
    from anomalylab.models.forecasters import DEEPANT, CNNForecaster
    from anomalylab.models.gan import BiGAN
    from anomalylab.models.hybrid import HybridKMeansAutoencoder
    from anomalylab.models.selfsupervised import GOAD, DeepSVDD, NeuTraLAD
    from anomalylab.models.windows import WindowDetector

    deep = {"epochs": epochs, "patience": None}
    makers = {
        "autoencoder": lambda: DenseAutoencoder(batch_size=1024, **deep),
        "vae": lambda: VariationalAutoencoder(batch_size=1024, **deep),
        "bigan": lambda: BiGAN(epochs=epochs, batch_size=1024),
        "hybrid": lambda: HybridKMeansAutoencoder(n_clusters=16, latent_dim=16, epochs=epochs, batch_size=1024),
        "neutral_ad": lambda: NeuTraLAD(batch_size=1024, **deep),
        "neutral_ad_width2": lambda: NeuTraLAD(transform_hidden=128, hidden=(128, 128), batch_size=1024, **deep),
        "goad": lambda: GOAD(batch_size=1024, **deep),
        "goad_width2": lambda: GOAD(hidden=(128,), feature_dim=64, batch_size=1024, **deep),
        "deep_svdd": lambda: DeepSVDD(batch_size=1024, **deep),
        "pca": lambda: PCAReconstruction(0.95),
        "ocsvm": lambda: OneClassSVMDetector(nu=0.01, max_train_rows=10_000),
        "isolation_forest": lambda: IsolationForestDetector(200),
        "kmeans_distance": lambda: KMeansDistance(16),
        "deepant": lambda: CNNForecaster(lookback=WINDOW, **DEEPANT, **deep),
        "deepant_additive_attention": lambda: CNNForecaster(lookback=WINDOW, **DEEPANT, attention="additive", **deep),
        "deepant_self_attention": lambda: CNNForecaster(lookback=WINDOW, **DEEPANT, attention="self", **deep),
        "lstm_seq2seq_ae": lambda: WindowDetector(SequenceAutoencoder("lstm", **deep), window=WINDOW),
        "convbigru_ae": lambda: WindowDetector(SequenceAutoencoder("convbigru", **deep), window=WINDOW),
        "isolation_forest_windows": lambda: WindowDetector(IsolationForestDetector(200), window=WINDOW),
    }
    return makers[name]()


def peak_rss_mib() -> float:
    """This process's peak resident set size in MiB (Linux ``VmHWM``; NaN where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def measure(name: str, data: str, epochs: int, queue) -> None:
    """In a fresh process: load the data, fit, score, report times and memory."""
    arrays = np.load(data)
    if name in TABULAR:
        fit_args, score_input = (arrays["X_train"],), arrays["X_score"]
        unit, n = "rows", len(arrays["X_score"])
    else:
        series = pd.Series(arrays["series"], index=pd.date_range("2020-01-01", periods=len(arrays["series"]),
                                                                 freq="5min"))  # fmt: skip
        fit_args, score_input = (series.iloc[: len(series) // 2],), series
        unit, n = "windows", len(series) - WINDOW + 1
    baseline = peak_rss_mib()
    model = make_model(name, epochs)
    start = time.perf_counter()
    model.fit(*fit_args)
    fit_seconds = time.perf_counter() - start
    model.score_samples(score_input[:100] if name in TABULAR else score_input.iloc[:200])  # warm-up
    start = time.perf_counter()
    model.score_samples(score_input)
    score_seconds = time.perf_counter() - start
    peak = peak_rss_mib()
    queue.put({"model": name, "data": unit, "fit s": round(fit_seconds, 2),
               f"score {unit}/s": round(n / score_seconds), "peak RSS MiB": round(peak),
               "increase MiB": round(peak - baseline)})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--score-rows", type=int, default=100_000)
    parser.add_argument("--models", nargs="*", default=TABULAR + SERIES)
    args = parser.parse_args()

    import tensorflow as tf

    from anomalylab import datasets, evaluation

    print(f"machine: {platform.platform()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}")
    print(f"tensorflow {tf.__version__}: intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()} "
          f"(0 = all cores), inter-op {tf.config.threading.get_inter_op_parallelism_threads()}; scikit-learn n_jobs "
          "as each detector sets it (Isolation Forest: all cores)")  # fmt: skip
    k1 = evaluation.kdd_protocol_k1(datasets.load_kdd("train"), datasets.load_kdd("test"), seed=0,
                                    max_train_rows=args.train_rows)  # fmt: skip
    series = datasets.nab_corpus_frame(["realKnownCause/machine_temperature_system_failure"])["value"].to_numpy(float)
    print(f"tabular: {len(k1.X_train):,} training rows x {k1.X_train.shape[1]} columns, {args.score_rows:,} scored; "
          f"series: {len(series):,} points, windows of {WINDOW}; deep models: {args.epochs} epochs, no early stop")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = str(Path(tmp) / "data.npz")
        np.savez(data, X_train=k1.X_train, X_score=k1.X_test[: args.score_rows], series=series)
        ctx = mp.get_context("spawn")
        for name in args.models:
            queue = ctx.Queue()
            proc = ctx.Process(target=measure, args=(name, data, args.epochs, queue))
            proc.start()
            rows.append(queue.get())
            proc.join()
            print(f"  {name}: done", flush=True)
    print(pd.DataFrame(rows).astype(object).fillna("").to_markdown(index=False))


if __name__ == "__main__":
    main()
