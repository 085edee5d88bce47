"""The series protocol: a detector over seeds and threshold rules on a chronological split.

For every seed a fresh detector is fitted on the training rows (the validation rows, with the history they
need, drive early stopping), scores the whole series, and each threshold rule picks its threshold from the
**non-test** rows only (the test rows are cut off before a rule sees anything). Metrics are computed on the
test rows.

Forecasters read the ``lookback`` values before a point as *input*; a point's score belongs to the split of
the point itself. So the first test hours read the last validation hours as history, but no test value is
ever a training target and no threshold sees a test score.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from anomalylab.errors import InputError
from anomalylab.evaluation.rows import SPLITS, result_rows
from anomalylab.metrics import detection_report
from anomalylab.preprocessing import index_of
from anomalylab.thresholds import best_fbeta_threshold, mean_k_sigma, quantile_threshold

ThresholdRule = Callable[[pd.Series, pd.Series, pd.Series], float]


def rule_fixed(value: float) -> ThresholdRule:
    """A fixed threshold (e.g. the Mixtiles study's 40 % relative error)."""
    return lambda scores, labels, split: float(value)  # noqa: ARG005


def rule_val_mean_k_sigma(k: float = 3.0) -> ThresholdRule:
    """Label-free: mean + k std of the validation scores."""
    return lambda scores, labels, split: mean_k_sigma(scores[split == "val"], k)  # noqa: ARG005


def rule_train_mean_k_sigma(k: float = 3.0) -> ThresholdRule:
    """Label-free: mean + k std of the training scores (the spike-series seed's rule, on training only)."""
    return lambda scores, labels, split: mean_k_sigma(scores[split == "train"], k)  # noqa: ARG005


def rule_val_quantile(q: float = 0.99) -> ThresholdRule:
    """Label-free: the q quantile of the validation scores."""
    return lambda scores, labels, split: quantile_threshold(scores[split == "val"], q)  # noqa: ARG005


def rule_trainval_best_fbeta(beta: float = 2.0) -> ThresholdRule:
    """Tuned on labels of training + validation rows: the threshold with the best F-beta there.

    Training scores are in-sample for a learned detector (slightly optimistic),
    but pooling both splits tunes on every non-test label instead of the few
    in the validation split alone.
    """
    return lambda scores, labels, split: best_fbeta_threshold(scores, labels, beta)[0]  # noqa: ARG005


def score_series(detector, series) -> pd.Series:
    """The detector's scores aligned with ``series`` (by position): NaN where it gives none.

    Detectors that need history score a suffix of the series
    (``forecast_index``); the first points get NaN.
    """
    scores = np.asarray(detector.score_samples(series), dtype=float).ravel()
    if len(scores) > len(series):
        raise InputError(f"{detector.name} returned {len(scores)} scores for {len(series)} points.")
    out = np.full(len(series), np.nan)
    out[len(series) - len(scores) :] = scores
    return pd.Series(out, index=index_of(series), name=getattr(detector, "name", "score"))


def history_length(detector, series) -> int:
    """How many leading points of ``series`` the detector cannot score (its history)."""
    if hasattr(detector, "forecast_index"):
        return len(series) - len(detector.forecast_index(series))
    return 0


def fit_inputs(series: pd.Series, split: pd.Series, context: int = 0) -> tuple[pd.Series, pd.Series | None]:
    """``(train, val)`` to fit a detector on: the training rows, and the validation rows preceded by the
    ``context`` rows of history they need (read as input only; ``None`` without validation rows)."""
    split = np.asarray(split)
    train = series[split == "train"]
    val_positions = np.flatnonzero(split == "val")
    if not len(val_positions):
        return train, None
    return train, series.iloc[max(0, val_positions[0] - context) : val_positions[-1] + 1]


def _check_frame(frame: pd.DataFrame, value: str, label: str, split: str) -> None:
    missing = [c for c in (value, label, split) if c not in frame.columns]
    if missing:
        raise InputError(f"the frame lacks column(s) {missing}; it needs a value, a 0/1 label and a split column.")
    unknown = sorted(set(frame[split].astype(str)) - set(SPLITS))
    if unknown or not (frame[split] == "test").any() or not (frame[split] == "train").any():
        raise InputError(f"the split column must hold 'train', 'val' and 'test' (found {sorted(set(frame[split]))}).")


def evaluate_scores(
    scores: pd.Series,
    frame: pd.DataFrame,
    rules: Mapping[str, ThresholdRule],
    *,
    label: str = "is_anomaly",
    split: str = "split",
    **row_keys,
) -> list[dict]:
    """Rows of every metric on the test rows, one block per threshold rule.

    Each rule sees only non-test rows that have a score; test rows without a
    score are an error (the detector needs its history from earlier splits).
    ``row_keys`` (dataset, model, protocol, seed, ...) go into every row.
    """
    scores = pd.Series(np.asarray(scores, dtype=float), index=frame.index)
    is_test = (frame[split] == "test").to_numpy()
    if np.isnan(scores.to_numpy()[is_test]).any():
        raise InputError("some test rows have no score; score the whole series so test points have their history.")
    fit_part = ~is_test & ~np.isnan(scores.to_numpy())
    s_fit, y_fit, sp_fit = scores[fit_part], frame[label][fit_part], frame[split][fit_part]
    y_test, s_test = frame[label].to_numpy()[is_test], scores.to_numpy()[is_test]
    rows = []
    for rule_name, rule in rules.items():
        threshold = float(rule(s_fit, y_fit, sp_fit))
        report = detection_report(y_test, s_test, threshold)
        rows += result_rows(report, threshold_rule=rule_name, threshold=threshold, **row_keys)
    return rows


def evaluate_series(
    make_detector: Callable[[int | None], object],
    frame: pd.DataFrame,
    rules: Mapping[str, ThresholdRule],
    *,
    seeds: Sequence[int | None] = (None,),
    value: str = "value",
    label: str = "is_anomaly",
    split: str = "split",
    dataset: str,
    model: str,
    protocol: str = "",
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit ``make_detector(seed)`` once per seed and score it under every rule.

    Returns ``(table, scores)``: the tidy rows (metrics on the test rows per
    seed and rule, plus ``fit_seconds`` and ``score_seconds``) and the scores
    of every row, one column per seed.
    """
    _check_frame(frame, value, label, split)
    if not seeds:
        raise InputError("seeds is empty; pass (None,) for a deterministic detector.")
    series = frame[value]
    rows, all_scores = [], {}
    for seed in tqdm(seeds, desc=model, disable=not progress or len(seeds) < 2, leave=False):
        detector = make_detector(seed)
        train, val = fit_inputs(series, frame[split], history_length(detector, series))
        start = time.perf_counter()
        detector.fit(train, val)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        scores = score_series(detector, series)
        score_seconds = time.perf_counter() - start
        keys = {"dataset": dataset, "model": model, "protocol": protocol, "seed": seed}
        rows += evaluate_scores(scores, frame, rules, label=label, split=split, **keys)
        rows += result_rows({"fit_seconds": fit_seconds, "score_seconds": score_seconds}, **keys)
        all_scores["deterministic" if seed is None else seed] = scores.to_numpy()
    return pd.DataFrame(rows), pd.DataFrame(all_scores, index=frame.index)
