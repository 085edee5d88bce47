"""Volume under the surface (VUS-ROC and VUS-PR; Paparrizos et al., VLDB 2022), as TSB-AD computes it.

TSB-AD's ``RangeAUC_volume_opt`` (``TSB_AD/evaluation/basic_metrics.py``, version 1.5) widens every labelled
range by a soft border of ``w // 2`` points on each side (weights ``sqrt(1 - d / w)``), computes a range-aware
ROC and PR curve at 250 thresholds (scores at evenly spaced ranks), and averages the areas over every border
width ``w = 0 .. window``. This module computes the same quantities with whole-array operations (TSB-AD's loops
take seconds per series; this takes milliseconds); ``tests/test_ranges_vus.py`` checks it against TSB-AD's own
outputs, recorded as fixtures. TSB-AD is not a dependency: it pins numpy < 2 and torch.
"""

from __future__ import annotations

import numpy as np

from anomalylab.errors import InputError
from anomalylab.metrics._checks import finite_scores
from anomalylab.metrics.ranges import _bounds

VUS_WINDOW = 100  # TSB-AD's ``get_metrics`` default sliding window
VUS_THRESHOLDS = 250  # TSB-AD's default number of thresholds


def _soft_labels(y: np.ndarray, starts: np.ndarray, ends: np.ndarray, w: int) -> np.ndarray:
    """Labels with a border of ``w // 2`` points on each side of every range, weighted ``sqrt(1 - d / w)``."""
    label = y.astype(float)
    n, half = len(y), w // 2
    for s, e in zip(starts, ends):
        after = np.arange(e + 1, min(e + half + 1, n))
        label[after] += np.sqrt(1 - (after - e) / w)
        before = np.arange(max(s - half, 0), s)
        label[before] += np.sqrt(1 - (s - before) / w)
    return np.minimum(1.0, label)


def _merged_ranges(starts: np.ndarray, ends: np.ndarray, w: int, n: int) -> list[tuple[int, int]]:
    """The labelled ranges widened by ``w // 2`` on each side, merged where they meet (TSB-AD's
    ``new_sequence``)."""
    half = w // 2
    merged, a = [], max(int(starts[0]) - half, 0)
    for k in range(len(starts) - 1):
        if ends[k] + half < starts[k + 1] - half:
            merged.append((a, int(ends[k]) + half))
            a = int(starts[k + 1]) - half
    merged.append((a, min(int(ends[-1]) + half, n - 1)))
    return merged


def vus(y_true, scores, window: int = VUS_WINDOW, n_thresholds: int = VUS_THRESHOLDS) -> dict[str, float]:
    """``vus_roc`` and ``vus_pr`` of ``scores`` (higher = more anomalous) against 0/1 labels in time order.

    NaN when there is no labelled point. ``window`` is the widest soft border (TSB-AD's ``slidingWindow``).
    """
    y, s = finite_scores(y_true, scores)
    if int(window) != window or window < 0 or int(n_thresholds) != n_thresholds or n_thresholds < 1:
        raise InputError(f"window must be an integer >= 0 and n_thresholds >= 1, got {window}, {n_thresholds}.")
    if y.sum() == 0:
        return {"vus_roc": float("nan"), "vus_pr": float("nan")}
    n, positives = len(y), float(y.sum())
    starts, ends = _bounds(y)
    ranked = -np.sort(-s)
    thresholds = ranked[np.linspace(0, n - 1, n_thresholds).astype(int)]
    pred = (s[None, :] >= thresholds[:, None]).astype(float)  # thresholds x points
    n_pred = pred.sum(axis=1)
    counts = np.zeros((n_thresholds, n + 1))
    np.cumsum(pred, axis=1, out=counts[:, 1:])
    widths = np.arange(int(window) + 1)
    soft = np.stack([_soft_labels(y, starts, ends, w) for w in widths])  # widths x points
    tp = pred @ soft.T  # thresholds x widths
    border = pred @ (soft * (1 - y)).T
    auc, ap = np.zeros(len(widths)), np.zeros(len(widths))
    for w in widths:
        merged = np.array(_merged_ranges(starts, ends, int(w), n))
        existence = ((counts[:, merged[:, 1] + 1] - counts[:, merged[:, 0]]) > 0).sum(axis=1) / len(merged)
        p_new = (2 * positives + border[:, w]) / 2
        tpr = np.minimum(tp[:, w] / p_new, 1) * existence
        fpr = (n_pred - tp[:, w]) / (n - p_new)
        precision = tp[:, w] / n_pred
        tpr_all, fpr_all = np.r_[0.0, tpr, 1.0], np.r_[0.0, fpr, 1.0]
        auc[w] = np.dot(np.diff(fpr_all), (tpr_all[1:] + tpr_all[:-1]) / 2)
        ap[w] = np.dot(np.diff(tpr_all[:-1]), precision)
    return {"vus_roc": float(auc.mean()), "vus_pr": float(ap.mean())}
