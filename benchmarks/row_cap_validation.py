"""Does fitting the deep tabular models on a seeded 10,000 rows (10 epochs) cost quality? Validation data only.

Notebook 04 fits its deep models on every training row (K1: 77,822 normal rows for at most 10 epochs; K2: about
178,000 rows of attacks for at most 5). Capping the rows at the search's 10,000 (``max_train_rows``) would cut 04 from
about 96 to 55 minutes. This script fits the configurations 04's search chose, both ways, on draw 0 of K2 and K1 and
scores the **labelled validation rows only** (K2's validation outliers are ``normal`` rows of the first half; no test
row is scored), one process, one thread, side by side::

    .venv/bin/python benchmarks/row_cap_validation.py

It was run after a full run of 04 with the cap had read the test rows (``docs/held_out_ledger.csv``); it shows the
same loss on validation data, which is where the choice should have been checked first.
"""

from __future__ import annotations

import time

import pandas as pd

from anomalylab import datasets, evaluation
from anomalylab.config import use_fixed_numerics
from anomalylab.metrics import pr_auc
from anomalylab.models.autoencoders import DenseAutoencoder, VariationalAutoencoder
from anomalylab.models.selfsupervised import GOAD, DeepSVDD

CAP = 10_000
# (protocol, model): (class, learning rate, width) as 04's search chose them (its printed choice)
CHOSEN = {
    ("K2", "autoencoder"): (DenseAutoencoder, 1e-3, 2),
    ("K2", "vae"): (VariationalAutoencoder, 1e-3, 2),
    ("K2", "deep_svdd"): (DeepSVDD, 1e-3, 1),
    ("K1", "goad"): (GOAD, 1e-3, 1),
}
EPOCHS = {"K1": 10, "K2": 5}  # 04's epochs on all rows; the capped fit takes the search's 10


def build(cls, lr: float, width: int, epochs: int, cap: int | None):
    """The detector as 04 builds it (GOAD: one hidden layer and 32 x width features)."""
    if cls is GOAD:
        sizes = {"hidden": (64 * width,), "feature_dim": 32 * width}
    else:
        sizes = {"hidden": (64 * width, 32 * width)}
    return cls(**sizes, epochs=epochs, batch_size=1024, learning_rate=lr, patience=3, seed=0, max_train_rows=cap)


def main() -> None:
    use_fixed_numerics()
    train = datasets.load_kdd("train")
    draws = {"K2": evaluation.kdd_protocol_k2(train, seed=0, val_outliers=0.25),
             "K1": evaluation.kdd_protocol_k1(train, datasets.load_kdd("test"), seed=0)}  # fmt: skip
    rows = []
    for (protocol, model), (cls, lr, width) in CHOSEN.items():
        splits = draws[protocol]
        for label, epochs, cap in (("every row", EPOCHS[protocol], None), (f"{CAP:,} rows", 10, CAP)):
            detector = build(cls, lr, width, epochs, cap)
            start = time.perf_counter()
            detector.fit(splits.X_train, splits.X_val[splits.y_val == 0])
            seconds = time.perf_counter() - start
            epochs_run = len(next(iter(detector.history_.values())))
            rows.append({"protocol": protocol, "model": model, "fit on": label, "epochs run": epochs_run,
                         "validation PR-AUC": pr_auc(splits.y_val, detector.score_samples(splits.X_val)),
                         "fit s": seconds})  # fmt: skip
    print(pd.DataFrame(rows).round(4).to_markdown(index=False))


if __name__ == "__main__":
    main()
