"""Ranked summaries across the notebooks' tables: ``ours`` rows ranked, ``protocol`` and ``published`` rows in
their own blocks; the Pareto front of quality against cost."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomalylab.errors import InputError
from anomalylab.evaluation import protocol_reason
from anomalylab.reporting.groups import PAIRINGS, ranked_groups
from anomalylab.reporting.stats import mean_ci
from anomalylab.reporting.tables import check_table


@dataclass(frozen=True)
class SummarySpec:
    """Which rows of which score tables make one ranked summary (one dataset and protocol).

    ``protocol`` and ``published`` are regular expressions on the ``protocol``
    column: the first picks our rows (kind ``ours``, under ``rules``) and the
    ``protocol`` rows that compare with papers, the second the seed projects' and
    literature's ``published`` rows. Only ``ours`` rows are ranked, by
    ``metrics[0]`` (higher is better); a model with randomness run over fewer
    than ``min_runs`` seeds is shown but not ranked. ``protocol`` and
    ``published`` rows come after them, each in its own block.

    ``pairing`` says how two ranked rows are tested (:mod:`anomalylab.reporting.groups`): ``"seed"`` where a
    seed draws the data, ``"unpaired"`` where the split is fixed, ``"series"`` where per-series scores exist
    (NAB: ``series_half`` picks the half of the corpus, None for every series). Rows the tests cannot tell apart
    share a letter.
    """

    key: str
    title: str
    tables: tuple[str, ...]
    protocol: str
    rules: tuple[str, ...]
    metrics: tuple[str, ...]
    published: str | None = None
    by_series: bool = False
    note: str = ""
    min_runs: int = 3
    pairing: str = "unpaired"
    series_half: str | None = None

    def __post_init__(self):
        if self.pairing not in PAIRINGS:
            raise InputError(f"{self.key}: pairing must be one of {PAIRINGS}, got {self.pairing!r}.")


SUMMARIES = (
    SummarySpec(
        "mixtiles", "Mixtiles hourly traffic: 888 test hours, 22 expert anomalies",
        ("02_mixtiles", "03_mixtiles_attention"), r"^chronological 65/14/21",
        ("relative_0.40", "val_mean_3sd", "trainval_best_f2", "company_flags"),
        ("f2", "precision", "recall", "range_f1", "pr_auc", "vus_pr", "roc_auc"), published=r"^seed study",
        note="val_mean_3sd: label-free, mean + 3 std of the validation scores; trainval_best_f2: threshold of best F2 "
             "on the training + validation hours; relative_0.40: the seed's fixed rule (flag when the forecast is off "
             "by more than 40 %). `deepant_selected` is the forecaster variant and rule chosen by rolling-origin folds "
             "on the training + validation hours (notebook 02). The split is fixed: a seed only initialises a model, "
             "so runs are compared unpaired.",
    ),
    SummarySpec(
        "nab_eval", "NAB v1.1, evaluation half (31 of 58 series): threshold fixed on the development half",
        ("02_nab", "03_nab_attention"), r"^nab_v1\.1_eval_half$", ("nab_dev_optimised",),
        ("nab_standard", "nab_low_fp", "nab_low_fn"), published=r"^nab_v1\.1_eval_half$",
        note="nab_dev_optimised: the corpus threshold that maximises the score of the development half "
             "(`anomalylab/nab_split.csv`, 27 series), applied to the evaluation half. Every choice of ours on NAB "
             "(score rescaling, its window, the threshold) is made on the development half. Published rows: NAB's "
             "own detectors from their shipped result files at their shipped thresholds (tuned on all 58 series). Ours "
             "are compared by a Wilcoxon test over the 31 series' scores.",
        pairing="series", series_half="eval",
    ),
    SummarySpec(
        "nab", "NAB v1.1, all 58 series: beside NAB's scoreboard", ("02_nab", "03_nab_attention"), r"^nab_v1\.1$",
        ("nab_dev_optimised",), ("nab_standard", "nab_low_fp", "nab_low_fn"), published=r"scoreboard",
        note="Our rows use the development half's threshold (27 of these series were used to set it); the protocol "
             "rows use NAB's corpus-optimised threshold, as every scoreboard entry does.",
        pairing="series",
    ),
    SummarySpec(
        "spike", "Synthetic spike series: the spikes in the test part (labels from notebook 01's rolling-median rule)",
        ("02_spike_series",), r"^chronological 80/20", ("train_mean_3sd",), ("f1", "precision", "recall"),
        published=r"^seed:",
    ),
    SummarySpec(
        "kdd_k1_whole", "KDD Cup 99, protocol K1: the whole `corrected` file (311,029 rows, 80 % attacks)",
        ("04_kdd_k1", "05_comparison"), r"^K1(?:_fit\d+)?_whole_file$", ("val_q95", "per_cluster_q95"),
        ("pr_auc", "roc_auc", "precision", "recall"),
        note="K1 trains on the normal rows of the 10 % file less a 20 % validation hold-out (77,822 rows; notebook "
             "04): the deep models, Isolation Forest and PCA on all of them, One-Class SVM on a seeded 10,000, kNN, "
             "LOF and ECOD on 5,000; K1_fit30000 on a seeded 30,000 of them (notebook 05). Thresholds: 95th "
             "percentile of the validation inliers' scores, globally or per cluster. A seed draws the validation "
             "hold-out and the sample, so runs pair by seed within a protocol.",
        pairing="seed",
    ),
    SummarySpec(
        "kdd_k1_without_twins", "KDD Cup 99, protocol K1: the whole `corrected` file less the attack rows that copy a "
        "normal row", ("04_kdd_k1",), r"^K1(?:_fit\d+)?_without_twins$", ("val_q95",),
        ("roc_auc", "pr_auc", "precision", "recall"),
        note="Attack rows whose 41 features equal a normal row's (of either file) score as their normal copies in any "
             "detector of the features; notebook 04 counts them and computes the ceilings they set on the whole file.",
        pairing="seed",
    ),
    SummarySpec(
        "kdd_k1_sample", "KDD Cup 99, protocol K1: the seed's sample of 8,000 normal and 2,000 attack rows",
        ("04_kdd_k1", "05_comparison"), r"^K1(?:_fit\d+)?_sample_8000_2000$",
        ("val_q95", "per_cluster_q95", "val_best_f1"), ("f1", "precision", "recall", "roc_auc"),
        published=r"^ffl_published",
        note="val_best_f1: best F1 on the labelled validation split (attacks of the training file only).",
        pairing="seed",
    ),
    SummarySpec(
        "kdd_k2", "KDD Cup 99, protocol K2 (DAGMM / ALAD): normal traffic is the outlier class",
        ("04_kdd_k2",), r"^K2_second_half$", ("val_q99",),
        ("f1", "precision", "recall", "roc_auc"), published=r"^published",
        note="val_q99 is ours (99th percentile of validation inliers). The protocol's own rule, test_q80 (flag the top "
             "20 % of test scores), reads the test scores: its rows are shown apart, to compare with the papers. "
             "Every seed draws its own 50/50 split. ECOD's rows are protocol: PyOD scores test rows with the other "
             "test rows.",
        pairing="seed",
    ),
    SummarySpec(
        "kdd_k2_dedup", "KDD Cup 99, K2 de-duplicated: exact copies removed before the 50/50 split",
        ("04_kdd_k2",), r"^K2_dedup_second_half$", ("val_q99",), ("f1", "precision", "recall", "roc_auc"),
        note="One row of each set of identical rows of the 10 % file; normal traffic (the outlier class) is then the "
             "majority of the rows (notebook 04 counts them), so test_q80 cannot reach full recall.",
        pairing="seed",
    ),
    SummarySpec(
        "sequence", "Windows of real series (24 steps): sequence autoencoders vs forecast error and Isolation Forest",
        ("04_sequence_models",), r"^chronological split", ("val_mean_3sd",),
        ("pr_auc", "vus_pr", "roc_auc", "range_f1", "event_f1", "n_events"),
        by_series=True,
    ),
)


def summary_stats(tables: pd.DataFrame, spec: SummarySpec) -> pd.DataFrame:
    """Numeric summary of one spec: per (series, model, threshold rule, protocol, kind) the number of
    runs and the mean and std of every metric over seeds, ``fit_seconds``, ``score_seconds`` and their sum
    ``cost_seconds`` beside (the scoring counted where it was timed), ranked by
    ``spec.metrics[0]`` (within each series when ``by_series``).

    ``source`` is ``ours`` (ranked; ``rank`` NaN for a seeded model with fewer than ``spec.min_runs``
    runs), ``protocol`` (a rule that reads the test split; ``reason`` says which) or ``published``; the
    blocks come in that order. ``rank`` is the position by mean; ``group`` holds the ranked rows' letters
    (:func:`~anomalylab.reporting.groups.ranked_groups`: rows sharing a letter do not differ significantly after
    Holm's correction over the summary's comparisons) and ``tied`` whether a row shares one.
    """
    rows = check_table(tables[tables["table"].isin(spec.tables)] if "table" in tables else tables)
    rows = rows.assign(series=rows["series"].astype(object).fillna("").astype(str),
                       threshold_rule=rows["threshold_rule"].astype(object).fillna("").astype(str))
    per_series = rows[rows["series"] != ""]  # NAB's per-series rows: what a "series" pairing tests on
    if not spec.by_series:
        rows = rows[rows["series"] == ""]
    keys = ["series", "model", "threshold_rule", "protocol"]
    # a later notebook may copy an earlier one's rows (03 shows 02's DeepAnT): count each run once
    rows = rows.drop_duplicates([*keys, "kind", "seed", "metric"])
    in_protocol = rows["protocol"].str.contains(spec.protocol, regex=True)
    masks = {
        "ours": in_protocol & (rows["kind"] == "ours") & rows["threshold_rule"].isin(spec.rules),
        "protocol": in_protocol & (rows["kind"] == "protocol"),
        "published": (rows["kind"] == "published")
        & (rows["protocol"].str.contains(spec.published, regex=True) if spec.published else False),
    }
    # with every table of the spec at hand, a rule that selects nothing is a typo or a renamed rule, never skipped
    # (a notebook may summarise its own table alone, without the rows another notebook adds under other rules)
    complete = "table" in tables and set(spec.tables) <= set(tables["table"])
    unmatched = [rule for rule in spec.rules if not (masks["ours"] & (rows["threshold_rule"] == rule)).any()]
    if unmatched and complete and masks["ours"].any():
        there = sorted(set(rows.loc[in_protocol, "threshold_rule"]) - {""})
        raise InputError(f"summary {spec.key!r}: rule(s) {unmatched} select no 'ours' row of {spec.tables} under "
                         f"protocol {spec.protocol!r}; the rules there: {there}.")
    parts = []
    for source, mask in masks.items():
        part = rows[mask]
        scored = part[part["metric"].isin(spec.metrics)]
        if scored.empty:
            continue
        stats = scored.groupby([*keys, "metric"], sort=False)["value"].agg(["mean", "std", "count"]).unstack("metric")
        stats.columns = [f"{metric}_{stat}" if stat != "count" else f"n_{metric}" for stat, metric in stats.columns]
        stats = stats.reset_index()
        firsts = [f"n_{m}" for m in spec.metrics if f"n_{m}" in stats]
        stats["runs"] = stats[firsts].max(axis=1).astype(int)
        stats = stats.drop(columns=[c for c in stats if c.startswith("n_")])
        seeded = scored.groupby(keys, sort=False)["seed"].apply(lambda s: s.notna().any())
        stats["seeded"] = [bool(seeded.get(tuple(k), False)) for k in stats[keys].itertuples(index=False)]
        # fit and scoring time of the same run: under the row's own protocol, else under any (NAB's halves are
        # scored from the runs whose fit rows carry the whole corpus's protocol); cost = fit + scoring, where the
        # scoring was timed (NAB's runs time the fit only)
        for measure in ("fit_seconds", "score_seconds"):
            times = rows[rows["metric"] == measure]
            exact = times.groupby(["series", "model", "protocol"])["value"].mean()
            any_protocol = times.groupby(["series", "model"])["value"].mean()
            stats[measure] = [exact.get((s, m, p), any_protocol.get((s, m), np.nan)) for s, m, p in
                              zip(stats["series"], stats["model"], stats["protocol"])]  # fmt: skip
        stats["cost_seconds"] = stats["fit_seconds"] + stats["score_seconds"].fillna(0.0)
        stats["source"] = source
        stats["reason"] = [protocol_reason(r, m)
                           if source == "protocol" else "" for r, m in zip(stats["threshold_rule"], stats["model"])]
        parts.append(stats)
    if not parts or all(p["source"].iloc[0] != "ours" for p in parts):
        raise InputError(f"no 'ours' rows for summary {spec.key!r} in tables {spec.tables}; run their notebooks first.")
    out = pd.concat(parts, ignore_index=True)
    rank_col = f"{spec.metrics[0]}_mean"
    if rank_col not in out:
        out[rank_col] = np.nan
    out["_block"] = out["source"].map({"ours": 0, "protocol": 1, "published": 2})
    out["_unranked"] = (out["source"] == "ours") & out["seeded"] & (out["runs"] < spec.min_runs)
    sort = (["series"] if spec.by_series else []) + ["_block", "_unranked", rank_col]
    out = out.sort_values(sort, ascending=[True] * (len(sort) - 1) + [False], na_position="last")
    # one ranked row per model (and series): its row under the first of spec.rules it has, and where a model has
    # rows under two protocols (K1 in notebook 04, K1_fit30000 in 05) the protocol with more models; an order
    # fixed in advance, so which row is ranked never depends on test results
    ours = out[(out["source"] == "ours") & ~out["_unranked"]]
    breadth = ours.groupby("protocol")["model"].nunique()
    order = ours.assign(_rule=ours["threshold_rule"].map({r: i for i, r in enumerate(spec.rules)}),
                        _breadth=-ours["protocol"].map(breadth).astype(float))  # fmt: skip
    first = order.sort_values(["series", "model", "_rule", "_breadth", "protocol"]).drop_duplicates(["series", "model"])
    out["second_rule"] = (out["source"] == "ours") & ~out["_unranked"] & ~out.index.isin(first.index)
    out = out.assign(_unranked=out["_unranked"] | out["second_rule"]).sort_values(sort, ascending=[True] * (
        len(sort) - 1) + [False], na_position="last")  # fmt: skip
    ranked = (out["source"] == "ours") & ~out["_unranked"]
    ranked_ids = out.index[ranked]
    runs = {i: _runs(rows, per_series, out.loc[i], spec) for i in ranked_ids}
    groups = ranked_groups(runs, spec.pairing, families=dict(out.loc[ranked_ids, "series"]) if spec.by_series else None,
                           draws=dict(out.loc[ranked_ids, "protocol"]))  # fmt: skip
    out["rank"] = np.nan  # the position by mean, best first: an order the letters may not support
    out.loc[ranked, "rank"] = out[ranked].groupby(["series"] if spec.by_series else ["_block"]).cumcount() + 1
    out["group"], out["tied"] = "", False
    out.loc[ranked_ids, "group"] = groups["letters"]
    out.loc[ranked_ids, "tied"] = groups["tied"]
    # a label for figures: model and rule, and the protocol when our rows come from more than one
    protocols = out.loc[out["source"] == "ours", "protocol"].unique()
    common = len(os.path.commonprefix([p[::-1] for p in protocols])) if len(protocols) > 1 else 0
    short = {p: p[: len(p) - common].rstrip("_ ") for p in protocols}  # "K1_fit30000_whole_file" -> "K1_fit30000"
    out["label"] = [f"{m} · {r}" + (f" [{short[p]}]" if len(protocols) > 1 and p in short else "") if r else m
                    for m, r, p in zip(out["model"], out["threshold_rule"], out["protocol"])]
    return out.drop(columns=["_block", "_unranked"]).reset_index(drop=True)


def _runs(rows: pd.DataFrame, per_series: pd.DataFrame, row: pd.Series, spec: SummarySpec) -> pd.Series:
    """The runs a ranked row is tested on: its values of ``spec.metrics[0]`` per seed (NaN index: a deterministic
    detector's one run), or for a ``"series"`` pairing its per-series values (mean over seeds) on the half."""
    metric = spec.metrics[0]
    if spec.pairing == "series":
        from anomalylab.datasets import nab_split
        from anomalylab.evaluation.nab import SERIES_PROTOCOL

        mine = per_series[(per_series["protocol"] == SERIES_PROTOCOL) & (per_series["model"] == row["model"])
                          & (per_series["threshold_rule"] == row["threshold_rule"]) & (per_series["metric"] == metric)
                          & (per_series["kind"] == "ours")]  # fmt: skip
        if spec.series_half is not None:
            mine = mine[mine["series"].map(nab_split()) == spec.series_half]
        return mine.drop_duplicates(["series", "seed"]).groupby("series")["value"].mean()
    mine = rows[(rows["series"] == row["series"]) & (rows["model"] == row["model"]) & (rows["kind"] == "ours")
                & (rows["threshold_rule"] == row["threshold_rule"]) & (rows["protocol"] == row["protocol"])
                & (rows["metric"] == metric)]  # fmt: skip
    return mine.groupby("seed", dropna=False)["value"].mean()


def summary_table(tables: pd.DataFrame, spec: SummarySpec, decimals: int = 3, stats=None) -> pd.DataFrame:
    """:func:`summary_stats` for reading: ``mean ± h`` strings (h: 95 % t-interval half-width), the kind of every
    row, and for ``protocol`` rows the reason they are not ours (``stats``: that summary, if already computed)."""
    stats = summary_stats(tables, spec) if stats is None else stats
    few = (stats["source"] == "ours") & stats["rank"].isna() & ~stats["second_rule"]
    other = stats["second_rule"]
    out = pd.DataFrame({
        "group": stats["group"],
        "model": stats["model"], "threshold rule": stats["threshold_rule"], "kind": stats["source"],
        "protocol": np.where(stats["source"] == "protocol", stats["reason"], stats["protocol"]),
        "runs": stats["runs"].astype(str) + np.where(few, f" (< {spec.min_runs} seeds: not ranked)", "")
        + np.where(other, " (a second rule: not ranked)", ""),
    })  # fmt: skip
    ours = stats["source"] == "ours"
    if stats.loc[ours, "protocol"].nunique() == 1:  # one protocol: say it once, in the title
        out.loc[ours, "protocol"] = ""
    if spec.by_series:
        out.insert(0, "series", stats["series"].str.split("/").str[-1])
    for metric in spec.metrics:
        mean, std = stats.get(f"{metric}_mean"), stats.get(f"{metric}_std")
        if mean is None:
            continue
        std = std if std is not None else [np.nan] * len(mean)
        out[metric] = [mean_ci(m, s, n, decimals, missing="") for m, s, n in zip(mean, std, stats["runs"])]
    out["fit + score s"] = [_seconds(cost, score) for cost, score in zip(stats["cost_seconds"], stats["score_seconds"])]
    return out


def _seconds(cost: float, score: float) -> str:
    """A cost cell: fit + scoring seconds, marked ``(fit)`` where the scoring was not timed."""
    if np.isnan(cost):
        return ""
    return f"{cost:.1f}" + (" (fit)" if np.isnan(score) else "")


def stats_text(stats: pd.DataFrame, metric: str, decimals: int = 3) -> pd.Series:
    """``"mean ± h"`` (95 % t-interval) of ``metric`` for every row of a :func:`summary_stats` frame (the mean
    alone for one run), for prose generated from the summaries."""
    std = stats.get(f"{metric}_std", pd.Series(np.nan, index=stats.index))
    return pd.Series([mean_ci(m, s, n, decimals) for m, s, n in zip(stats[f"{metric}_mean"], std, stats["runs"])],
                     index=stats.index)  # fmt: skip


def pareto_front(cost, quality) -> np.ndarray:
    """Mask of the points no other point beats: none is at most as costly and at least as good, and
    strictly better in one of the two (lower ``cost``, higher ``quality``; NaN points are never on it)."""
    cost, quality = np.asarray(cost, dtype=float), np.asarray(quality, dtype=float)
    if cost.shape != quality.shape:
        raise InputError(f"cost and quality differ in shape: {cost.shape} vs {quality.shape}.")
    valid = np.isfinite(cost) & np.isfinite(quality)
    front = valid.copy()
    for i in np.flatnonzero(valid):
        others = valid & (cost <= cost[i]) & (quality >= quality[i]) & ((cost < cost[i]) | (quality > quality[i]))
        front[i] = not others.any()
    return front
