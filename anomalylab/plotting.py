"""One figure style and the standard plots; ``save_figure`` writes PNGs atomically.

Figures are named ``NN_name.png`` after the notebook that writes them and go
to ``config.figures_dir`` (``figures/`` in a full run, ``build/quick/figures``
in quick mode).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from anomalylab import paths
from anomalylab.errors import InputError
from anomalylab.reporting import atomic_path

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
    if not name or "/" in name or name.endswith(".png"):
        raise InputError(f"figure name must be a bare name like '01_mixtiles_series', got {name!r}.")
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
) -> None:
    """A series as a line, labelled anomalies as red dots, flags as orange crosses,
    and windows shaded."""
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
