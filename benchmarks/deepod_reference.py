"""NeuTraL AD, GOAD and Deep SVDD: ours beside DeepOD's (PyTorch), on the same K1 matrices, fit seconds and ROC-AUC.

DeepOD 0.4.1 pins ``torch<1.13.1``, which has no wheel for Python 3.11, so it lives in a throwaway environment
beside the project, never in its pins (as the metric fixtures' reference implementations did)::

    python3.11 -m venv /tmp/deepod-env
    /tmp/deepod-env/bin/pip install torch==2.13.0 numpy scipy scikit-learn pandas tqdm
    /tmp/deepod-env/bin/pip install --no-deps deepod==0.4.1      # its torch pin is the only conflict
    .venv/bin/python benchmarks/deepod_reference.py --deepod-python /tmp/deepod-env/bin/python

The script writes protocol K1's draws (seeds 0 to ``--seeds`` - 1, ``--train-rows`` training inliers, the whole
test file) to a temporary folder, fits our three models in spawned processes, then runs itself under the other
Python to fit DeepOD's on the same files. Both sides train ``--epochs`` epochs without early stopping, batches of
1,024, learning rate 1e-3, one CPU thread (TensorFlow's fixed numerics; ``torch.set_num_threads(1)``), with the
sizes of notebook 04's width-2 candidates as far as DeepOD's networks allow (their differences are listed in
``CONFIGS``). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# model: (our arguments, DeepOD's arguments); the differences that remain are in the comments
CONFIGS = {
    "neutral_ad": (
        {"transform_hidden": 128, "transform_layers": 3, "hidden": (128, 128), "embedding_dim": 32},
        {"n_trans": 11, "trans_type": "residual", "temp": 0.1, "rep_dim": 32, "hidden_dims": "128,128",
         "trans_hidden_dims": "128,128", "act": "ReLU", "bias": False},  # ours: the encoder has biases
    ),
    "goad": (
        {"n_transforms": 32, "transform_dim": 32, "hidden": (128,), "feature_dim": 64},
        # DeepOD: 1x1 convolutions (n_layers of hidden_dim channels) and a linear head to the 32 classes, no bias
        {"n_trans": 32, "trans_dim": 32, "hidden_dim": 64, "n_layers": 2, "alpha": 0.1, "margin": 1.0},
    ),
    "deep_svdd": (
        {"hidden": (128, 64), "embedding_dim": 16},
        {"hidden_dims": "128,64", "rep_dim": 16, "act": "LeakyReLU", "bias": False},  # ours: LeakyReLU(0.1)
    ),
}


def ours(name: str, seed: int, data: str, epochs: int, queue) -> None:
    """In a fresh process: our model, fitted and scored on one draw."""
    from sklearn.metrics import roc_auc_score

    from anomalylab import config

    config.use_fixed_numerics()
    from anomalylab.models.selfsupervised import GOAD, DeepSVDD, NeuTraLAD

    cls = {"neutral_ad": NeuTraLAD, "goad": GOAD, "deep_svdd": DeepSVDD}[name]
    arrays = np.load(data)
    model = cls(**CONFIGS[name][0], epochs=epochs, batch_size=1024, learning_rate=1e-3, patience=None, seed=seed)
    start = time.perf_counter()
    model.fit(arrays["X_train"])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scores = model.score_samples(arrays["X_test"])
    queue.put({"model": name, "implementation": "anomalylab (Keras)", "seed": seed, "fit s": fit_seconds,
               "score s": time.perf_counter() - start, "roc_auc": roc_auc_score(arrays["y_test"], scores)})  # fmt: skip


def deepod(paths: list[str], epochs: int) -> None:
    """Under DeepOD's Python: fit its three models on every draw, print one JSON row per fit."""
    import torch
    from deepod.models.tabular import GOAD, DeepSVDD, NeuTraL
    from sklearn.metrics import roc_auc_score

    torch.set_num_threads(1)
    classes = {"neutral_ad": NeuTraL, "goad": GOAD, "deep_svdd": DeepSVDD}
    for seed, path in enumerate(paths):
        arrays = np.load(path)
        for name, cls in classes.items():
            model = cls(**CONFIGS[name][1], epochs=epochs, batch_size=1024, lr=1e-3, device="cpu", verbose=0,
                        random_state=seed)  # fmt: skip
            start = time.perf_counter()
            model.fit(arrays["X_train"])
            fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            scores = model.decision_function(arrays["X_test"])
            print(json.dumps({"model": name, "implementation": "DeepOD 0.4.1 (PyTorch)", "seed": seed,
                              "fit s": fit_seconds, "score s": time.perf_counter() - start,
                              "roc_auc": float(roc_auc_score(arrays["y_test"], scores))}), flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deepod-python", help="the Python of the environment where deepod is installed")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--run-deepod", nargs="*", help=argparse.SUPPRESS)  # the second half, in DeepOD's Python
    args = parser.parse_args()
    if args.run_deepod is not None:
        deepod(args.run_deepod, args.epochs)
        return
    if not args.deepod_python:
        parser.error("--deepod-python is required (see the module's docstring for the environment)")
    import pandas as pd

    from anomalylab import datasets, evaluation

    kdd_train, kdd_test = datasets.load_kdd("train"), datasets.load_kdd("test")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for seed in range(args.seeds):
            k1 = evaluation.kdd_protocol_k1(kdd_train, kdd_test, seed=seed, max_train_rows=args.train_rows)
            paths.append(str(Path(tmp) / f"k1_{seed}.npz"))
            np.savez(paths[-1], X_train=k1.X_train.astype("float32"), X_test=k1.X_test.astype("float32"),
                     y_test=k1.y_test)  # fmt: skip
            for name in CONFIGS:
                queue = mp.get_context("spawn").Queue()
                proc = mp.get_context("spawn").Process(target=ours, args=(name, seed, paths[-1], args.epochs, queue))
                proc.start()
                rows.append(queue.get())
                proc.join()
                print(f"  ours {name} seed {seed}: fit {rows[-1]['fit s']:.1f} s", flush=True)
        shape = f"{len(k1.X_train):,} x {k1.X_train.shape[1]} training rows, {len(k1.X_test):,} test rows"
        done = subprocess.run([args.deepod_python, __file__, "--epochs", str(args.epochs), "--run-deepod", *paths],
                              capture_output=True, text=True, check=True)  # fmt: skip
        rows += [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    table = pd.DataFrame(rows)
    summary = table.groupby(["model", "implementation"]).agg(
        fit_s=("fit s", "mean"), score_s=("score s", "mean"), roc_auc=("roc_auc", "mean"),
        roc_auc_sd=("roc_auc", "std"), seeds=("seed", "nunique"))  # fmt: skip
    print(f"\nK1 draws 0-{args.seeds - 1}: {shape}; {args.epochs} epochs, batches of 1,024, one thread")
    print(summary.round(4).to_markdown())


if __name__ == "__main__":
    sys.exit(main())
