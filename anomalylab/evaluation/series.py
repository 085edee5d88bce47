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

from anomalylab import runner
from anomalylab.errors import InputError
from anomalylab.evaluation.experiments import Experiment, experiment_models
from anomalylab.evaluation.fitcache import cache_note, cached
from anomalylab.evaluation.rows import PROTOCOL_RULES, SPLITS, Rule, result_rows, row_kind
from anomalylab.metrics import flag_report, threshold_free_report
from anomalylab.preprocessing import scores_on_index
from anomalylab.thresholds import best_fbeta_threshold, mean_k_sigma, quantile_threshold

ThresholdRule = Rule  # a series rule: Rule(threshold(non-test scores, labels, split))


def rule_fixed(value: float, name: str | None = None) -> ThresholdRule:
    """A fixed threshold (e.g. the Mixtiles study's 40 % relative error); named ``fixed_<value>`` unless ``name``
    says what the value means (``relative_0.40``)."""
    return Rule(lambda scores, labels, split: float(value), name=name or f"fixed_{value:g}")  # noqa: ARG005


def rule_val_mean_k_sigma(k: float = 3.0) -> ThresholdRule:
    """Label-free: mean + k std of the validation scores (``val_mean_<k>sd``)."""
    return Rule(lambda scores, labels, split: mean_k_sigma(scores[split == "val"], k),  # noqa: ARG005
                name=f"val_mean_{k:g}sd")


def rule_train_mean_k_sigma(k: float = 3.0) -> ThresholdRule:
    """Label-free: mean + k std of the training scores (the spike-series seed's rule, on training only;
    ``train_mean_<k>sd``)."""
    return Rule(lambda scores, labels, split: mean_k_sigma(scores[split == "train"], k),  # noqa: ARG005
                name=f"train_mean_{k:g}sd")


def rule_val_quantile(q: float = 0.99) -> ThresholdRule:
    """Label-free: the q quantile of the validation scores (``val_q<100 q>``)."""
    return Rule(lambda scores, labels, split: quantile_threshold(scores[split == "val"], q),  # noqa: ARG005
                name=f"val_q{round(q * 100, 6):g}")


def rule_trainval_best_fbeta(beta: float = 2.0) -> ThresholdRule:
    """Tuned on labels of training + validation rows: the threshold with the best F-beta there.

    Training scores are in-sample for a learned detector (slightly optimistic),
    but pooling both splits tunes on every non-test label instead of the few
    in the validation split alone. Named ``trainval_best_f<beta>``.
    """
    return Rule(lambda scores, labels, split: best_fbeta_threshold(scores, labels, beta)[0],  # noqa: ARG005
                name=f"trainval_best_f{beta:g}")


def score_series(detector, series) -> pd.Series:
    """The detector's scores aligned with ``series`` (by position): NaN where it gives none.

    Detectors that need history score a suffix of the series
    (``forecast_index``); the first points get NaN.
    """
    scores = np.asarray(detector.score_samples(series), dtype=float).ravel()
    return scores_on_index(series, scores, getattr(detector, "name", "score"))


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
    given = row_keys.pop("kind", "ours")  # a caller may mark its rows (published, protocol) itself
    scores = pd.Series(np.asarray(scores, dtype=float), index=frame.index)
    is_test = (frame[split] == "test").to_numpy()
    if np.isnan(scores.to_numpy()[is_test]).any():
        raise InputError("some test rows have no score; score the whole series so test points have their history.")
    fit_part = ~is_test & ~np.isnan(scores.to_numpy())
    s_fit, y_fit, sp_fit = scores[fit_part], frame[label][fit_part], frame[split][fit_part]
    y_test, s_test = frame[label].to_numpy()[is_test], scores.to_numpy()[is_test]
    rows = []
    free = threshold_free_report(y_test, s_test)  # the same for every rule
    for rule_name, rule in rules.items():
        threshold = float(rule(s_fit, y_fit, sp_fit))
        report = flag_report(y_test, (s_test >= threshold).astype("int8")) | free
        kind = given if given != "ours" else row_kind(rule)  # result_rows adds what the names say
        rows += result_rows(report, threshold_rule=rule_name, threshold=threshold, kind=kind, **row_keys)
    return rows


def oracle_rows(
    scores: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    beta: float = 2.0,
    label: str = "is_anomaly",
    split: str = "split",
    **row_keys,
) -> list[dict]:
    """The best F-beta any threshold reaches on the **test** rows, per seed column of ``scores`` (as
    :func:`evaluate_series_grid` returns them): a ceiling of the scores, never a result. The rule reads the test
    labels, so the rows are ``protocol`` (rule ``test_best_f<beta> (oracle)``, in :data:`PROTOCOL_RULES`)."""
    rule_name = f"test_best_f{beta:g} (oracle)"
    if rule_name not in PROTOCOL_RULES:
        raise InputError(f"no oracle rule for beta={beta}; known: {sorted(r for r in PROTOCOL_RULES if 'oracle' in r)}")
    is_test = (frame[split] == "test").to_numpy()
    y_test = frame[label].to_numpy()[is_test]
    rows = []
    for seed, column in scores.items():
        s_test = column.to_numpy(dtype=float)[is_test]
        if np.isnan(s_test).any():
            raise InputError("some test rows have no score; score the whole series so test points have their history.")
        threshold, _ = best_fbeta_threshold(s_test, y_test, beta)
        report = flag_report(y_test, (s_test >= threshold).astype("int8"))
        rows += result_rows(report, threshold_rule=rule_name, threshold=threshold,
                            seed=None if seed == "deterministic" else seed, **row_keys)
    return rows


@cached(fit_inputs, history_length, score_series)
def fit_and_score(make_detector, seed, frame: pd.DataFrame, *, value: str, split: str) -> dict:
    """One task of the series protocol: ``make_detector(seed)`` fitted on the training rows (the validation
    rows, with the history they need, drive early stopping) and its scores of every row (NaN for its history),
    with the seconds each took."""
    series = frame[value]
    detector = make_detector(seed)
    train, val = fit_inputs(series, frame[split], history_length(detector, series))
    start = time.perf_counter()
    detector.fit(train, val)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scores = score_series(detector, series).to_numpy()
    return {"scores": scores, "fit_seconds": fit_seconds, "score_seconds": time.perf_counter() - start}


def evaluate_series_grid(
    models: Mapping[str, tuple[Callable[[int | None], object], Sequence[int | None], Mapping[str, ThresholdRule]]]
    | Sequence[Experiment],
    frame: pd.DataFrame,
    *,
    value: str = "value",
    label: str = "is_anomaly",
    split: str = "split",
    dataset: str,
    protocol: str = "",
    progress: bool = True,
    desc: str | None = None,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every model over its seeds on one series, as independent tasks on :mod:`anomalylab.runner`.

    ``models`` is a sequence of :class:`~anomalylab.evaluation.Experiment` (or a mapping of a name to
    ``(make_detector, seeds, rules)``). Each (model, seed) fits a fresh
    ``make_detector(seed)`` on the training rows and scores the whole series; each rule then picks its threshold
    from the non-test rows only. Returns ``(table, scores)``: tidy rows (metrics on the test rows per model, seed
    and rule, plus ``fit_seconds`` and ``score_seconds``) in the order of ``models`` and seeds, and per model the
    scores of every row, one column per seed.
    """
    _check_frame(frame, value, label, split)
    models = experiment_models(models)
    for name, (_, seeds, _) in models.items():
        if not seeds:
            raise InputError(f"{name}: seeds is empty; pass (None,) for a deterministic detector.")
    data = frame[[value, split]]
    tasks = [runner.Task(f"{name} seed {seed}", fit_and_score,
                         {"make_detector": make, "seed": seed, "value": value, "split": split})
             for name, (make, seeds, _) in models.items() for seed in seeds]  # fmt: skip
    done = runner.run(tasks, shared={"frame": data}, desc=desc or dataset, progress=progress)
    if note := cache_note(done):
        print(f"{desc or dataset}: {note}")
    results = iter(done)
    rows, all_scores = [], {}
    for name, (_, seeds, rules) in models.items():
        columns = {}
        for seed in seeds:
            result = next(results)
            scores = pd.Series(result["scores"], index=frame.index, name=name)
            keys = {"dataset": dataset, "model": name, "protocol": protocol, "seed": seed}
            rows += evaluate_scores(scores, frame, rules, label=label, split=split, **keys)
            rows += result_rows({k: result[k] for k in ("fit_seconds", "score_seconds")}, **keys)
            columns["deterministic" if seed is None else seed] = result["scores"]
        all_scores[name] = pd.DataFrame(columns, index=frame.index)
    return pd.DataFrame(rows), all_scores


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
    """One model of :func:`evaluate_series_grid`: ``make_detector(seed)`` fitted once per seed and scored under
    every rule. Returns ``(table, scores)``, the scores of every row one column per seed."""
    table, scores = evaluate_series_grid({model: (make_detector, seeds, rules)}, frame, value=value, label=label,
                                         split=split, dataset=dataset, protocol=protocol, progress=progress,
                                         desc=model)  # fmt: skip
    return table, scores[model]
