"""The figure of ``detect --plot``: each value column with the flagged rows, the score under them with its
threshold, and the fitting and calibration parts shaded, so that a reader can judge the flags."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from anomalylab.cli.flags import plural

PART_STYLE = {"fit": ("0.55", "fitting part (in-sample)"), "calibration": ("tab:olive", "calibration part")}
MAX_POINTS = 20_000  # a line of more points is drawn from its per-bin minimum and maximum (spikes stay visible)


def _line(index: pd.Index, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most about :data:`MAX_POINTS` points that keep every bin's minimum and maximum."""
    n = len(values)
    if n <= MAX_POINTS:
        return np.asarray(index), values
    bins = np.array_split(np.arange(n), MAX_POINTS // 2)
    keep = []
    for positions in bins:
        chunk = values[positions]
        if np.isnan(chunk).all():
            keep.append(positions[0])
            continue
        keep += sorted({positions[np.nanargmin(chunk)], positions[np.nanargmax(chunk)]})
    keep = np.asarray(keep)
    return np.asarray(index)[keep], values[keep]


def plot_detection(path: Path, values: pd.DataFrame, scores: pd.Series, flags: pd.Series, threshold: float,
                   part: np.ndarray, model: str, rule: str, attribution: pd.DataFrame | None = None) -> None:
    """Write the PNG: one panel per value column, then the score panel; legend above the panels. With
    ``attribution`` (each column's own part of the score) a flagged row is marked on the panel of the column that
    contributes most to it; without, on every panel (the detector scores the rows, not the columns)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from anomalylab import plotting

    plotting.set_style()
    n = values.shape[1]
    fig, axes = plt.subplots(n + 1, 1, figsize=(12, 2.4 * n + 2.6), sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": [1.2] * n + [1]})  # fmt: skip
    axes = axes[:, 0]
    flagged = flags.to_numpy().astype(bool)
    in_sample_any = flagged & (part == "fit")
    for ax in axes:
        for name, (color, label) in PART_STYLE.items():
            rows = np.flatnonzero(part == name)
            if len(rows):
                end = values.index[min(rows[-1] + 1, len(values) - 1)]  # up to where the next part starts
                ax.axvspan(values.index[rows[0]], end, color=color, alpha=0.12, lw=0,
                           label=label if ax is axes[0] else None)  # fmt: skip
    owner = None if attribution is None else attribution.fillna(-np.inf).idxmax(axis=1).to_numpy()
    for ax, column in zip(axes[:-1], values.columns):
        mine = np.ones(len(values), bool) if owner is None else owner == column
        out_of_sample, in_sample = flagged & mine & (part != "fit"), flagged & mine & (part == "fit")
        ax.plot(*_line(values.index, values[column].to_numpy(float)), lw=0.7, color=plotting.COLORS["series"],
                label="value" if ax is axes[0] else None)  # fmt: skip
        ax.scatter(values.index[out_of_sample], values[column].to_numpy()[out_of_sample], s=36, marker="x",
                   color=plotting.COLORS["flag"], linewidths=1.2, zorder=4,
                   label=("flagged" if owner is None else "flagged, mostly this column") if ax is axes[0]
                   else None)  # fmt: skip
        if in_sample_any.any():
            ax.scatter(values.index[in_sample], values[column].to_numpy()[in_sample], s=36, facecolors="none",
                       edgecolors=plotting.COLORS["flag"], zorder=4,
                       label="flagged in the fitting part (in-sample)" if ax is axes[0] else None)  # fmt: skip
        ax.set_ylabel(str(column))
    score_ax = axes[-1]
    score_ax.plot(*_line(scores.index, scores.to_numpy(float)), lw=0.7, color="0.25", label="score")
    score_ax.axhline(threshold, color=plotting.COLORS["label"], ls="--", lw=1, label=f"threshold {threshold:.4g}")
    score_ax.scatter(scores.index[flagged], scores.to_numpy()[flagged], s=16, color=plotting.COLORS["flag"], zorder=4,
                     label=f"flagged ({flagged.sum() - in_sample_any.sum():,}; in-sample {in_sample_any.sum():,})")
    score_ax.set_ylabel("score")
    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        handles += h
        labels += lab
    total = int(flagged.sum())
    height = fig.get_figheight()
    fig.suptitle(f"{model}: {plural(total, 'flagged row')} of {len(values):,} ({rule})", fontweight="bold",
                 y=1 - 0.08 / height, va="top")  # fmt: skip
    ncol = 3
    fig.legend(handles, labels, loc="upper center", ncol=ncol, fontsize="small", frameon=False,
               bbox_to_anchor=(0.5, 1 - 0.42 / height))  # fmt: skip
    legend_rows = -(-len(labels) // ncol)
    fig.tight_layout(rect=(0, 0, 1, 1 - (0.3 + 0.17 * legend_rows) / height))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)
