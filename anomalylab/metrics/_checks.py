"""Input checks shared by the metric modules."""

from __future__ import annotations

import numpy as np

from anomalylab.errors import InputError


def binary(values, name: str) -> np.ndarray:
    """``values`` as an int8 0/1 array; an error names ``name`` if anything else is in it."""
    arr = np.asarray(values).ravel()
    if arr.dtype == bool:
        return arr.astype("int8")
    if not np.isin(arr, [0, 1]).all():
        raise InputError(f"{name} must hold only 0/1 (or booleans).")
    return arr.astype("int8")


def pair(y_true, other, other_name: str):
    """0/1 labels and a second array of the same length."""
    y = binary(y_true, "y_true")
    o = np.asarray(other).ravel()
    if y.size == 0:
        raise InputError(f"y_true and {other_name} are empty; pass at least one labelled point.")
    if y.shape != o.shape:
        raise InputError(f"y_true and {other_name} differ in length: {y.size} vs {o.size}.")
    return y, o


def finite_scores(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels and float scores of the same length, every score finite."""
    y, s = pair(y_true, scores, "scores")
    s = s.astype(float)
    if not np.isfinite(s).all():
        raise InputError(f"scores hold {int((~np.isfinite(s)).sum())} NaN or infinite value(s); score every point "
                         "(drop unscored history first, e.g. scores.dropna() with the labels at the same index).")
    return y, s
