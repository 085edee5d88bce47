"""Run detectors over splits, seeds and corpora, and turn what they score into tidy rows.

Series protocol (:func:`evaluate_series`): a frame with a value column, a 0/1
label column and a ``split`` column (train / val / test, chronological). For
every seed a fresh detector is fitted on the training rows (the validation
rows, with the history they need, drive early stopping), scores the whole
series, and each threshold rule picks its threshold from the **non-test** rows
only (the test rows are cut off before a rule sees anything). Metrics are
computed on the test rows.

Forecasters read the ``lookback`` values before a point as *input*; a point's
score belongs to the split of the point itself. So the first test hours read
the last validation hours as history, but no test value is ever a training
target and no threshold sees a test score.

NAB protocol (:func:`nab_run`, :func:`nab_rows`): every series on its own,
fitted on NAB's probationary period only (first 15 % of rows, at most 750),
scores in [0, 1] for every row, NAB score per profile with the corpus-level
threshold that maximises the raw score (as NAB's runner optimises it), then
the same threshold applied per category. :func:`export_nab_results` writes
NAB's results layout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from anomalylab.datasets import nab_probationary_length
from anomalylab.errors import InputError
from anomalylab.metrics import METRICS, NAB_PROFILE_METRIC, detection_report, nab_score
from anomalylab.models.classical import WindowedGaussian
from anomalylab.paths import atomic_path
from anomalylab.preprocessing import index_of
from anomalylab.thresholds import best_fbeta_threshold, mean_k_sigma, quantile_threshold

SPLITS = ("train", "val", "test")
TABLE_COLUMNS = ["dataset", "protocol", "series", "model", "seed", "threshold_rule", "metric", "value"]
NAB_RESULT_COLUMNS = ["timestamp", "value", "anomaly_score", "label"]


def result_rows(
    metrics: Mapping[str, float],
    *,
    dataset: str,
    model: str,
    protocol: str = "",
    series: str = "",
    seed: int | None = None,
    threshold_rule: str = "",
    **extra,
) -> list[dict]:
    """Tidy rows (one per metric) of one measurement; ``extra`` becomes extra columns."""
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise InputError(f"unknown metric name(s) {unknown}; the fixed names are {list(METRICS)}.")
    base = {
        "dataset": dataset, "protocol": protocol, "series": series, "model": model,
        "seed": pd.NA if seed is None else int(seed), "threshold_rule": threshold_rule, **extra,
    }  # fmt: skip
    return [{**base, "metric": k, "value": float(v) if v is not None else np.nan} for k, v in metrics.items()]


# A threshold rule maps the non-test part of (scores, labels, split) to a threshold.
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


# --------------------------------------------------------------------------- NAB


def unit_interval(scores, reference, q: float = 0.99) -> np.ndarray:
    """Map non-negative scores to [0, 1) as s / (s + r), r = the ``q`` quantile of ``reference``.

    Label-free and monotone (so the NAB threshold sweep ranks points the same
    way); ``reference`` is what the detector scored on its training data, so
    0.5 means "as unusual as the top 1 % of training". NaN becomes 0.
    """
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=0.0)
    ref = np.asarray(reference, dtype=float)
    ref = ref[np.isfinite(ref)]
    if ref.size == 0:
        raise InputError("the reference scores are empty; fit on a longer probationary period.")
    if (s < 0).any():
        raise InputError("unit_interval expects non-negative scores (errors, distances).")
    r = max(float(np.quantile(ref, q)), 1e-12)
    return s / (s + r)


def nab_run(
    make_detector: Callable[[int | None], object],
    corpus: pd.DataFrame,
    *,
    seed: int | None = None,
    rescale: str | None = "rolling",
    window: int = 6400,
    desc: str = "NAB",
    progress: bool = True,
) -> pd.DataFrame:
    """Fit and score one detector on every series of a NAB corpus frame.

    ``corpus`` is long (``series, category, timestamp, value, in_window``, as
    ``datasets.nab_corpus_frame`` makes it). Each series gets a fresh
    ``make_detector(seed)`` fitted on its probationary rows only. Its raw
    scores (e.g. forecast errors) are mapped to [0, 1], label-free:

    - ``rescale="rolling"``: the two-sided Gaussian tail probability of each
      score under the mean and std of the previous ``window`` scores (the
      windowed-Gaussian rule applied to the detector's scores; it follows
      drift in the error level, which one corpus-wide threshold needs);
    - ``rescale="probation"``: :func:`unit_interval` against the probationary
      scores (fixed per series; saturates when the error level drifts);
    - ``rescale=None``: for detectors that already score in [0, 1].

    Rows without a score (the detector's first history) score 0. Returns the
    corpus with ``anomaly_score`` and ``fit_seconds`` columns.
    """
    need = {"series", "category", "timestamp", "value", "in_window"}
    if not need <= set(corpus.columns):
        raise InputError(f"the NAB corpus frame lacks {sorted(need - set(corpus.columns))}.")
    out = []
    groups = list(corpus.groupby("series", sort=False))
    for name, one in tqdm(groups, desc=desc, disable=not progress, leave=False):
        values = one.set_index("timestamp")["value"]
        probation = nab_probationary_length(len(values))
        detector = make_detector(seed)
        start = time.perf_counter()
        detector.fit(values.iloc[:probation])
        fit_seconds = time.perf_counter() - start
        raw = score_series(detector, values).to_numpy()
        if rescale == "rolling":
            scored = raw[np.argmax(~np.isnan(raw)) :]  # skip the detector's unscored history
            score = WindowedGaussian(window=window).fit(scored).score_samples(scored)
            score = np.r_[np.zeros(len(raw) - len(score)), score]
        elif rescale == "probation":
            score = unit_interval(raw, raw[:probation])
        elif rescale is None:
            score = np.nan_to_num(raw, nan=0.0)
        else:
            raise InputError(f"rescale must be 'rolling', 'probation' or None, got {rescale!r}.")
        if not ((score >= 0) & (score <= 1)).all():
            raise InputError(f"{name}: scores must lie in [0, 1] for NAB; use rescale='rolling'.")
        out.append(one.assign(anomaly_score=score, fit_seconds=fit_seconds))
    return pd.concat(out, ignore_index=True)


def _nab_parts(run: pd.DataFrame, windows: pd.DataFrame) -> list[tuple]:
    by_series = {k: list(zip(g["start"], g["end"])) for k, g in windows.groupby("series")}
    return [
        (one["anomaly_score"].to_numpy(), pd.DatetimeIndex(one["timestamp"]), by_series.get(name, []))
        for name, one in run.groupby("series", sort=False)
    ]


def nab_rows(run: pd.DataFrame, windows: pd.DataFrame, *, model: str, seed: int | None = None) -> list[dict]:
    """NAB score rows of one detector run: every profile on the whole corpus (``series=""``)
    at its optimised threshold, and per category (``series="<category>/*"``) at that same threshold."""
    rows = []
    for profile, metric in NAB_PROFILE_METRIC.items():
        whole = nab_score(_nab_parts(run, windows), profile)
        keys = {"dataset": "nab", "model": model, "protocol": "nab_v1.1", "seed": seed}
        rows += result_rows({metric: whole["score"]}, series="", threshold_rule="nab_corpus_optimised",
                            threshold=whole["threshold"], **keys)  # fmt: skip
        for category, part in run.groupby("category", sort=True):
            parts = _nab_parts(part, windows)
            if not any(w for _, _, w in parts):
                continue  # a category without windows has no NAB score
            one = nab_score(parts, profile, threshold=whole["threshold"])
            rows += result_rows({metric: one["score"]}, series=f"{category}/*", threshold_rule="nab_corpus_optimised",
                                threshold=whole["threshold"], **keys)  # fmt: skip
    return rows


def export_nab_results(run: pd.DataFrame, detector: str, out_dir: Path) -> list[Path]:
    """Write NAB's results layout: ``<out_dir>/<detector>/<category>/<detector>_<file>.csv``
    with columns ``timestamp,value,anomaly_score,label`` (label = inside a window), one file per series."""
    if not detector or "/" in detector:
        raise InputError(f"detector must be a bare name like 'deepant', got {detector!r}.")
    written = []
    for name, one in run.groupby("series", sort=False):
        category, stem = name.split("/", 1)
        target = Path(out_dir) / detector / category / f"{detector}_{stem}.csv"
        frame = one.assign(label=one["in_window"].astype(int))[NAB_RESULT_COLUMNS]
        with atomic_path(target) as tmp:
            frame.to_csv(tmp, index=False, date_format="%Y-%m-%d %H:%M:%S")
        written.append(target)
    return written
