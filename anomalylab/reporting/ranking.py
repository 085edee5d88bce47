"""The detectors of the NAB tables side by side, series by series: the matrices that the critical-difference
diagrams of notebook 06 and ``anomalylab evaluate nab`` rank (ours, NAB's own detectors, and a newcomer's)."""

from __future__ import annotations

import pandas as pd

from anomalylab.evaluation.nab import SERIES_PROTOCOL

NAB_RANKINGS = {  # title -> (metric, half of the corpus or None for every series with a window)
    "VUS-PR, every series with a window": ("vus_pr", None),
    "NAB standard score per series, evaluation half": ("nab_standard", "eval"),
}


def nab_series_matrices(tables: pd.DataFrame, split: pd.Series, min_runs: int) -> dict[str, pd.DataFrame]:
    """Per ranking of :data:`NAB_RANKINGS`: a series x model matrix of the per-series rows' values (mean over
    seeds), with only the series every model has. A model with seeds enters with at least ``min_runs`` of them;
    one without (NAB's detectors, a newcomer's results) enters as it is."""
    rows = tables[tables["protocol"] == SERIES_PROTOCOL].drop_duplicates(["series", "model", "seed", "metric"])
    seeds = rows.groupby("model")["seed"].nunique()
    rows = rows[rows["model"].isin(seeds[(seeds == 0) | (seeds >= min_runs)].index)]
    matrices = {}
    for title, (metric, half) in NAB_RANKINGS.items():
        chosen = rows[rows["metric"] == metric]
        if half is not None:
            chosen = chosen[chosen["series"].map(split) == half]
        matrix = chosen.groupby(["series", "model"])["value"].mean().unstack("model")
        matrices[title] = matrix.dropna() if len(matrix) else matrix
    return matrices


__all__ = ["NAB_RANKINGS", "nab_series_matrices"]
