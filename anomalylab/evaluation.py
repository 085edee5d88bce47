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
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from anomalylab.datasets import nab_probationary_length
from anomalylab.errors import InputError
from anomalylab.metrics import (
    METRICS,
    NAB_PROFILE_METRIC,
    cluster_quality,
    detection_report,
    nab_score,
    pr_auc,
    roc_auc,
)
from anomalylab.models.classical import WindowedGaussian
from anomalylab.models.hybrid import HybridKMeansAutoencoder
from anomalylab.paths import atomic_path
from anomalylab.preprocessing import KDDEncoder, index_of
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


# --------------------------------------------------------------------------- tables (KDD Cup 99)


@dataclass(frozen=True)
class TabularSplits:
    """Encoded rows of one tabular protocol.

    ``X_train`` holds inliers only (what a detector fits on). ``X_val``/``y_val``
    are held-out rows for thresholds (and their inliers for early stopping).
    ``test_rows`` describes every test row (``label``, ``attack_category``,
    ``test_only``) and holds one boolean column per test subset to report
    (``subsets``), e.g. the seed's 8,000/2,000 sample and the whole file.
    """

    protocol: str
    X_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    test_rows: pd.DataFrame
    subsets: tuple[str, ...]
    encoder: object
    unseen_in_test: dict  # rows of the test data per categorical feature whose category the fit rows lack

    def describe(self) -> pd.DataFrame:
        """Rows and outliers per part: what each model is fitted on, tuned on and tested on."""
        parts = {"train (fit)": np.zeros(len(self.X_train)), "validation": self.y_val}
        parts.update({f"test: {s}": self.y_test[self.test_rows[s].to_numpy()] for s in self.subsets})
        return pd.DataFrame(
            [{"part": k, "rows": len(v), "outliers": int(np.sum(v)), "features": self.X_train.shape[1]}
             for k, v in parts.items()]  # fmt: skip
        ).set_index("part")


def _sample_rows(rng: np.random.Generator, index: np.ndarray, n: int) -> np.ndarray:
    if n > len(index):
        raise InputError(f"asked for {n} rows but only {len(index)} are available.")
    return np.sort(rng.choice(index, size=n, replace=False))


def _cap_rows(rng: np.random.Generator, rows: np.ndarray, limit: int | None) -> np.ndarray:
    """``rows``, or a seeded sample of ``limit`` of them (quick mode's ``max_train_rows``)."""
    return rows if limit is None or len(rows) <= limit else _sample_rows(rng, rows, limit)


def kdd_protocol_k1(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    seed: int = 0,
    val_fraction: float = 0.2,
    n_inliers: int = 8000,
    n_outliers: int = 2000,
    max_train_rows: int | None = None,
) -> TabularSplits:
    """K1, the Fast Forward Labs seed's protocol with its labels fixed.

    Fit on the normal rows of the 10 % file, less a random ``val_fraction`` held
    out for validation; the validation split adds attacks of the 10 % file, one
    per four held-out normals (the test sample's ratio). Test on ``corrected``:
    every attack is an outlier, the 17 test-only types included. Subsets: the
    seed's sample of ``n_inliers`` normals and ``n_outliers`` attacks (fixed
    ``seed``) and the whole file. The encoder is fitted on the fitting rows only.
    When ``max_train_rows`` caps the fitting rows, the protocol is named
    ``K1_fit<rows>`` so that its numbers are never mistaken for full K1's.
    """
    rng = np.random.default_rng(seed)
    normal = np.flatnonzero(train["is_attack"].to_numpy() == 0)
    attacks = np.flatnonzero(train["is_attack"].to_numpy() == 1)
    val_normal = _sample_rows(rng, normal, int(round(val_fraction * len(normal))))
    fit_rows = _cap_rows(rng, np.setdiff1d(normal, val_normal), max_train_rows)
    val_attack = _sample_rows(rng, attacks, len(val_normal) // 4)
    val_rows = np.r_[val_normal, val_attack]
    encoder = KDDEncoder().fit(train.iloc[fit_rows])
    X_test = encoder.transform(test)
    unseen = dict(encoder.unseen_counts_)
    y_test = test["is_attack"].to_numpy().astype(int)
    sample = np.zeros(len(test), dtype=bool)
    sample[_sample_rows(rng, np.flatnonzero(y_test == 0), n_inliers)] = True
    sample[_sample_rows(rng, np.flatnonzero(y_test == 1), n_outliers)] = True
    train_labels = set(train["label"].astype(str))
    test_rows = pd.DataFrame({
        "label": test["label"].astype(str).to_numpy(),
        "attack_category": test["attack_category"].astype(str).to_numpy(),
        "test_only": ~test["label"].astype(str).isin(train_labels).to_numpy(),
        f"sample_{n_inliers}_{n_outliers}": sample,
        "whole_file": np.ones(len(test), dtype=bool),
    })  # fmt: skip
    return TabularSplits(
        protocol="K1" if len(fit_rows) == len(normal) - len(val_normal) else f"K1_fit{len(fit_rows)}",
        X_train=encoder.transform(train.iloc[fit_rows]),
        X_val=encoder.transform(train.iloc[val_rows]), y_val=np.r_[np.zeros(len(val_normal)), np.ones(len(val_attack))],
        X_test=X_test, y_test=y_test, test_rows=test_rows,
        subsets=(f"sample_{n_inliers}_{n_outliers}", "whole_file"), encoder=encoder, unseen_in_test=unseen,
    )  # fmt: skip


def kdd_protocol_k2(
    frame: pd.DataFrame, *, seed: int = 0, val_fraction: float = 0.1, max_train_rows: int | None = None
) -> TabularSplits:
    """K2, the DAGMM / ALAD protocol on the 10 % file: ``normal`` traffic (about 20 %) is the outlier class.

    A random 50/50 split (``seed``); fit on the attack rows of the first half
    (less ``val_fraction`` held out as inlier validation rows for early stopping
    and label-free thresholds); test on the whole second half.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    first, second = np.sort(order[: len(frame) // 2]), np.sort(order[len(frame) // 2 :])
    inliers = first[frame["is_attack"].to_numpy()[first] == 1]
    val_rows = _sample_rows(rng, inliers, int(round(val_fraction * len(inliers))))
    fit_rows = _cap_rows(rng, np.setdiff1d(inliers, val_rows), max_train_rows)
    encoder = KDDEncoder().fit(frame.iloc[fit_rows])
    test = frame.iloc[second]
    X_test = encoder.transform(test)
    unseen = dict(encoder.unseen_counts_)
    test_rows = pd.DataFrame({
        "label": test["label"].astype(str).to_numpy(),
        "attack_category": test["attack_category"].astype(str).to_numpy(),
        "test_only": np.zeros(len(test), dtype=bool),
        "second_half": np.ones(len(test), dtype=bool),
    })  # fmt: skip
    return TabularSplits(
        protocol="K2", X_train=encoder.transform(frame.iloc[fit_rows]), X_val=encoder.transform(frame.iloc[val_rows]),
        y_val=np.zeros(len(val_rows)), X_test=X_test,
        y_test=(test["is_attack"].to_numpy() == 0).astype(int), test_rows=test_rows, subsets=("second_half",),
        encoder=encoder, unseen_in_test=unseen,
    )  # fmt: skip


TABLE_METRICS = ("precision", "recall", "f1", "f2", "roc_auc", "pr_auc")

# A table rule maps (validation scores, validation labels, test scores of the subset) to a threshold.
TableRule = Callable[[np.ndarray, np.ndarray, np.ndarray], float]


def table_rule_val_quantile(q: float = 0.99) -> TableRule:
    """Label-free: the q quantile of the validation **inliers'** scores (about 1 - q false-alarm rate)."""
    return lambda val, y_val, test: quantile_threshold(val[y_val == 0], q)  # noqa: ARG005


def table_rule_val_best_fbeta(beta: float = 1.0) -> TableRule:
    """Tuned on the labelled validation split: the threshold of best F-beta there."""
    return lambda val, y_val, test: best_fbeta_threshold(val, y_val, beta)[0]  # noqa: ARG005


def table_rule_fixed(value: float) -> TableRule:
    """A fixed threshold, for scores that carry their own (a classifier's log-odds, a per-cluster margin)."""
    return lambda val, y_val, test: float(value)  # noqa: ARG005


def table_rule_test_quantile(q: float = 0.8) -> TableRule:
    """The K2 protocol's own rule (DAGMM, ALAD): flag the top ``1 - q`` of the **test** scores.

    It reads no label but does read the test scores and assumes the test
    split's outlier share is known; it is kept only to compare with the
    papers that use it, never as this project's choice.
    """
    return lambda val, y_val, test: quantile_threshold(test, q)  # noqa: ARG005


def evaluate_table(
    make_detector: Callable[[int | None], object],
    splits: TabularSplits,
    rules: Mapping[str, TableRule],
    *,
    seeds: Sequence[int | None] = (None,),
    dataset: str = "kddcup99",
    model: str,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit ``make_detector(seed)`` on the training inliers once per seed, score validation and test
    rows, and report every rule on every test subset (``protocol = "<protocol>_<subset>"``).

    Returns ``(table, test_scores)``; ``table`` carries a ``threshold`` column,
    ``test_scores`` one column per seed.
    """
    if not seeds:
        raise InputError("seeds is empty; pass (None,) for a deterministic detector.")
    rows, all_scores = [], {}
    val_inliers = splits.X_val[splits.y_val == 0]
    for seed in tqdm(seeds, desc=model, disable=not progress or len(seeds) < 2, leave=False):
        detector = make_detector(seed)
        start = time.perf_counter()
        detector.fit(splits.X_train, val_inliers)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        test_scores = np.asarray(detector.score_samples(splits.X_test), dtype=float)
        score_seconds = time.perf_counter() - start
        val_scores = np.asarray(detector.score_samples(splits.X_val), dtype=float)
        failed = not (np.isfinite(test_scores).all() and np.isfinite(val_scores).all())
        if failed:  # a diverged fit: its metrics are NaN (never 0), and it says so
            warnings.warn(f"{model} seed {seed}: non-finite scores (the fit diverged); its metrics are NaN.",
                          stacklevel=2)  # fmt: skip
        for subset in splits.subsets:
            mask = splits.test_rows[subset].to_numpy()
            keys = {"dataset": dataset, "model": model, "protocol": f"{splits.protocol}_{subset}", "seed": seed}
            for rule_name, rule in rules.items():
                if failed:
                    threshold, report = np.nan, dict.fromkeys(TABLE_METRICS, np.nan)
                else:
                    threshold = float(rule(val_scores, splits.y_val, test_scores[mask]))
                    report = detection_report(splits.y_test[mask], test_scores[mask], threshold)
                    report = {k: report[k] for k in TABLE_METRICS}  # event-wise metrics: rows are not a series
                rows += result_rows(report, threshold_rule=rule_name, threshold=threshold, **keys)
            rows += result_rows({"fit_seconds": fit_seconds, "score_seconds": score_seconds}, **keys)
        all_scores["deterministic" if seed is None else seed] = test_scores
    return pd.DataFrame(rows), pd.DataFrame(all_scores)


def hold_out_labelled(splits: TabularSplits, n: int, seed: int = 0) -> tuple[TabularSplits, np.ndarray]:
    """Take ``n`` labelled outliers out of the validation split, for a semi-supervised detector to learn
    from; returns the splits without them (thresholds never see them) and their encoded rows."""
    outliers = np.flatnonzero(splits.y_val == 1)
    if not 0 < n <= len(outliers):
        raise InputError(f"n must lie in 1..{len(outliers)} (the validation outliers), got {n}.")
    taken = _sample_rows(np.random.default_rng(seed), outliers, n)
    keep = np.setdiff1d(np.arange(len(splits.y_val)), taken)
    return replace(splits, X_val=splits.X_val[keep], y_val=splits.y_val[keep]), splits.X_val[taken]


def tune_hybrid(
    splits: TabularSplits,
    *,
    latent_dims: Sequence[int],
    n_clusters: Sequence[int],
    seed: int = 0,
    sample_size: int = 5000,
    progress: bool = True,
    **hybrid_params,
) -> pd.DataFrame:
    """Grid of :class:`HybridKMeansAutoencoder` settings judged on **validation** data only.

    One autoencoder per code size (``latent_dims``); K-Means is refitted on
    its codes for every number of clusters. Per grid point: cluster quality of
    the training codes (silhouette on a seeded ``sample_size`` rows,
    Davies-Bouldin, Calinski-Harabasz) and detection quality on the labelled
    validation split (ROC-AUC, PR-AUC). The test split is never read.
    """
    if not latent_dims or not n_clusters or min(n_clusters) < 2:
        raise InputError("give at least one code size and numbers of clusters of at least 2.")
    val_inliers = splits.X_val[splits.y_val == 0]
    rows = []
    for dim in tqdm(latent_dims, desc="code sizes", disable=not progress, leave=False):
        start = time.perf_counter()
        base = HybridKMeansAutoencoder(n_clusters=n_clusters[0], latent_dim=dim, seed=seed, **hybrid_params)
        base.fit(splits.X_train, val_inliers)
        ae_seconds = time.perf_counter() - start
        codes = base.encode(splits.X_train)
        for k in n_clusters:
            start = time.perf_counter()
            model = base if k == n_clusters[0] else base.recluster(splits.X_train, k, val_inliers)
            val_scores = model.score_samples(splits.X_val)
            rows.append({
                "latent_dim": dim, "n_clusters": k,
                **cluster_quality(codes, model.train_clusters_, sample_size=sample_size, seed=seed),
                "val_roc_auc": roc_auc(splits.y_val, val_scores), "val_pr_auc": pr_auc(splits.y_val, val_scores),
                "smallest_cluster_share": np.bincount(model.train_clusters_, minlength=k).min() / len(codes),
                "autoencoder_seconds": ae_seconds, "kmeans_seconds": time.perf_counter() - start,
            })  # fmt: skip
    return pd.DataFrame(rows)


def hybrid_diagnosis(model: HybridKMeansAutoencoder, X, y, X_ref, q: float = 0.95) -> dict:
    """Where a fitted hybrid's score wins or loses: ROC-AUC of each part of the score on labelled rows
    (``X``, ``y``), recall at the global ``q`` quantile of the reference rows' scores, and the cluster
    that holds most of the missed anomalies with its training rows and its error spread (IQR) relative
    to the median cluster's."""
    y = np.asarray(y).astype(int).ravel()
    parts = model.score_components(X)
    score = parts["score"]
    missed = (y == 1) & (score < np.quantile(model.score_components(X_ref)["score"], q))
    counts = np.bincount(parts["cluster"][missed], minlength=model.n_clusters)
    worst = int(counts.argmax())
    spread = model.error_stats_[1]
    return {
        "recall": 1 - missed.sum() / max(y.sum(), 1),
        "roc_auc_error": roc_auc(y, parts["error"]), "roc_auc_error_z": roc_auc(y, parts["error_z"]),
        "roc_auc_distance_z": roc_auc(y, parts["distance_z"]), "roc_auc_score": roc_auc(y, score),
        "worst_cluster": worst, "missed_there": int(counts[worst]), "missed": int(missed.sum()),
        "worst_cluster_train_rows": int(np.sum(model.train_clusters_ == worst)),
        "worst_cluster_error_iqr_vs_median": float(spread[worst] / np.median(spread)),
    }  # fmt: skip


def tidy_grid(grid: pd.DataFrame, *, dataset: str, protocol: str, model: str = "hybrid") -> pd.DataFrame:
    """:func:`tune_hybrid`'s grid as tidy score-table rows: one model name per grid point
    (``<model>_d<latent_dim>_k<n_clusters>``), validation ROC-/PR-AUC as ``roc_auc``/``pr_auc``,
    the cluster metrics under their own names, and the autoencoder + K-Means time as ``fit_seconds``."""
    wide = grid.assign(
        model=[f"{model}_d{d}_k{k}" for d, k in zip(grid["latent_dim"], grid["n_clusters"])],
        fit_seconds=grid["autoencoder_seconds"] + grid["kmeans_seconds"],
    ).rename(columns={"val_roc_auc": "roc_auc", "val_pr_auc": "pr_auc"})
    metrics = ["silhouette", "davies_bouldin", "calinski_harabasz", "roc_auc", "pr_auc", "fit_seconds"]
    rows = wide.melt(id_vars=["model"], value_vars=metrics, var_name="metric", value_name="value")
    return rows.assign(dataset=dataset, protocol=protocol, series="", seed=np.nan, threshold_rule="")


def recall_by(flags, labels, test_rows: pd.DataFrame, by: str = "label") -> pd.DataFrame:
    """Share of the outlier rows (``labels == 1``) of each group (attack type or category) that
    ``flags`` catches; ``test_only`` marks attack types never seen in training."""
    flags = np.asarray(flags).astype(bool).ravel()
    labels = np.asarray(labels).ravel()
    if not len(flags) == len(labels) == len(test_rows):
        sizes = f"{len(flags)}, {len(labels)}, {len(test_rows)}"
        raise InputError(f"flags, labels and test_rows differ in length: {sizes}.")
    frame = test_rows.assign(flagged=flags)[labels == 1]
    grouped = frame.groupby(by, observed=True)
    out = pd.DataFrame({"rows": grouped.size(), "recall": grouped["flagged"].mean()})
    if by == "label":
        out["attack_category"] = grouped["attack_category"].first()
        out["test_only"] = grouped["test_only"].first()
    return out.sort_values("recall")
