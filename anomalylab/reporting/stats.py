"""Intervals and tests on score tables: 95 % t-intervals over seeds, paired Wilcoxon signed-rank tests, and
Friedman/Nemenyi rank tests with the critical difference of Demšar (2006).

Intervals are Student-t intervals of the mean over seeds (``mean ± t(0.975, n-1) · s / sqrt(n)``): with 3 to 10
seeds a bootstrap interval is too narrow. Tests are scipy's (``wilcoxon``, ``friedmanchisquare``) and
scikit-posthocs' (``posthoc_nemenyi_friedman``); nothing here computes a test statistic by hand.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from anomalylab.errors import InputError

LEVEL = 0.95


def t_half_width(std: float, count: int, level: float = LEVEL) -> float:
    """Half-width of the ``level`` Student-t interval of a mean of ``count`` values; NaN for fewer than 2."""
    if count < 2 or np.isnan(std):
        return float("nan")
    return float(stats.t.ppf(0.5 + level / 2, count - 1) * std / np.sqrt(count))


def mean_ci(mean: float, std: float, count: int, decimals: int = 3, missing: str = "NaN") -> str:
    """``"mean ± h"`` with ``h`` the half-width of the 95 % t-interval over ``count`` runs, or the mean alone for
    one run; ``missing`` for a NaN mean."""
    if np.isnan(mean):
        return missing
    half = t_half_width(std, count)
    if np.isnan(half):
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {half:.{decimals}f}"


def select_rows(table: pd.DataFrame, metric: str, filters: Mapping) -> pd.DataFrame:
    """The rows of ``metric`` that match ``filters`` (column=value; ``series=""`` matches empty series). Refuses
    an unknown column and an empty selection, so nothing built on it can quote a number that is not there."""
    rows = table[table["metric"] == metric]
    for column, value in filters.items():
        if column not in rows:
            raise InputError(f"the table has no column {column!r}.")
        values = rows[column].astype(object).fillna("") if value == "" else rows[column]
        rows = rows[values == value]
    if rows.empty:
        raise InputError(f"no {metric!r} rows match {dict(filters)}.")
    return rows


def paired_values(table: pd.DataFrame, metric: str, groups: Mapping[str, Mapping], on: str = "seed") -> pd.DataFrame:
    """One column per group (``label -> filters``), one row per value of ``on`` that every group has.

    ``on="seed"``: runs of two models paired by seed on one dataset; ``on="series"``: per-series values
    (averaged over seeds) paired by series. Values of ``on`` that a group lacks are dropped for all. A group
    without any value of ``on`` (a deterministic detector's single run) is the same value in every pair, so the
    test becomes a one-sample test of the other group's runs against it.
    """
    if len(groups) < 2:
        raise InputError("give at least two groups to pair.")
    columns, constant = {}, {}
    for label, filters in groups.items():
        rows = select_rows(table, metric, filters)
        if rows[on].isna().all():  # a deterministic detector (no seed): the same value for every pair
            constant[label] = float(rows["value"].mean())
        else:
            columns[label] = rows.dropna(subset=[on]).groupby(on)["value"].mean()
    wide = pd.DataFrame(columns).dropna() if columns else pd.DataFrame(index=pd.Index([np.nan], name=on))
    for label, value in constant.items():
        wide[label] = value
    wide = wide[list(groups)]
    if wide.empty:
        raise InputError(f"the groups share no {on!r}; nothing to pair.")
    return wide


def wilcoxon_test(table: pd.DataFrame, metric: str, a: tuple[str, Mapping], b: tuple[str, Mapping],
                  on: str = "seed") -> dict:  # fmt: skip
    """Wilcoxon signed-rank test of ``a`` against ``b`` (each ``(label, filters)``), paired on ``on``.

    Returns the labels, the number of pairs, both means, the median of ``a - b``, the statistic and the
    two-sided p-value (exact for small samples, scipy's default). With all differences zero, p is 1; with one
    pair (two deterministic detectors) it is NaN: there is nothing to test.
    """
    wide = paired_values(table, metric, dict([a, b]), on=on)
    diff = wide[a[0]] - wide[b[0]]
    if len(wide) < 2:  # two deterministic detectors: one run each, nothing to test
        statistic, p_value = float("nan"), float("nan")
    elif (diff == 0).all():
        statistic, p_value = float("nan"), 1.0
    else:
        result = stats.wilcoxon(wide[a[0]], wide[b[0]])
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return {
        "metric": metric, "a": a[0], "b": b[0], "paired_on": on, "pairs": len(wide),
        "mean_a": float(wide[a[0]].mean()), "mean_b": float(wide[b[0]].mean()),
        "median_a_minus_b": float(diff.median()),
        "statistic": statistic, "p_value": p_value,
    }  # fmt: skip


def mann_whitney_test(table: pd.DataFrame, metric: str, a: tuple[str, Mapping], b: tuple[str, Mapping]) -> dict:
    """Mann-Whitney U test (two-sided, scipy) of ``a``'s runs against ``b``'s, **unpaired**: for runs whose seed
    draws no data (a fixed split, as on Mixtiles), where seed ``s`` of one model has nothing to do with seed ``s``
    of another. Returns the keys of :func:`wilcoxon_test` (``paired_on="unpaired"``, ``pairs`` the smaller run
    count) and ``runs_a``, ``runs_b``; p is NaN when a group has no run."""
    # one value per run: a run that a later notebook copied (03 shows 02's DeepAnT) is counted once, by its seed
    values = {label: select_rows(table, metric, filters).groupby("seed", dropna=False)["value"].mean().dropna()
              .to_numpy(float) for label, filters in (a, b)}  # fmt: skip
    x, y = values[a[0]], values[b[0]]
    if len(x) and len(y) and not (np.ptp(np.r_[x, y]) == 0):
        result = stats.mannwhitneyu(x, y, alternative="two-sided")
        statistic, p_value = float(result.statistic), float(result.pvalue)
    else:
        statistic, p_value = float("nan"), (1.0 if len(x) and len(y) else float("nan"))
    return {
        "metric": metric, "a": a[0], "b": b[0], "paired_on": "unpaired", "pairs": int(min(len(x), len(y))),
        "runs_a": len(x), "runs_b": len(y), "mean_a": float(x.mean()) if len(x) else float("nan"),
        "mean_b": float(y.mean()) if len(y) else float("nan"),
        "median_a_minus_b": float(np.median(x) - np.median(y)) if len(x) and len(y) else float("nan"),
        "statistic": statistic, "p_value": p_value,
    }  # fmt: skip


def rank_test(matrix: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Friedman test and Nemenyi post-hoc test of the detectors (columns) over blocks (rows, e.g. series),
    higher values better.

    Returns ``ranks`` (average rank per detector, 1 = best), ``friedman_p``, ``nemenyi`` (matrix of p-values)
    and ``critical_difference`` (Demšar's CD at ``alpha``: ranks further apart than this differ).
    """
    matrix = matrix.dropna()
    n, k = matrix.shape
    if k < 3 or n < 2:
        raise InputError(f"a rank test needs at least 3 detectors and 2 blocks, got {k} and {n}.")
    from anomalylab.extras import require

    require("scikit_posthocs", what="the Friedman / Nemenyi rank test")
    import scikit_posthocs as sp

    ranks = matrix.rank(axis=1, ascending=False).mean().sort_values()
    friedman = stats.friedmanchisquare(*[matrix[c] for c in matrix.columns])
    nemenyi = sp.posthoc_nemenyi_friedman(matrix.to_numpy())
    nemenyi.index = nemenyi.columns = matrix.columns
    q_alpha = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return {
        "ranks": ranks, "blocks": n, "friedman_p": float(friedman.pvalue), "nemenyi": nemenyi,
        "critical_difference": float(q_alpha * np.sqrt(k * (k + 1) / (6 * n))),
    }  # fmt: skip
