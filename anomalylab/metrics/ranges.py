"""Metrics over ranges of consecutive labels: event-wise recall with the composite F-score, and range-based
precision, recall and F1 (Tatbul et al., NeurIPS 2018).

Both follow TSB-AD (Liu & Paparrizos, NeurIPS 2024, ``TSB_AD/evaluation/basic_metrics.py``): its
``Event-based-F1`` (event-wise recall with point-wise precision, the composite F-score of Garg et al. 2021)
and its ``R-based-F1`` (range recall with existence weight 0.2, range precision with none, reciprocal
cardinality, flat positional bias). ``tests/test_ranges_vus.py`` checks them against the outputs of TSB-AD 1.5
and ``prts`` 1.0.0.3 (the range metrics' reference implementation), recorded as fixtures.
"""

from __future__ import annotations

import numpy as np

from anomalylab.errors import InputError
from anomalylab.metrics._checks import binary, pair

CARDINALITY = ("reciprocal", "one")


def runs(flags) -> list[tuple[int, int]]:
    """Contiguous runs of 1s as (first, last) positions, both inclusive."""
    f = binary(flags, "flags")
    starts, ends = _bounds(f)
    return list(zip(starts.tolist(), ends.tolist()))


def _bounds(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.diff(np.r_[0, f, 0])
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1


def event_metrics(y_true, y_pred) -> dict[str, float]:
    """Event-wise recall and the composite event F1.

    An event is a run of consecutive positive labels. ``event_recall`` is the share of events with at least one
    flag inside. ``event_f1`` is the harmonic mean of that recall and the **point-wise** precision (Garg et al.
    2021; TSB-AD's ``Event-based-F1``): a detector that flags every point keeps full event recall, but its
    precision is the anomaly share, so it no longer scores F1 = 1 (the run-counting precision used before did).
    Both are 0 when undefined (no events, no flags).
    """
    y, p = pair(y_true, y_pred, "y_pred")
    p = binary(p, "y_pred")
    starts, ends = _bounds(y)
    counts = np.r_[0, np.cumsum(p)]
    hit = (counts[ends + 1] - counts[starts]) > 0
    recall = float(hit.mean()) if len(starts) else 0.0
    precision = float((y & p).sum() / p.sum()) if p.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"event_recall": recall, "event_f1": float(f1)}


def _range_recall(real: np.ndarray, pred: np.ndarray, alpha: float, cardinality: str) -> float:
    """Tatbul et al.'s range recall of ``real`` ranges by ``pred`` flags (flat bias); precision is the same
    with the roles swapped and ``alpha = 0``."""
    r_start, r_end = _bounds(real)
    if not len(r_start):
        return 0.0
    p_start, p_end = _bounds(pred)
    counts = np.r_[0, np.cumsum(pred)]
    overlap = counts[r_end + 1] - counts[r_start]
    existence = (overlap > 0).astype(float)
    size = overlap / (r_end - r_start + 1)
    # predicted ranges that overlap each real range: start <= real end and end >= real start (sorted, disjoint)
    n_overlapping = np.searchsorted(p_start, r_end, side="right") - np.searchsorted(p_end, r_start, side="left")
    gamma = np.ones(len(r_start)) if cardinality == "one" else 1.0 / np.maximum(n_overlapping, 1)
    return float(np.mean(alpha * existence + (1 - alpha) * gamma * size))


def range_metrics(y_true, y_pred, recall_alpha: float = 0.2, cardinality: str = "reciprocal") -> dict[str, float]:
    """Range-based precision, recall and F1 (Tatbul et al. 2018) with flat positional bias.

    Recall averages, over labelled ranges, ``alpha * existence + (1 - alpha) * cardinality * overlap share``;
    precision does the same over flagged ranges with ``alpha = 0``. ``cardinality`` ``"reciprocal"`` divides a
    range's reward by the number of ranges of the other side it overlaps; ``"one"`` does not. The defaults are
    TSB-AD's ``R-based-F1``. All three are 0 when undefined (no labelled or no flagged range).
    """
    if cardinality not in CARDINALITY:
        raise InputError(f"cardinality must be one of {CARDINALITY}, got {cardinality!r}.")
    if not 0 <= recall_alpha <= 1:
        raise InputError(f"recall_alpha must lie in [0, 1], got {recall_alpha}.")
    y, p = pair(y_true, y_pred, "y_pred")
    y, p = y.astype(np.int64), binary(p, "y_pred").astype(np.int64)
    recall = _range_recall(y, p, recall_alpha, cardinality)
    precision = _range_recall(p, y, 0.0, cardinality)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"range_precision": precision, "range_recall": recall, "range_f1": float(f1)}
