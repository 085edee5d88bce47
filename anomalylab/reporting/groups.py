"""Ties called ties: the ranked rows of a summary in groups that its tests can tell apart.

Every pair of ranked rows is tested on the ranking metric's runs, the p-values of all the pairs a summary compares
are corrected together with Holm's method (statsmodels' ``multipletests``), and scikit-posthocs' compact letter
display turns the corrected p-values into letter groups: two rows that share a letter do not differ significantly
(the data do not order them), two rows without a common letter do. Tests need not be transitive (A ties B, B ties C,
A beats C), which is why a row may carry two letters (``ab``) and why no single rank number is printed.

The test of a pair follows what a run is:

- ``"seed"``: a seed draws the data (KDD's protocols draw their sample and split per seed), so two models' runs
  pair by seed: a paired t-test over the seeds both have;
- ``"unpaired"``: the split is fixed and the seed only initialises the model (Mixtiles, the spike series, the
  sequence windows): seed ``s`` of one model has nothing to do with seed ``s`` of another, so Welch's t-test;
- ``"series"``: a per-series score exists (NAB): the seed-mean scores pair by series, a Wilcoxon signed-rank test.

A deterministic detector has one run; against a seeded model the test is a one-sample t-test of the model's runs
against that value. Two deterministic detectors on the same data differ by an exact amount, with no seed to vary
it: they are ordered by their values (equal values tie). No test here resamples the test rows themselves: a
difference is significant against the spread of seeds (or of series), not against another draw of test data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from anomalylab.errors import InputError

ALPHA = 0.05
PAIRINGS = ("seed", "unpaired", "series")


def pair_test(a: pd.Series, b: pd.Series, pairing: str) -> float:
    """Two-sided p-value of ``a`` against ``b``, the runs of two rows (indexed by seed, or by series for
    ``pairing="series"``; a single value indexed by NaN is a deterministic detector's run). NaN when nothing can
    be tested (no run, or fewer than two shared seeds or series); 1 when the runs are all equal; for two single
    runs 0 or 1 (see the module's note)."""
    if pairing not in PAIRINGS:
        raise InputError(f"pairing must be one of {PAIRINGS}, got {pairing!r}.")
    a, b = a.dropna(), b.dropna()
    if pairing == "series":
        shared = a.index.intersection(b.index)
        x, y = a[shared].to_numpy(float), b[shared].to_numpy(float)
        if len(shared) < 2:
            return float("nan")
        if np.all(x == y):
            return 1.0
        return float(stats.wilcoxon(x, y).pvalue)
    if pairing == "seed" and len(a) > 1 and len(b) > 1:
        shared = a.index.intersection(b.index)
        if len(shared) < 2:
            return float("nan")
        x, y = a[shared].to_numpy(float), b[shared].to_numpy(float)
        if np.ptp(x - y) == 0:
            return 1.0 if np.all(x == y) else 0.0  # the same difference on every seed: no spread to doubt it
        return float(stats.ttest_rel(x, y).pvalue)
    x, y = a.to_numpy(float), b.to_numpy(float)
    if not len(x) or not len(y):
        return float("nan")
    if len(x) < 2 and len(y) < 2:  # two deterministic runs on the same data: their difference has no seed spread
        return 1.0 if x[0] == y[0] else 0.0
    if len(x) < 2 or len(y) < 2:  # one deterministic run: a one-sample test of the other row's runs against it
        runs, value = (y, x[0]) if len(x) < 2 else (x, y[0])
        if np.ptp(runs) == 0:
            return 1.0 if runs[0] == value else 0.0
        return float(stats.ttest_1samp(runs, value).pvalue)
    if np.ptp(x) == 0 and np.ptp(y) == 0:
        return 1.0 if x[0] == y[0] else 0.0
    return float(stats.ttest_ind(x, y, equal_var=False).pvalue)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm-corrected p-values (statsmodels); a NaN (an untestable pair) stays NaN and counts as not significant."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), np.nan)
    tested = np.isfinite(p)
    if tested.any():
        out[tested] = multipletests(p[tested], alpha=ALPHA, method="holm")[1]
    return out


def _in_order(letters: list[str]) -> list[str]:
    """The same groups renamed in the rows' order (best first): groups ordered by the rows they hold (the group of
    the best row first, and of two groups that share their first rows, the one whose next row comes first), then
    named ``a``, ``b``, ...; each cell's letters sorted."""
    rows = {letter: tuple(i for i, cell in enumerate(letters) if letter in cell) for letter in set("".join(letters))}
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    names = {letter: alphabet[n] for n, letter in enumerate(sorted(rows, key=rows.get))}
    return ["".join(sorted(names[letter] for letter in cell)) for cell in letters]


def ranked_groups(runs: Mapping[object, pd.Series], pairing: str, families: Mapping[object, object] | None = None,
                  draws: Mapping[object, object] | None = None) -> pd.DataFrame:  # fmt: skip
    """Letter groups of rows ``runs`` (row id -> its runs, in rank order, best first; see :func:`pair_test`).

    ``families`` maps each row id to the set it is ranked within (a series of a per-series summary); rows are
    compared within their family only, and Holm's correction runs over every comparison of every family.
    ``draws`` maps a row id to what its seeds draw (its protocol): with ``pairing="seed"``, two rows whose seeds
    draw from different protocols (K1 and K1_fit30000) share seed numbers only, so they are compared unpaired.

    Returns, per row id, ``letters`` (scikit-posthocs' compact letter display of the corrected p-values: rows that
    share a letter do not differ significantly; ``a`` is the group of the best row), ``tied`` (the row shares a
    letter with another row) and ``beaten_by`` (how many rows of its family are significantly better).
    """
    from anomalylab.extras import require

    require("scikit_posthocs", what="the letter groups of a ranking")
    import scikit_posthocs as sp

    ids = list(runs)
    family = {i: (families or {}).get(i) for i in ids}
    draw = {i: (draws or {}).get(i) for i in ids}
    pairs = [(a, b) for n, a in enumerate(ids) for b in ids[n + 1 :] if family[a] == family[b]]
    corrected = holm([pair_test(runs[a], runs[b], "unpaired" if pairing == "seed" and draw[a] != draw[b] else pairing)
                      for a, b in pairs])  # fmt: skip
    p = {frozenset(pair): (1.0 if np.isnan(value) else value) for pair, value in zip(pairs, corrected)}
    out = []
    for name in dict.fromkeys(family.values()):
        order = [i for i in ids if family[i] == name]
        matrix = np.ones((len(order), len(order)))
        for x, a in enumerate(order):
            for y, b in enumerate(order):
                if a != b:
                    matrix[x, y] = p[frozenset((a, b))]
        letters = sp.compact_letter_display(matrix, alpha=ALPHA) if len(order) > 1 else pd.Series(["a"])
        letters = _in_order([str(v).replace(" ", "") for v in letters])
        for x, i in enumerate(order):
            out.append({"id": i, "letters": letters[x],
                        "tied": any(set(letters[x]) & set(other) for y, other in enumerate(letters) if y != x),
                        "beaten_by": int(sum(matrix[y, x] < ALPHA for y in range(x)))})  # fmt: skip
    return pd.DataFrame(out, columns=["id", "letters", "tied", "beaten_by"]).set_index("id")


def ranked_rows(stats: pd.DataFrame) -> pd.DataFrame:
    """The ranked ``ours`` rows of a :func:`~anomalylab.reporting.summary_stats` frame, best mean first (per series)."""
    return stats[(stats["source"] == "ours") & stats["rank"].notna()].sort_values(["series", "rank"])


def above_all(stats: pd.DataFrame, these, others, metric: str) -> list[str]:
    """The ranked models of ``these`` that lie significantly above every ranked model of ``others`` in a
    :func:`~anomalylab.reporting.summary_stats` frame: a higher mean of ``metric`` and no letter in common (a
    claim such as "a deep model beats every classical one" rests on the summary's corrected tests, and no model is
    picked by its test mean first)."""
    ranked = ranked_rows(stats)
    mine, theirs = ranked[ranked["model"].isin(list(these))], ranked[ranked["model"].isin(list(others))]
    if theirs.empty:
        raise InputError(f"none of {sorted(others)} is ranked in this summary; nothing to be above.")
    return [row.model for row in mine.itertuples()
            if all(getattr(row, f"{metric}_mean") > getattr(other, f"{metric}_mean")
                   and not set(row.group) & set(other.group) for other in theirs.itertuples())]  # fmt: skip


def tied_with_best(stats: pd.DataFrame) -> pd.DataFrame:
    """The ranked rows of a :func:`~anomalylab.reporting.summary_stats` frame that share a letter with the best
    one (per series in a per-series summary), best mean first: the rows its tests cannot tell from the best."""
    ranked = ranked_rows(stats)
    best = ranked.groupby("series")["group"].transform("first")
    return ranked[[bool(set(g) & set(b)) for g, b in zip(ranked["group"], best)]]


def group_text(stats: pd.DataFrame, metric: str, decimals: int = 3) -> str:
    """``"model mean ± h [letters], ..."`` over the ranked rows of a summary, best mean first: a "best first"
    list that shows which differences its tests support."""
    from anomalylab.reporting.stats import mean_ci

    ranked = ranked_rows(stats)
    std = ranked.get(f"{metric}_std", pd.Series(np.nan, index=ranked.index))
    return ", ".join(f"{m} {mean_ci(v, s, n, decimals)} [{g}]" for m, v, s, n, g in
                     zip(ranked["model"], ranked[f"{metric}_mean"], std, ranked["runs"], ranked["group"]))  # fmt: skip


__all__ = ["above_all", "ALPHA", "group_text", "PAIRINGS", "holm", "pair_test", "ranked_groups", "ranked_rows",
           "tied_with_best"]
