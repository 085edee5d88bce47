"""Turning anomaly scores into flags, with thresholds that never see the test split.

Label-free rules look only at scores of training or validation data
(:func:`mean_k_sigma`, :func:`quantile_threshold`); the validation-tuned rule
(:func:`best_fbeta_threshold`) also uses validation labels. Pass them
training/validation scores, never test scores. A point is flagged when its
score is **at or above** the threshold (:func:`apply_threshold`).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve

from anomalylab.errors import InputError


def _scores(scores, name: str = "scores") -> np.ndarray:
    arr = np.asarray(scores, dtype=float).ravel()
    if arr.size == 0:
        raise InputError(f"{name} is empty; a threshold needs at least one score.")
    if not np.isfinite(arr).all():
        raise InputError(f"{name} holds {int((~np.isfinite(arr)).sum())} NaN or infinite value(s).")
    return arr


def _finite(value, name: str, infinite_ok: bool = False) -> float:
    """``value`` as a float; refuses NaN, non-numbers and (unless ``infinite_ok``) infinity with a message
    naming ``name``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}.") from None
    if isinstance(value, bool) or np.isnan(number) or (np.isinf(number) and not infinite_ok):
        raise InputError(f"{name} must be a finite number, got {value!r}: NaN or infinity would flag nothing "
                         "(or everything) without saying so.")  # fmt: skip
    return number


def _result(threshold: float, what: str) -> float:
    if not np.isfinite(threshold):
        raise InputError(f"{what} came out as {threshold}: the scores are too large to add up; rescale them.")
    return float(threshold)


def mean_k_sigma(scores, k: float = 3.0) -> float:
    """Label-free: mean + ``k`` standard deviations of (training/validation) scores."""
    arr = _scores(scores)
    if _finite(k, "k") < 0:
        raise InputError(f"k must be non-negative, got {k}.")
    with np.errstate(over="ignore", invalid="ignore"):
        return _result(arr.mean() + k * arr.std(), "mean + k sigma")


def quantile_threshold(scores, q: float = 0.99) -> float:
    """Label-free: the ``q`` quantile of (training/validation) scores."""
    if not 0 < _finite(q, "q") <= 1:
        raise InputError(f"q must be in (0, 1], got {q}.")
    return float(np.quantile(_scores(scores), q))


def best_fbeta_threshold(scores, labels, beta: float = 1.0) -> tuple[float, float]:
    """Validation-tuned: the threshold with the best F-beta on a labelled validation split.

    Returns ``(threshold, fbeta_at_threshold)``. Ties go to the highest
    threshold (fewest flags). Refuses labels without any positive: there is
    nothing to tune on.
    """
    arr = _scores(scores)
    y = np.asarray(labels).ravel()
    if y.shape != arr.shape:
        raise InputError(f"scores and labels differ in length: {arr.size} vs {y.size}.")
    if not np.isin(y, [0, 1]).all():
        raise InputError("labels must be 0/1 (or booleans).")
    if y.sum() == 0:
        raise InputError(
            "the validation labels hold no anomaly, so F-beta cannot be tuned; "
            "use a label-free rule (mean_k_sigma, quantile_threshold) instead."
        )
    if _finite(beta, "beta") <= 0:
        raise InputError(f"beta must be positive, got {beta}.")
    precision, recall, thresholds = precision_recall_curve(y, arr)
    p, r = precision[:-1], recall[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (1 + beta**2) * p * r / (beta**2 * p + r)
    f = np.nan_to_num(f)
    best = np.flatnonzero(f == f.max())[-1]  # thresholds ascend: the last is the highest
    return float(thresholds[best]), float(f[best])


def apply_threshold(scores, threshold: float) -> np.ndarray:
    """0/1 flags: 1 where ``score >= threshold``."""
    # +inf flags nothing and -inf everything (a sweep's ends); NaN would flag nothing without saying so
    return (_scores(scores) >= _finite(threshold, "threshold", infinite_ok=True)).astype("int8")
