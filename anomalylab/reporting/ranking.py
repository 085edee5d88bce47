"""The detectors of the NAB tables side by side, series by series: the matrices that the critical-difference
diagrams of notebook 06 and ``anomalylab evaluate nab`` rank (ours, NAB's own detectors, and a newcomer's)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from anomalylab.evaluation.nab import SERIES_PROTOCOL

# A detector whose scores take one value on at least this share of the rows is a sparse alarm: a threshold-free
# metric (VUS, PR-AUC, ROC-AUC) sees only its few distinct scores, so it is left out of rankings by such a metric.
SPARSE_SHARE = 0.99
THRESHOLD_FREE = ("vus_pr", "vus_roc", "pr_auc", "roc_auc")

NAB_RANKINGS = {  # title -> (metric, half of the corpus or None for every series with a window)
    "VUS-PR, every series with a window": ("vus_pr", None),
    "NAB standard score per series, evaluation half": ("nab_standard", "eval"),
}


def sparse_alarm(scores) -> str | None:
    """None, or why a threshold-free metric cannot rank these scores: one value on at least :data:`SPARSE_SHARE`
    of the finite scores (a sparse alarm, such as ARTime's shipped scores: 0 on 99.9 % of NAB's rows)."""
    values = np.asarray(scores, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    distinct, counts = np.unique(values, return_counts=True)
    share = counts.max() / len(values)
    if share < SPARSE_SHARE:
        return None
    return (f"scores {distinct[counts.argmax()]:g} on {share:.1%} of its rows (a sparse alarm): a threshold-free "
            "metric cannot rank it")


def nab_sparse_alarms() -> dict[str, str]:
    """NAB's detectors whose shipped scores are sparse alarms (:func:`sparse_alarm`), under their names in the
    tables (``"<detector> (NAB)"``), with the reason."""
    from anomalylab import datasets

    reasons = {f"{d} (NAB)": sparse_alarm(datasets.load_nab_detector_results(d)["anomaly_score"])
               for d in datasets.NAB_DETECTORS}  # fmt: skip
    return {name: reason for name, reason in reasons.items() if reason}


def without_sparse(table: pd.DataFrame, sparse: Mapping[str, str] | None, keep_published: bool = False) -> pd.DataFrame:
    """``table`` without the threshold-free metric rows (:data:`THRESHOLD_FREE`) of the models in ``sparse``
    (name -> reason, :func:`sparse_alarm`): such a metric cannot rank a sparse alarm. ``keep_published`` keeps
    the ``published`` rows (NAB's detectors' metrics as shipped, for the record)."""
    if not sparse:
        return table
    drop = table["model"].isin(list(sparse)) & table["metric"].isin(THRESHOLD_FREE)
    if keep_published:
        drop &= table["kind"] != "published"
    return table[~drop]


def nab_series_matrices(tables: pd.DataFrame, split: pd.Series, min_runs: int,
                        sparse: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:  # fmt: skip
    """Per ranking of :data:`NAB_RANKINGS`: a series x model matrix of the per-series rows' values (mean over
    seeds), with only the series every model has. A model with seeds enters with at least ``min_runs`` of them;
    one without (NAB's detectors, a newcomer's results) enters as it is. The models of ``sparse`` (name ->
    reason, :func:`nab_sparse_alarms`) are left out of the rankings by a threshold-free metric."""
    rows = tables[tables["protocol"] == SERIES_PROTOCOL].drop_duplicates(["series", "model", "seed", "metric"])
    seeds = rows.groupby("model")["seed"].nunique()
    rows = rows[rows["model"].isin(seeds[(seeds == 0) | (seeds >= min_runs)].index)]
    matrices = {}
    for title, (metric, half) in NAB_RANKINGS.items():
        chosen = without_sparse(rows[rows["metric"] == metric], sparse)
        if half is not None:
            chosen = chosen[chosen["series"].map(split) == half]
        matrix = chosen.groupby(["series", "model"])["value"].mean().unstack("model")
        matrices[title] = matrix.dropna() if len(matrix) else matrix
    return matrices


__all__ = ["NAB_RANKINGS", "SPARSE_SHARE", "THRESHOLD_FREE", "nab_series_matrices", "nab_sparse_alarms",
           "sparse_alarm", "without_sparse"]
