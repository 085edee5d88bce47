"""Score tables: one tidy schema, atomic writes, provenance beside every table.

A table is long: one row per measurement with at least
``dataset, protocol, series, model, seed, threshold_rule, metric, value``.
:func:`write_table` writes ``<tables_dir>/<name>.csv`` (full precision), a
Markdown twin ``<name>.md`` (mean +/- std over seeds, rounded, with the
provenance in its header) and ``<name>.provenance.json`` (git sha, package
versions, run configuration). Every file is written to a temporary name and
moved into place, so an interrupted run leaves no half-written table.
"""

from __future__ import annotations

import json
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from anomalylab import paths
from anomalylab.errors import InputError
from anomalylab.evaluation import TABLE_COLUMNS, result_rows  # noqa: F401 (re-exported: notebooks build rows here)
from anomalylab.metrics import METRICS
from anomalylab.paths import atomic_path

PROVENANCE_PACKAGES = [
    "anomalylab", "tensorflow", "keras", "numpy", "pandas", "scikit-learn", "pooch", "matplotlib", "seaborn",
]  # fmt: skip


def check_table(table: pd.DataFrame) -> pd.DataFrame:
    """Refuse a table that does not follow the tidy schema; return it with ordered columns."""
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"a score table must be a pandas DataFrame, got {type(table).__name__}.")
    missing = [c for c in TABLE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"score table lacks column(s) {missing}; every table needs {TABLE_COLUMNS} "
            "(build rows with anomalylab.reporting.result_rows)."
        )
    unknown = sorted(set(table["metric"]) - set(METRICS))
    if unknown:
        raise InputError(f"unknown metric name(s) {unknown}; the fixed names are {list(METRICS)}.")
    if not pd.api.types.is_numeric_dtype(table["value"]):
        raise InputError("the value column must be numeric (a failed run is NaN, never a string or 0).")
    extra = [c for c in table.columns if c not in TABLE_COLUMNS]
    return table[TABLE_COLUMNS + extra]


def summarize(table: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """Mean +/- std over seeds, pivoted: one row per (dataset, protocol, series, model,
    threshold rule), one column per metric, as strings for reading."""
    table = check_table(table)
    keys = ["dataset", "protocol", "series", "model", "threshold_rule"]
    grouped = table.groupby([*keys, "metric"], dropna=False, sort=False)["value"]
    stats = grouped.agg(["mean", "std", "count"]).reset_index()

    def fmt(row) -> str:
        if np.isnan(row["mean"]):
            return "NaN"
        if row["count"] > 1 and not np.isnan(row["std"]):
            return f"{row['mean']:.{decimals}f} ± {row['std']:.{decimals}f}"
        return f"{row['mean']:.{decimals}f}"

    stats["cell"] = stats.apply(fmt, axis=1)
    wide = stats.pivot(index=keys, columns="metric", values="cell")
    order = [m for m in METRICS if m in wide.columns]
    return wide[order].reset_index()


def git_sha() -> str:
    """The repository's current commit (``-dirty`` if the tree has changes), or ``unknown``."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=paths.ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=paths.ROOT, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def provenance(config=None) -> dict:
    """Git sha, time, Python, platform, package versions and the run configuration."""
    versions = {}
    for name in PROVENANCE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "git_sha": git_sha(),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "config": config.as_dict() if hasattr(config, "as_dict") else config,
    }


def write_text_atomic(target: Path, text: str) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text)
    return Path(target)


def write_table(table: pd.DataFrame, name: str, config=None, tables_dir: Path | None = None) -> dict[str, Path]:
    """Write a tidy score table as CSV + Markdown + provenance JSON, atomically.

    ``name`` is ``NN_name`` (the notebook number first). The folder is
    ``config.tables_dir`` (``build/quick/...`` in quick mode) unless
    ``tables_dir`` is given. Returns the written paths.
    """
    table = check_table(table)
    if not name or "/" in name or name.endswith((".csv", ".md")):
        raise InputError(f"table name must be a bare name like '02_mixtiles_scores', got {name!r}.")
    if tables_dir is None:
        tables_dir = config.tables_dir if config is not None else paths.TABLES_DIR
    tables_dir = Path(tables_dir)
    prov = provenance(config)
    out = {
        "csv": tables_dir / f"{name}.csv",
        "md": tables_dir / f"{name}.md",
        "provenance": tables_dir / f"{name}.provenance.json",
    }
    with atomic_path(out["csv"]) as tmp:
        table.to_csv(tmp, index=False)
    summary = summarize(table)
    header = (
        f"<!-- written by anomalylab.reporting.write_table; git {prov['git_sha']}; "
        f"full precision in {name}.csv, provenance in {name}.provenance.json -->\n\n"
        f"# {name}\n\nMean ± std over seeds where there are several.\n\n"
    )
    write_text_atomic(out["md"], header + summary.to_markdown(index=False) + "\n")
    write_text_atomic(out["provenance"], json.dumps(prov, indent=2, default=str) + "\n")
    return out


def read_tables(tables_dir: Path | None = None, pattern: str = "*.csv") -> pd.DataFrame:
    """Every tidy table in ``tables_dir`` stacked into one frame, with a ``table`` column."""
    tables_dir = Path(tables_dir) if tables_dir is not None else paths.TABLES_DIR
    frames = [check_table(pd.read_csv(p)).assign(table=p.stem) for p in sorted(tables_dir.glob(pattern))]
    if not frames:
        raise InputError(f"no score tables match {pattern!r} in {tables_dir}; run the notebooks first.")
    return pd.concat(frames, ignore_index=True)
