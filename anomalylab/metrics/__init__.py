"""Detection metrics, one module per concern.

- :mod:`~anomalylab.metrics.point`: point-wise precision/recall/F1/F2, ROC-AUC and PR-AUC (scikit-learn's);
- :mod:`~anomalylab.metrics.ranges`: event-wise recall with the composite event F1, and range-based precision,
  recall and F1 (Tatbul et al. 2018) as TSB-AD computes them;
- :mod:`~anomalylab.metrics.vus`: VUS-ROC and VUS-PR (TSB-AD's definition);
- :mod:`~anomalylab.metrics.nab`: the NAB score;
- :mod:`~anomalylab.metrics.clusters`: cluster quality.

:func:`threshold_free_report` and :func:`flag_report` give every metric of one series (or table) at once;
:data:`METRICS` is the fixed list of metric names a result row may carry.
"""

from __future__ import annotations

from anomalylab.metrics._checks import pair
from anomalylab.metrics.clusters import cluster_quality
from anomalylab.metrics.nab import (
    NAB_PROFILE_METRIC,
    NAB_PROFILES,
    nab_score,
    nab_series_scores,
    nab_sweep_scores,
    nab_threshold_sweep,
)
from anomalylab.metrics.point import point_metrics, pr_auc, roc_auc
from anomalylab.metrics.ranges import event_metrics, range_metrics, runs
from anomalylab.metrics.vus import VUS_WINDOW, vus

METRICS = (
    "precision", "recall", "f1", "f2", "roc_auc", "pr_auc",
    "vus_roc", "vus_pr", "range_precision", "range_recall", "range_f1",
    "event_recall", "event_f1", "n_events",
    "nab_standard", "nab_low_fp", "nab_low_fn", "fit_seconds", "score_seconds",
    "silhouette", "davies_bouldin", "calinski_harabasz", "epochs",
)  # fmt: skip

__all__ = [
    "METRICS", "NAB_PROFILES", "NAB_PROFILE_METRIC", "VUS_WINDOW", "cluster_quality", "detection_report",
    "event_metrics", "flag_report", "nab_score", "nab_series_scores", "nab_sweep_scores", "nab_threshold_sweep",
    "point_metrics", "pr_auc", "range_metrics", "roc_auc", "runs", "threshold_free_report", "vus",
]  # fmt: skip


def threshold_free_report(y_true, scores, series: bool = True) -> dict[str, float]:
    """ROC-AUC and PR-AUC; for a series (points in time order) also VUS-ROC, VUS-PR and the number of labelled
    events (runs of positive labels), which event- and range-wise numbers should be read beside."""
    y, s = pair(y_true, scores, "scores")
    report = {"roc_auc": roc_auc(y, s), "pr_auc": pr_auc(y, s)}
    if series:
        report |= vus(y, s)
        report["n_events"] = float(len(runs(y)))
    return report


def flag_report(y_true, flags, series: bool = True) -> dict[str, float]:
    """Point-wise metrics of 0/1 flags; for a series also range-based and event-wise ones."""
    report = point_metrics(y_true, flags)
    if series:
        report |= range_metrics(y_true, flags) | event_metrics(y_true, flags)
    return report


def detection_report(y_true, scores, threshold: float, series: bool = True) -> dict[str, float]:
    """Every metric of :func:`threshold_free_report` and :func:`flag_report` at one threshold (flag where
    ``score >= threshold``)."""
    y, s = pair(y_true, scores, "scores")
    return flag_report(y, (s >= threshold).astype("int8"), series) | threshold_free_report(y, s, series)
