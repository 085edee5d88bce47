"""Same seed, same scores whatever the schedule? Refit the most sensitive models in fresh processes under
different conditions and compare a hash of their scores.

Conditions: pinned to one core (``taskset -c 0``) or to all cores; the model fitted alone in its process, or
after another model was fitted first in the same process. The models: the Mixtiles forecaster variant that
notebook 02 selects (lookback 72, horizon 24, log1p), the additive-attention forecaster on NAB series (its
probationary rows), and the K2 autoencoder, VAE and BiGAN on a capped K2 split. Each prints one row per
(model, condition); a model whose hashes differ across conditions is reported as not reproducible.

    .venv/bin/python benchmarks/thread_check.py            # the full check (a few minutes)
    .venv/bin/python benchmarks/thread_check.py --small    # tiny sizes (what tests/test_thread_check.py runs)

Needs the raw data (``make data``) and Linux's ``taskset``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

CASES = ("mixtiles_forecaster", "nab_additive_attention", "k2_autoencoder", "k2_vae", "k2_bigan")
NAB_SERIES = ("realKnownCause/nyc_taxi", "artificialWithAnomaly/art_daily_jumpsup",
              "realAWSCloudwatch/ec2_cpu_utilization_24ae8d")  # fmt: skip


def _digest(values) -> str:
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(np.asarray(values, dtype=np.float64)).tobytes()).hexdigest()[:16]


def _fit_and_score(case: str, small: bool) -> str:
    """Fit one case with seed 0 and return the hash of its scores."""
    import numpy as np

    from anomalylab import datasets, evaluation
    from anomalylab.models.autoencoders import DenseAutoencoder, VariationalAutoencoder
    from anomalylab.models.forecasters import DEEPANT, CNNForecaster
    from anomalylab.models.gan import BiGAN

    epochs = 2 if small else 50
    if case == "mixtiles_forecaster":
        frame = datasets.load_mixtiles()
        if small:
            frame = frame.iloc[:1200]
        split = datasets.split_labels(len(frame), (0.65, 0.14, 0.21))
        model = CNNForecaster(lookback=72, horizon=24, **DEEPANT, transform="log1p", epochs=epochs, seed=0)
        train, val = evaluation.fit_inputs(frame["user_count"], split, 72 + 24 - 1)
        return _digest(model.fit(train, val).score_samples(frame["user_count"]))
    if case == "nab_additive_attention":
        scores = []
        for name in NAB_SERIES[:1] if small else NAB_SERIES:
            values = datasets.load_nab(name)["value"]
            if small:
                values = values.iloc[:1500]
            probation = datasets.nab_probationary_length(len(values))
            model = CNNForecaster(lookback=45, **DEEPANT, attention="additive", epochs=min(epochs, 25), patience=None,
                                  seed=0)  # fmt: skip
            scores.append(model.fit(values.iloc[:probation]).score_samples(values))
        return _digest(np.concatenate(scores))
    k2 = evaluation.kdd_protocol_k2(datasets.load_kdd("train"), seed=0, max_train_rows=2000 if small else 20_000)
    make = {
        "k2_autoencoder": lambda: DenseAutoencoder(epochs=min(epochs, 5), batch_size=1024, seed=0),
        "k2_vae": lambda: VariationalAutoencoder(epochs=min(epochs, 5), batch_size=1024, seed=0),
        "k2_bigan": lambda: BiGAN(epochs=min(epochs, 5), batch_size=1024, seed=0),
    }[case]
    rows = np.random.default_rng(0).choice(len(k2.X_test), 2000 if small else 20_000, replace=False)
    return _digest(make().fit(k2.X_train, k2.X_val).score_samples(k2.X_test[np.sort(rows)]))


def worker(case: str, after: str | None, small: bool) -> None:
    """One fresh process: optionally fit ``after`` first, then ``case``; print the hash as JSON."""
    import anomalylab  # noqa: F401 (fixes TensorFlow's threads before it starts)

    if after:
        _fit_and_score(after, small)
    print(json.dumps({"case": case, "hash": _fit_and_score(case, small)}))


def run(cases, small: bool) -> list[dict]:
    """Every case under every condition, each in a fresh process; returns rows with the hash of each."""
    if shutil.which("taskset") is None:
        raise SystemExit("taskset is not on PATH (Debian: util-linux); it pins a process to cores.")
    cores = os.cpu_count() or 1
    conditions = [("1 core, alone", "0", None)]
    if cores > 1:
        conditions.append((f"{cores} cores, alone", f"0-{cores - 1}", None))
    conditions.append(("1 core, after another model", "0", "k2_autoencoder"))
    rows = []
    for case in cases:
        for label, cpus, after in conditions:
            after = None if after == case else after
            command = ["taskset", "-c", cpus, sys.executable, __file__, "--worker", case]
            command += (["--after", after] if after else []) + (["--small"] if small else [])
            start = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"{case} under '{label}' failed:\n{done.stderr[-2000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append({"model": case, "condition": label, "hash": result["hash"],
                         "seconds": round(time.perf_counter() - start, 1)})  # fmt: skip
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes and 2 epochs (for the test)")
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=CASES)
    parser.add_argument("--worker", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--after", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.after, args.small)
        return 0
    import pandas as pd

    table = pd.DataFrame(run(args.cases, args.small))
    table["same as 1 core, alone"] = table["hash"] == table.groupby("model")["hash"].transform("first")
    print(table.to_markdown(index=False))
    differ = sorted(set(table.loc[~table["same as 1 core, alone"], "model"]))
    print("every model gave identical scores under every condition" if not differ
          else f"NOT reproducible across conditions: {differ}")  # fmt: skip
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
