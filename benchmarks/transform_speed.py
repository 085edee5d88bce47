"""NeuTraL AD and GOAD: today's implementation beside faster candidates, fit and scoring seconds and K1 ROC-AUC.

Run with ``.venv/bin/python benchmarks/transform_speed.py`` (needs the KDD files: ``make data``); about 12 minutes
on 2 cores with the defaults. Every (model, variant, seed) runs in its own spawned process, one at a time, with
the fixed numerics (one thread per TensorFlow op, oneDNN off) unless the variant says otherwise, on protocol K1's
draw of that seed: ``--train-rows`` seeded training inliers, ``--epochs`` epochs without early stopping (the same
work for every variant), scored on the whole K1 test file (311,029 rows), ROC-AUC on it.

Variants (the configuration is notebook 04's width-2 candidate, which its search chose on K1 for both models):

- ``today``: the package's class as it is.
- ``batched`` (NeuTraL AD only): the 11 transformation networks as one kernel of shape (K, d, h) per layer and
  an einsum (the candidate of issue 29; GOAD's 32 affine maps already are one matrix product in the package).
- ``XLA``: the same network compiled with ``jit_compile=True``.
- ``oneDNN``: the same network with TensorFlow's oneDNN kernels switched on (``TF_ENABLE_ONEDNN_OPTS=1``).

Also prints GOAD's scoring seconds with the float64 TensorFlow distances of ``f6465f2`` beside today's NumPy ones,
on the same fitted network. Not a test: the seconds depend on the machine; nothing is asserted.
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

VARIANTS = {"neutral_ad": ["today", "batched", "XLA", "oneDNN"], "goad": ["today", "XLA", "oneDNN"]}


def make_model(name: str, variant: str, epochs: int, seed: int):
    """Notebook 04's width-2 configuration of ``name``, built as ``variant`` builds it."""
    from anomalylab.models.selfsupervised import GOAD, NeuTraLAD

    args = {"epochs": epochs, "batch_size": 1024, "patience": None, "seed": seed}
    if name == "goad":
        base = GOAD
        config = {"hidden": (128,), "feature_dim": 64}
    else:
        base = NeuTraLAD
        config = {"transform_hidden": 128, "hidden": (128, 128)}
    if variant == "XLA":

        class Compiled(base):
            def _build(self, shape):
                model = super()._build(shape)
                model.compile(optimizer=model.optimizer, loss=model.loss, jit_compile=True)
                return model

        return Compiled(**config, **args)
    if variant == "batched":
        return batched_neutral_ad()(**config, **args)
    return base(**config, **args)


def batched_neutral_ad():
    """NeuTraL AD with the K transformation networks as batched kernels (the candidate measured here)."""
    import keras

    from anomalylab.models.layers import ContrastiveScore
    from anomalylab.models.selfsupervised import NeuTraLAD

    class Transformations(keras.layers.Layer):
        def __init__(self, k, hidden, n_layers, **kwargs):
            super().__init__(**kwargs)
            self.k, self.hidden, self.n_layers = k, hidden, n_layers

        def build(self, shape):
            sizes = [shape[-1]] + [self.hidden] * (self.n_layers - 1) + [shape[-1]]
            # Glorot-uniform per transformation, as each Dense of today's networks draws its kernel
            self.kernels = [self.add_weight(shape=(self.k, a, b), name=f"kernel_{i}",
                                            initializer=keras.initializers.RandomUniform(-(6 / (a + b)) ** 0.5,
                                                                                         (6 / (a + b)) ** 0.5))
                            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]  # fmt: skip

        def call(self, x):
            ops = keras.ops
            h = ops.einsum("bi,kio->bko", x, self.kernels[0])
            for kernel in self.kernels[1:]:
                h = ops.einsum("bki,kio->bko", ops.relu(h), kernel)
            return ops.expand_dims(x, 1) + h  # residual transformations: (batch, K, width)

    class Batched(NeuTraLAD):
        def _build(self, shape):
            x = keras.Input(shape=shape)
            views = Transformations(self.n_transforms, self.transform_hidden, self.transform_layers)(x)
            h = keras.layers.Concatenate(axis=1)([keras.layers.Reshape((1, shape[0]))(x), views])
            for units in self.hidden:
                h = keras.layers.Dense(units, activation="relu")(h)
            z = keras.layers.Dense(self.embedding_dim, name="embedding")(h)
            model = keras.Model(x, ContrastiveScore(self.temperature, name="dcl")(z), name=self.name)
            model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mae")
            return model

    return Batched


def goad_scores_f6465f2(model, X: np.ndarray) -> np.ndarray:
    """GOAD's scores as ``f6465f2`` computed them: the distances as a float64 TensorFlow einsum."""
    import keras
    from scipy.special import logsumexp

    from anomalylab.models._keras import predict_batches
    from anomalylab.models.layers import transformation_distances

    scores = []
    for start in range(0, len(X), 4096):
        f = predict_batches(model.model_, X[start : start + 4096]).astype("float64")
        dist = keras.ops.convert_to_numpy(transformation_distances(f, model.centers_))
        scores.append((logsumexp(-dist, axis=-1) + np.diagonal(dist, axis1=1, axis2=2)).sum(axis=1))
    return np.concatenate(scores)


def measure(name: str, variant: str, seed: int, data: str, epochs: int, queue) -> None:
    """In a fresh process: fit, score the K1 test file, report seconds and ROC-AUC."""
    from sklearn.metrics import roc_auc_score

    from anomalylab import config

    config.use_fixed_numerics()
    if variant == "oneDNN":  # the fixed numerics switch oneDNN off; this variant measures it on
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"
    arrays = np.load(data)
    model = make_model(name, variant, epochs, seed)
    start = time.perf_counter()
    model.fit(arrays["X_train"])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scores = model.score_samples(arrays["X_test"])
    row = {"model": name, "variant": variant, "seed": seed, "fit s": fit_seconds,
           "score s": time.perf_counter() - start, "roc_auc": roc_auc_score(arrays["y_test"], scores)}  # fmt: skip
    if name == "goad" and variant == "today":
        start = time.perf_counter()
        old = goad_scores_f6465f2(model, arrays["X_test"])
        row["score s, f6465f2 formula"] = time.perf_counter() - start
        row["max relative score difference"] = float(np.max(np.abs(old - scores) / np.abs(old)))
    queue.put(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()

    from anomalylab import datasets, evaluation

    print(f"machine: {platform.platform()}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}")
    kdd_train, kdd_test = datasets.load_kdd("train"), datasets.load_kdd("test")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            k1 = evaluation.kdd_protocol_k1(kdd_train, kdd_test, seed=seed, max_train_rows=args.train_rows)
            data = str(Path(tmp) / f"k1_{seed}.npz")
            np.savez(data, X_train=k1.X_train, X_test=k1.X_test, y_test=k1.y_test)
            print(f"K1 draw {seed}: {len(k1.X_train):,} training rows x {k1.X_train.shape[1]} columns, "
                  f"{len(k1.X_test):,} test rows; {args.epochs} epochs, no early stop", flush=True)
            for name in args.models:
                for variant in VARIANTS[name]:
                    queue = mp.get_context("spawn").Queue()
                    proc = mp.get_context("spawn").Process(target=measure, args=(name, variant, seed, data,
                                                                                 args.epochs, queue))  # fmt: skip
                    proc.start()
                    rows.append(queue.get())
                    proc.join()
                    print(f"  {name} {variant} seed {seed}: fit {rows[-1]['fit s']:.1f} s", flush=True)
    table = pd.DataFrame(rows)
    summary = table.groupby(["model", "variant"], sort=False).agg(
        fit_s=("fit s", "mean"), score_s=("score s", "mean"), roc_auc=("roc_auc", "mean"),
        roc_auc_sd=("roc_auc", "std"))  # fmt: skip
    today = summary.xs("today", level="variant")["fit_s"]
    summary["fit speed-up vs today"] = [today[m] / s for (m, _), s in summary["fit_s"].items()]
    print(f"\nmean over {args.seeds} seeds (roc_auc_sd: standard deviation over seeds)")
    print(summary.round(4).to_markdown())
    if "score s, f6465f2 formula" in table:
        goad = table.dropna(subset=["score s, f6465f2 formula"])
        print(f"\nGOAD scoring of {len(k1.X_test):,} rows: f6465f2's float64 TensorFlow distances "
              f"{goad['score s, f6465f2 formula'].mean():.1f} s, today's NumPy ones {goad['score s'].mean():.1f} s; "
              f"largest relative difference of a score {goad['max relative score difference'].max():.1e}")


if __name__ == "__main__":
    main()
