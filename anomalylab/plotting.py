"""One figure style and the standard plots; ``save_figure`` writes PNGs atomically.

Figures are named ``NN_name.png`` after the notebook that writes them and go
to ``config.figures_dir`` (``figures/`` in a full run, ``build/quick/figures``
in quick mode).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from anomalylab import paths
from anomalylab.datasets import nab_probationary_length
from anomalylab.errors import InputError
from anomalylab.paths import atomic_path
from anomalylab.reporting import pareto_front, t_half_width

# bars coloured by what a row is
KIND_COLORS = {"ours": "#4C72B0", "protocol": "#DD8452", "published": "#9A9A9A", "post hoc": "#C44E52"}
MANY_COLORS = "tab20"  # more than ten detectors in one panel: twenty distinguishable colours
COLORS = {
    "series": "#4C72B0",
    "label": "#C44E52",
    "flag": "#DD8452",
    "window": "#C44E52",
    "model": "#55A868",
}


def set_style() -> None:
    """The project's one plotting style (seaborn whitegrid, readable sizes)."""
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 130,
            "savefig.bbox": "tight",
            "axes.titlesize": "medium",
            "axes.titleweight": "bold",
            "legend.frameon": True,
            "legend.framealpha": 0.9,
        }
    )


def save_figure(fig, name: str, config=None, figures_dir: Path | None = None) -> Path:
    """Save ``fig`` as ``<figures_dir>/<name>.png`` atomically and return the path.

    ``name`` is ``NN_name`` (the notebook number first).
    """
    paths.check_output_name(name, "figure", "01_mixtiles_series")
    if name.endswith(".png"):
        raise InputError(f"figure name must be a bare name like '01_mixtiles_series' (no suffix), got {name!r}.")
    if figures_dir is None:
        figures_dir = config.figures_dir if config is not None else paths.FIGURES_DIR
    target = Path(figures_dir) / f"{name}.png"
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png")
    return target


def shade_windows(ax, windows: Sequence[tuple], label: str | None = "anomaly window", **kwargs) -> None:
    """Shade (start, end) spans on ``ax``; only the first span gets the legend label."""
    style = {"color": COLORS["window"], "alpha": 0.18, "lw": 0} | kwargs
    for i, (start, end) in enumerate(windows):
        ax.axvspan(start, end, label=label if i == 0 else None, **style)


def plot_series_with_flags(
    ax,
    series: pd.Series,
    labels=None,
    flags=None,
    label_name: str = "labelled anomaly",
    flag_name: str = "flagged",
    windows: Sequence[tuple] | None = None,
    title: str | None = None,
    legend_outside: bool = False,
) -> None:
    """A series as a line, labelled anomalies as red dots, flags as orange crosses, and windows shaded; dates
    labelled concisely; the legend inside the upper left corner, or right of the panel (``legend_outside``)."""
    ax.plot(series.index, series.to_numpy(), lw=0.7, color=COLORS["series"], label=series.name or "value")
    if windows:
        shade_windows(ax, windows)
    if labels is not None:
        mask = np.asarray(labels).astype(bool)
        ax.scatter(series.index[mask], series.to_numpy()[mask], s=22, color=COLORS["label"],
                   zorder=3, label=f"{label_name} ({mask.sum()})")  # fmt: skip
    if flags is not None:
        mask = np.asarray(flags).astype(bool)
        ax.scatter(series.index[mask], series.to_numpy()[mask], s=40, marker="x", color=COLORS["flag"],
                   linewidths=1.2, zorder=4, label=f"{flag_name} ({mask.sum()})")  # fmt: skip
    if title:
        ax.set_title(title)
    if isinstance(series.index, pd.DatetimeIndex):
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator(maxticks=10)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if legend_outside:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    else:
        ax.legend(loc="upper left", fontsize="small")


def plot_score_histogram(ax, scores, labels, threshold: float | None = None, bins: int = 50) -> None:
    """Score distributions of normal and anomalous points, with the threshold."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels).astype(bool)
    edges = np.histogram_bin_edges(scores, bins=bins)
    ax.hist(scores[~labels], bins=edges, alpha=0.6, density=True, label="normal", color=COLORS["series"])
    ax.hist(scores[labels], bins=edges, alpha=0.6, density=True, label="anomaly", color=COLORS["label"])
    if threshold is not None:
        ax.axvline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold:.3g}")
    ax.set_xlabel("anomaly score")
    ax.set_ylabel("density")
    ax.legend(fontsize="small")


def mark_splits(ax, boundaries: Sequence, names: Sequence[str] = ("val", "test")) -> None:
    """Vertical dashed lines where the validation and test splits start, labelled on top."""
    for boundary, name in zip(boundaries, names):
        ax.axvline(boundary, color="0.3", ls="--", lw=1)
        ax.annotate(f"{name} →", (boundary, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -12), textcoords="offset points", fontsize="small", color="0.3")  # fmt: skip


def plot_nab_grid(frames: Sequence[pd.DataFrame], ncols: int = 2, height: float = 2.3):
    """One panel per NAB series (frames from ``load_nab``): values, anomaly windows
    shaded red, the probationary period shaded grey. Returns the figure."""
    nrows = int(np.ceil(len(frames) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(6.5 * ncols, height * nrows), squeeze=False)
    for ax, frame in zip(axes.ravel(), frames):
        ax.plot(frame.index, frame["value"], lw=0.5, color=COLORS["series"])
        shade_windows(ax, frame.attrs.get("windows", []))
        n_prob = nab_probationary_length(len(frame))
        ax.axvspan(frame.index[0], frame.index[n_prob - 1], color="0.5", alpha=0.15, lw=0, label="probationary")
        n_win = len(frame.attrs.get("windows", []))
        ax.set_title(f"{frame.attrs.get('name', '')}  ({len(frame):,} rows, {n_win} windows)", fontsize="small")
        ax.tick_params(axis="x", labelsize="x-small", rotation=20)
        ax.tick_params(axis="y", labelsize="x-small")
    for ax in axes.ravel()[len(frames) :]:
        ax.set_visible(False)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    for ax in axes.ravel()[1 : len(frames)]:  # a panel without windows lacks that legend entry
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), bbox_to_anchor=(0.5, 1.01))
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def plot_kdd_counts(counts: pd.DataFrame):
    """KDD Cup 99 rows per attack category (train vs test, log scale) and the
    attack types found only in the test file. ``counts`` comes from
    ``datasets.kdd_label_counts``. Returns the figure."""
    by_cat = counts.groupby("attack_category")[["train", "test"]].sum()
    order = ["normal", "dos", "probe", "r2l", "u2r"]
    by_cat = by_cat.reindex([c for c in order if c in by_cat.index])
    test_only = counts[counts["test_only"]].sort_values("test")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [1, 1.2]})
    long = by_cat.reset_index().melt(id_vars="attack_category", var_name="file", value_name="rows")
    sns.barplot(data=long, x="attack_category", y="rows", hue="file", ax=ax1, palette=["#4C72B0", "#DD8452"])
    ax1.set_yscale("log")
    ax1.set_xlabel("")
    ax1.set_title("Rows per attack category (log scale)")
    for container in ax1.containers:
        ax1.bar_label(container, fmt="{:,.0f}", fontsize="x-small", padding=1)
    palette = dict(zip(order[1:], sns.color_palette("Set2", 4)))
    colors = [palette[c] for c in test_only["attack_category"]]
    ax2.barh(test_only.index, test_only["test"], color=colors)
    ax2.set_xscale("log")
    ax2.set_title(f"The {len(test_only)} attack types found only in the test file "
                  f"({int(test_only['test'].sum()):,} rows)")  # fmt: skip
    ax2.set_xlabel("rows in corrected (log scale)")
    for y, (n, cat) in enumerate(zip(test_only["test"], test_only["attack_category"])):
        ax2.annotate(f"{n:,} ({cat})", (n, y), xytext=(3, 0), textcoords="offset points",
                     va="center", fontsize="x-small")  # fmt: skip
    ax2.set_xlim(right=test_only["test"].max() * 8)
    fig.tight_layout()
    return fig


def plot_confusion(ax, y_true, flags, title: str | None = None) -> None:
    """Confusion matrix of 0/1 labels vs 0/1 flags (counts), via scikit-learn."""
    from sklearn.metrics import ConfusionMatrixDisplay

    ConfusionMatrixDisplay.from_predictions(
        np.asarray(y_true).astype(int), np.asarray(flags).astype(int), labels=[0, 1],
        display_labels=["normal", "anomaly"], ax=ax, colorbar=False, cmap="Blues",
    )  # fmt: skip
    ax.grid(False)
    if title:
        ax.set_title(textwrap.fill(title, 34), fontsize="small")  # long titles wrap instead of running into the next


def t_interval_bounds(values) -> tuple[float, float]:
    """The 95 % Student-t interval of the mean of ``values`` (the mean alone for one value): seaborn's
    ``errorbar=`` for bars over seeds."""
    values = np.asarray(values, dtype=float)
    half = np.nan_to_num(t_half_width(float(np.std(values, ddof=1)) if len(values) > 1 else np.nan, len(values)))
    return float(values.mean() - half), float(values.mean() + half)


def plot_metric_bars(ax, table: pd.DataFrame, metric: str, by: str = "model", hue: str | None = None) -> None:
    """Mean of ``metric`` per ``by`` (and ``hue``) from a tidy table, with the 95 % t-interval over seeds as error
    bars. Without ``hue``, bars of rows of several kinds are coloured by their ``kind`` (:data:`KIND_COLORS`: ours,
    protocol, published), so that a published or protocol row never looks like one of ours."""
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise InputError(f"the table has no rows of metric {metric!r}.")
    style = {"hue": hue}
    kinds = [k for k in KIND_COLORS if "kind" in rows and k in set(rows["kind"])]
    if hue is None and len(kinds) > 1:  # one kind only: plain bars, no legend to cover them
        style = {"hue": "kind", "hue_order": kinds, "palette": KIND_COLORS, "dodge": False}
    sns.barplot(data=rows, y=by, x="value", errorbar=t_interval_bounds, ax=ax, orient="h", capsize=0.2,
                err_kws={"linewidth": 1}, **style)  # fmt: skip
    if style.get("hue") == "kind" and ax.get_legend() is not None:
        ax.get_legend().set_title("kind")
    ax.set_xlabel(f"{metric} (mean ± 95 % t-interval over seeds)")
    ax.set_ylabel("")


def plot_forecast_band(ax, actual: pd.Series, forecast: pd.Series, lower, upper, labels=None, flags=None) -> None:
    """Actual vs forecast, the band outside which a point is flagged, expert labels and flags."""
    ax.fill_between(forecast.index, lower, upper, color=COLORS["model"], alpha=0.2, lw=0, label="no-flag band")
    ax.plot(forecast.index, forecast.to_numpy(), color=COLORS["model"], lw=0.9, label="forecast")
    plot_series_with_flags(ax, actual, labels=labels, flags=flags, label_name="expert anomaly")


def plot_roc_pr(axes, y_true, scores: dict, title: str = "") -> None:
    """ROC curves on ``axes[0]`` and precision-recall curves on ``axes[1]``, one per model
    (``scores`` maps a model name to its scores of the same rows), via scikit-learn's displays."""
    from matplotlib.transforms import ScaledTranslation
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    y = np.asarray(y_true).astype(int)
    for i, (name, s) in enumerate(scores.items()):
        s = np.asarray(s, dtype=float)
        style = {"lw": 1.2, "ls": "-" if i < 10 else "--"}  # the colour cycle has 10 colours
        RocCurveDisplay.from_predictions(y, s, name=name, ax=axes[0], curve_kwargs=style)
        PrecisionRecallDisplay.from_predictions(y, s, name=name, ax=axes[1], curve_kwargs=style)
    axes[0].plot([0, 1], [0, 1], color="0.7", ls=":", lw=1)
    axes[1].axhline(y.mean(), color="0.7", ls=":", lw=1, label=f"chance (AP {y.mean():.2f})")
    fig = axes[0].figure
    renderer = fig.canvas.get_renderer()
    for ax, kind, (xlabel, ylabel) in zip(axes, ["ROC", "precision-recall"],
                                          [("false positive rate", "true positive rate"), ("recall", "precision")]):
        ax.set_title(f"{title} {kind}".strip(), fontsize="medium")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        # below the x axis (inside, the legend of many models covers the curves it names), by the height the ticks
        # and label take in this figure's style
        below = (ax.get_window_extent(renderer).y0 - ax.xaxis.get_tightbbox(renderer).y0) / fig.dpi + 0.05
        ax.legend(fontsize="x-small", loc="upper center", ncol=2, frameon=False, bbox_to_anchor=(0.5, 0),
                  bbox_transform=ax.transAxes + ScaledTranslation(0, -below, fig.dpi_scale_trans))


def plot_summary_bars(ax, stats: pd.DataFrame, metric: str, title: str = "") -> None:
    """Mean ± 95 % t-interval of ``metric`` per row of a ``reporting.summary_stats`` frame (its ``label``: model ·
    threshold rule [protocol]), in its ranked order: ranked ``ours`` rows in colour (pale when too few seeds to rank,
    pale and dotted for a ranked model's other rules); ``protocol`` rows (they read the test split) grey;
    ``published`` rows grey and hatched."""
    column = f"{metric}_mean"
    if column not in stats:
        raise InputError(f"the summary has no metric {metric!r}; it has {sorted(stats.columns)}.")
    rows = stats[stats[column].notna()]
    labels = list(rows["label"])
    y = np.arange(len(rows))
    std = rows.get(f"{metric}_std", pd.Series(np.nan, index=rows.index)).to_numpy()
    half = np.nan_to_num([t_half_width(s, n) for s, n in zip(std, rows["runs"])], nan=0.0)
    unranked = (rows["source"] == "ours") & rows["rank"].isna()
    second = unranked & rows.get("second_rule", pd.Series(False, index=rows.index)).astype(bool)
    rows = rows.assign(source=rows["source"].where(~unranked, "unranked").where(~second, "second rule"))
    styles = {
        "ours": ({"color": COLORS["model"]}, "ours (ranked)"),
        "second rule": ({"color": COLORS["model"], "alpha": 0.25, "hatch": "..", "edgecolor": COLORS["model"]},
                        "ours, a ranked model's other rule"),
        "unranked": ({"color": COLORS["model"], "alpha": 0.4}, "ours, too few seeds (not ranked)"),
        "protocol": ({"color": "0.6"}, "protocol: reads the test split (not ranked)"),
        "published": ({"color": "0.85", "hatch": "//", "edgecolor": "0.5"}, "published (own protocol)"),
    }
    for source, (style, name) in styles.items():
        pick = (rows["source"] == source).to_numpy()
        if pick.any():
            ax.barh(y[pick], rows[column].to_numpy()[pick], xerr=half[pick], capsize=2, error_kw={"lw": 0.8},
                    label=name, **style)  # fmt: skip
    ax.set_yticks(y, labels, fontsize="x-small")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel(f"{metric} (mean ± 95 % t-interval over seeds)")
    ax.set_title("\n".join(textwrap.wrap(title, 55)), fontsize="small")


def plot_quality_cost(ax, stats: pd.DataFrame, metric: str, title: str = "") -> None:
    """Quality (``metric``) against cost, fit plus scoring seconds (log scale), of a ``summary_stats`` frame's
    ranked ``ours`` rows, with the Pareto front (``reporting.pareto_front``) drawn and named."""
    rows = stats[(stats["source"] == "ours") & stats["rank"].notna() & stats[f"{metric}_mean"].notna()
                 & stats["cost_seconds"].notna()]  # fmt: skip
    cost = rows["cost_seconds"].clip(lower=0.01)
    rows = rows.assign(front=pareto_front(cost, rows[f"{metric}_mean"]))
    ax.scatter(cost, rows[f"{metric}_mean"], s=22, color=np.where(rows["front"], COLORS["model"], "0.65"), zorder=3)
    best = rows[rows["front"]].assign(cost=cost).sort_values("cost")
    ax.step(best["cost"], best[f"{metric}_mean"], where="post", color=COLORS["model"], lw=1, label="Pareto front")
    # the front's points are numbered and named in the legend: names beside close points would overlap
    for i, (_, row) in enumerate(best.iterrows(), 1):
        ax.annotate(str(i), (row["cost"], row[f"{metric}_mean"]), textcoords="offset points",
                    xytext=(3, 3 if i % 2 else -9), fontsize="x-small", color=COLORS["model"], fontweight="bold")
        ax.plot([], [], " ", label=f"{i}. {row['label']}")
    ax.set_xscale("log")
    fit_only = rows["score_seconds"].isna().all()
    what = "fit seconds per run (scoring not timed)" if fit_only else "fit + scoring seconds per run"
    ax.set(xlabel=f"{what} (log; < 0.01 s drawn at 0.01)", ylabel=metric)
    ax.set_title(title, fontsize="small")
    ax.legend(fontsize="x-small", loc="lower right")


def plot_cd_diagram(ax, result: dict, title: str = "") -> None:
    """A critical-difference diagram (Demšar 2006) of a :func:`anomalylab.reporting.rank_test` result:
    average ranks on the axis (1 = best, left), detectors that the Nemenyi test cannot tell apart (p >= 0.05)
    joined by a bar. Drawn by scikit-posthocs."""
    from anomalylab.extras import require

    require("scikit_posthocs", what="the critical-difference diagram")
    import scikit_posthocs as sp

    names = list(result["ranks"].sort_values().index)
    palette = dict(zip(names, sns.color_palette(MANY_COLORS if len(names) > 10 else "tab10", len(names))))
    sp.critical_difference_diagram(result["ranks"], result["nemenyi"], ax=ax, color_palette=palette,
                                   label_props={"fontsize": "x-small"})  # fmt: skip
    n = result["blocks"]
    ax.set_title("\n".join(textwrap.wrap(f"{title} ({n} series; CD = {result['critical_difference']:.2f}, Friedman "
                                         f"p = {result['friedman_p']:.2g})", 90)), fontsize="small")  # fmt: skip
