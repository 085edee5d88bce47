"""Choosing a model variant and a threshold rule without the test split: rolling-origin folds.

The test rows are cut off first. On what is left (training + validation rows, in time order) each fold fits
on an expanding prefix, stops early on the last part of that prefix, and is scored on the block that follows
it; the threshold rules see only the prefix. Flags of every fold's block are pooled and one precision,
recall and F-beta per (variant, rule, seed) is computed from them, so a fold whose block holds no anomaly
still counts its false alarms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from anomalylab import runner
from anomalylab.errors import InputError
from anomalylab.evaluation.experiments import Experiment, experiment_models
from anomalylab.evaluation.rows import result_rows
from anomalylab.evaluation.series import ThresholdRule, evaluate_scores, fit_and_score
from anomalylab.metrics import point_metrics


def rolling_origin_folds(
    n: int, *, first: int, n_folds: int, val_fraction: float = 0.15
) -> list[np.ndarray]:
    """Split labels (``train``/``val``/``test``/``unused``) of ``n`` time-ordered rows for each fold.

    Fold ``k`` uses rows ``[0, first + k * block)`` to fit (its last ``val_fraction`` as ``val``, for early
    stopping and label-free thresholds) and the next ``block = (n - first) // n_folds`` rows as its ``test``
    block; later rows are ``unused``. ``n`` is the number of non-test rows of the real split.
    """
    if not 0 < first < n or n_folds < 1 or not 0 < val_fraction < 1:
        raise InputError(f"need 0 < first < n, n_folds >= 1 and 0 < val_fraction < 1 (n={n}, first={first}, "
                         f"n_folds={n_folds}, val_fraction={val_fraction}).")  # fmt: skip
    block = (n - first) // n_folds
    if block < 1:
        raise InputError(f"{n - first} rows after the first fold's prefix cannot make {n_folds} blocks.")
    folds = []
    for k in range(n_folds):
        end = first + k * block
        labels = np.full(n, "unused", dtype=object)
        n_val = max(1, int(round(val_fraction * end)))
        labels[: end - n_val] = "train"
        labels[end - n_val : end] = "val"
        labels[end : end + block] = "test"
        folds.append(labels)
    return folds


def select_variant(
    variants: Mapping[str, tuple[Callable[[int | None], object], Sequence[int | None], Mapping[str, ThresholdRule]]]
    | Sequence[Experiment],
    frame: pd.DataFrame,
    *,
    first: int,
    n_folds: int = 4,
    beta: float = 2.0,
    value: str = "value",
    label: str = "is_anomaly",
    split: str = "split",
    dataset: str,
    progress: bool = True,
) -> pd.DataFrame:
    """Rolling-origin selection table of every (variant, threshold rule) on the non-test rows only.

    ``variants`` is a sequence of :class:`~anomalylab.evaluation.Experiment` (or a mapping of a name to
    ``(make_detector, seeds, rules)``) as :func:`evaluate_series_grid` takes them.
    Returns tidy rows (``kind="ours"``, protocol ``rolling-origin <n_folds> folds on train+val``) with the
    pooled ``precision``, ``recall`` and ``f<beta>`` per seed; pick the winner with :func:`selected`.
    """
    variants = experiment_models(variants)
    if not (frame[split] == "test").any():
        raise InputError("the frame has no test rows to cut off; selection needs the real split column.")
    dev = frame[frame[split] != "test"]
    if not (frame[split].to_numpy()[: len(dev)] != "test").all():
        raise InputError("the test rows must come last (a chronological split).")
    folds = rolling_origin_folds(len(dev), first=first, n_folds=n_folds)
    protocol = f"rolling-origin {n_folds} folds on train+val"
    metric = {1.0: "f1", 2.0: "f2"}.get(float(beta))
    if metric is None:
        raise InputError(f"beta must be 1 or 2 (the table's metric names), got {beta}.")
    tasks = [runner.Task(f"{name} seed {seed} fold {k}", _fold_task, {"make_detector": make, "seed": seed,
                         "labels": labels, "value": value, "split": split})
             for name, (make, seeds, _) in variants.items() for seed in seeds for k, labels in enumerate(folds)]
    results = iter(runner.run(tasks, shared={"frame": dev[[value, split]]}, desc="variants x seeds x folds",
                              progress=progress))  # fmt: skip
    fold_frames = [_fold_frame(dev, labels, split) for labels in folds]
    y = np.concatenate([fold[label].to_numpy()[(fold[split] == "test").to_numpy()] for fold in fold_frames])
    rows = []
    for name, (_, seeds, rules) in variants.items():
        flags = {(rule, seed): [] for rule in rules for seed in seeds}
        for seed in seeds:
            for fold in fold_frames:
                scores = pd.Series(next(results), index=fold.index)
                is_block = (fold[split] == "test").to_numpy()
                table = pd.DataFrame(evaluate_scores(scores, fold, rules, label=label, split=split, dataset=dataset,
                                                     model=name))
                thresholds = table.drop_duplicates("threshold_rule").set_index("threshold_rule")["threshold"]
                for rule in rules:
                    flags[(rule, seed)].append(scores.to_numpy()[is_block] >= thresholds[rule])
        for (rule, seed), parts in flags.items():
            report = point_metrics(y, np.concatenate(parts))
            rows += result_rows({k: report[k] for k in ("precision", "recall", metric)}, dataset=dataset,
                                model=name, protocol=protocol, seed=seed, threshold_rule=rule)  # fmt: skip
    return pd.DataFrame(rows)


def _fold_frame(frame: pd.DataFrame, labels: np.ndarray, split: str) -> pd.DataFrame:
    """The rows a fold uses, with the fold's split labels."""
    used = labels != "unused"
    return frame[used].assign(**{split: labels[used]})


def _fold_task(make_detector, seed, frame: pd.DataFrame, labels: np.ndarray, value: str, split: str) -> np.ndarray:
    """One (variant, seed, fold) of :func:`select_variant`: the fold's scores of its used rows."""
    return fit_and_score(make_detector, seed, _fold_frame(frame, labels, split), value=value, split=split)["scores"]


def selected(selection: pd.DataFrame, metric: str = "f2") -> tuple[str, str]:
    """The ``(variant, threshold rule)`` with the best mean ``metric`` over seeds in a selection table
    (ties: the first in table order)."""
    rows = selection[selection["metric"] == metric]
    if rows.empty:
        raise InputError(f"the selection table has no {metric!r} rows.")
    means = rows.groupby(["model", "threshold_rule"], sort=False)["value"].mean()
    return means.idxmax()
