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
import os
import platform
import subprocess
from dataclasses import dataclass
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


def mean_std(mean: float, std: float, count: int, decimals: int = 3, missing: str = "NaN") -> str:
    """``"mean ± std"`` over ``count`` runs, or the mean alone for one run; ``missing`` for a NaN mean."""
    if np.isnan(mean):
        return missing
    if count > 1 and not np.isnan(std):
        return f"{mean:.{decimals}f} ± {std:.{decimals}f}"
    return f"{mean:.{decimals}f}"


def summarize(table: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """Mean +/- std over seeds, pivoted: one row per (dataset, protocol, series, model,
    threshold rule), one column per metric, as strings for reading."""
    table = check_table(table)
    keys = ["dataset", "protocol", "series", "model", "threshold_rule"]
    grouped = table.groupby([*keys, "metric"], dropna=False, sort=False)["value"]
    stats = grouped.agg(["mean", "std", "count"]).reset_index()

    stats["cell"] = [mean_std(m, s, n, decimals) for m, s, n in zip(stats["mean"], stats["std"], stats["count"])]
    wide = stats.pivot(index=keys, columns="metric", values="cell")
    order = [m for m in METRICS if m in wide.columns]
    return wide[order].reset_index()


# what makes the numbers: a change here (committed or not) is what "-dirty" reports
SOURCE_PATHS = ("anomalylab", "notebooks", "pyproject.toml", "requirements.lock", "environment.yml")


def _code_cells(text: str) -> list[str]:
    """The sources of a notebook's code cells (outputs, counts and metadata left out)."""
    cells = json.loads(text).get("cells", [])
    return ["".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]


def git_sha(root: Path | None = None) -> str:
    """The repository's current commit, ``-dirty`` when the code that makes the numbers differs from it (the
    package, the pins, or a notebook's code cells), or ``unknown`` outside git.

    A notebook whose outputs alone changed is not a change of code: ``make reproduce`` replaces each notebook with
    its executed copy before the next one runs, and the later notebooks' tables must still name a clean commit.
    """
    root = paths.ROOT if root is None else Path(root)

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout

    try:
        sha = git("rev-parse", "--short=12", "HEAD").strip()
        changed = git("status", "--porcelain", "--untracked-files=no", "--", *SOURCE_PATHS).splitlines()
        for line in changed:
            path = line[3:]
            same_code = (
                path.endswith(".ipynb") and line[:2] in (" M", "M ", "MM")
                and _code_cells((root / path).read_text()) == _code_cells(git("show", f"HEAD:{path}"))
            )  # fmt: skip
            if not same_code:
                return f"{sha}-dirty"
        return sha
    except (OSError, ValueError, subprocess.CalledProcessError):
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


# --------------------------------------------------------------------------- summaries across notebooks


@dataclass(frozen=True)
class SummarySpec:
    """Which rows of which score tables make one ranked summary (one dataset and protocol).

    ``protocol`` and ``published`` are regular expressions on the ``protocol``
    column: the first picks our rows, the second the seed projects' and
    literature's published rows (shown as their own rows, protocol beside them).
    ``metrics[0]`` ranks the rows (higher is better).
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


SUMMARIES = (
    SummarySpec(
        "mixtiles", "Mixtiles hourly traffic: 888 test hours, 22 expert anomalies",
        ("02_mixtiles", "03_mixtiles_attention"), r"^chronological 65/14/21",
        ("trainval_best_f2", "relative_0.40", "company_flags"),
        ("f2", "precision", "recall", "pr_auc", "roc_auc"), published=r"^seed study",
        note="trainval_best_f2: threshold of best F2 on the training + validation hours; relative_0.40: the seed's "
             "fixed rule (flag when the forecast is off by more than 40 %).",
    ),
    SummarySpec(
        "nab", "NAB v1.1: 58 series, corpus score per profile", ("02_nab", "03_nab_attention"), r"^nab_v1\.1$",
        ("nab_corpus_optimised",), ("nab_standard", "nab_low_fp", "nab_low_fn"), published=r"scoreboard",
        note="One threshold for the whole corpus, chosen to maximise its score, as NAB's own runner does.",
    ),
    SummarySpec(
        "spike", "Synthetic spike series: 50 real spikes in the test part", ("02_spike_series",),
        r"^chronological 80/20", ("train_mean_3sd",), ("f1", "precision", "recall"), published=r"^seed:",
    ),
    SummarySpec(
        "kdd_k1_whole", "KDD Cup 99, protocol K1: the whole `corrected` file (311,029 rows, 80 % attacks)",
        ("04_kdd_k1", "05_comparison"), r"^K1(?:_fit\d+)?_whole_file$", ("val_q95", "per_cluster_q95"),
        ("pr_auc", "roc_auc", "precision", "recall"),
        note="K1 fits on all 77,823 normal rows of the 10 % file (notebook 04); K1_fit30000 on a seeded 30,000 of "
             "them (notebook 05). Thresholds: 95th percentile of the validation inliers' scores, globally or per "
             "cluster.",
    ),
    SummarySpec(
        "kdd_k1_sample", "KDD Cup 99, protocol K1: the seed's sample of 8,000 normal and 2,000 attack rows",
        ("04_kdd_k1", "05_comparison"), r"^K1(?:_fit\d+)?_sample_8000_2000$",
        ("val_q95", "per_cluster_q95", "val_best_f1"), ("f1", "precision", "recall", "roc_auc"),
        published=r"^ffl_published",
        note="val_best_f1: best F1 on the labelled validation split (attacks of the training file only).",
    ),
    SummarySpec(
        "kdd_k2", "KDD Cup 99, protocol K2 (DAGMM / ALAD): normal traffic is the outlier class",
        ("04_kdd_k2",), r"^K2_second_half$", ("test_q80 (protocol)", "val_q99"),
        ("f1", "precision", "recall", "roc_auc"), published=r"^published",
        note="test_q80 is the protocol's own rule (flag the top 20 % of test scores), kept to compare with the papers; "
             "val_q99 is ours (99th percentile of validation inliers).",
    ),
    SummarySpec(
        "sequence", "Windows of real series (24 steps): sequence autoencoders vs forecast error and Isolation Forest",
        ("04_sequence_models",), r"^chronological split", ("val_mean_3sd",), ("pr_auc", "roc_auc", "event_f1"),
        by_series=True,
    ),
)


def summary_stats(tables: pd.DataFrame, spec: SummarySpec) -> pd.DataFrame:
    """Numeric summary of one spec: per (series, model, threshold rule, protocol) the number of
    runs and the mean and std of every metric over seeds, ``fit_seconds`` beside, ranked by
    ``spec.metrics[0]`` (within each series when ``by_series``). Published rows come last."""
    rows = check_table(tables[tables["table"].isin(spec.tables)] if "table" in tables else tables)
    rows = rows.assign(series=rows["series"].astype(object).fillna("").astype(str),
                       threshold_rule=rows["threshold_rule"].astype(object).fillna("").astype(str))
    if not spec.by_series:
        rows = rows[rows["series"] == ""]
    keys = ["series", "model", "threshold_rule", "protocol"]
    # a later notebook may copy an earlier one's rows (03 shows 02's DeepAnT): count each run once
    rows = rows.drop_duplicates([*keys, "seed", "metric"])
    ours = rows["protocol"].str.contains(spec.protocol, regex=True)
    published = rows["protocol"].str.contains(spec.published, regex=True) if spec.published else ours & False
    parts = []
    for source, mask in [("ours", ours), ("published", published & ~ours)]:
        part = rows[mask]
        scored = part[part["metric"].isin(spec.metrics) & part["threshold_rule"].isin(
            spec.rules if source == "ours" else part["threshold_rule"].unique())]
        if scored.empty:
            continue
        stats = scored.groupby([*keys, "metric"], sort=False)["value"].agg(["mean", "std", "count"]).unstack("metric")
        stats.columns = [f"{metric}_{stat}" if stat != "count" else f"n_{metric}" for stat, metric in stats.columns]
        stats = stats.reset_index()
        firsts = [f"n_{m}" for m in spec.metrics if f"n_{m}" in stats]
        stats["runs"] = stats[firsts].max(axis=1).astype(int)
        stats = stats.drop(columns=[c for c in stats if c.startswith("n_")])
        fit = part[part["metric"] == "fit_seconds"].groupby(["series", "model", "protocol"])["value"].mean()
        stats["fit_seconds"] = [fit.get((s, m, p), np.nan) for s, m, p in
                                zip(stats["series"], stats["model"], stats["protocol"])]
        stats["source"] = source
        parts.append(stats)
    if not parts:
        raise InputError(f"no rows for summary {spec.key!r} in tables {spec.tables}; run their notebooks first.")
    out = pd.concat(parts, ignore_index=True)
    rank_col = f"{spec.metrics[0]}_mean"
    if rank_col not in out:
        out[rank_col] = np.nan
    out["_published"] = out["source"] == "published"
    sort = (["series"] if spec.by_series else []) + ["_published", rank_col]
    out = out.sort_values(sort, ascending=[True] * (len(sort) - 1) + [False], na_position="last")
    group = out.groupby(["series", "_published"] if spec.by_series else ["_published"])
    out["rank"] = np.where(out["_published"], np.nan, group.cumcount() + 1)
    # a label for figures: model and rule, and the protocol when our rows come from more than one
    protocols = out.loc[~out["_published"], "protocol"].unique()
    common = len(os.path.commonprefix([p[::-1] for p in protocols])) if len(protocols) > 1 else 0
    short = {p: p[: len(p) - common].rstrip("_ ") for p in protocols}  # "K1_fit30000_whole_file" -> "K1_fit30000"
    out["label"] = [f"{m} · {r}" + (f" [{short[p]}]" if len(protocols) > 1 and not pub else "") if r else m
                    for m, r, p, pub in zip(out["model"], out["threshold_rule"], out["protocol"], out["_published"])]
    return out.drop(columns="_published").reset_index(drop=True)


def summary_table(tables: pd.DataFrame, spec: SummarySpec, decimals: int = 3, stats=None) -> pd.DataFrame:
    """:func:`summary_stats` for reading: ``mean ± std`` strings, published rows marked (``stats``:
    that summary, if already computed)."""
    stats = summary_stats(tables, spec) if stats is None else stats
    out = pd.DataFrame({
        "rank": stats["rank"].map(lambda r: "" if np.isnan(r) else str(int(r))),
        "model": stats["model"], "threshold rule": stats["threshold_rule"],
        "protocol": np.where(stats["source"] == "published", "published: " + stats["protocol"], stats["protocol"]),
        "runs": stats["runs"],
    })  # fmt: skip
    if stats.loc[stats["source"] == "ours", "protocol"].nunique() == 1:  # one protocol: say it once, in the title
        out.loc[stats["source"] == "ours", "protocol"] = ""
    if spec.by_series:
        out.insert(0, "series", stats["series"].str.split("/").str[-1])
    for metric in spec.metrics:
        mean, std = stats.get(f"{metric}_mean"), stats.get(f"{metric}_std")
        if mean is None:
            continue
        std = std if std is not None else [np.nan] * len(mean)
        out[metric] = [mean_std(m, s, n, decimals, missing="") for m, s, n in zip(mean, std, stats["runs"])]
    out["fit s"] = stats["fit_seconds"].map(lambda v: "" if np.isnan(v) else f"{v:.1f}")
    return out


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


README_START = "<!-- results:start (generated by `make readme` from figures/tables; do not edit by hand) -->"
README_END = "<!-- results:end -->"


def results_markdown(tables: pd.DataFrame, specs=SUMMARIES) -> str:
    """The README's results section: one ranked table per summary spec, from the score tables."""
    blocks = []
    for spec in specs:
        try:
            stats = summary_stats(tables, spec)
        except InputError:
            continue
        table = summary_table(tables, spec, stats=stats)
        ours = stats.loc[stats["source"] == "ours", "protocol"].unique()
        protocol = f"Protocol: `{ours[0]}`. " if len(ours) == 1 else ""
        note = f"\n\n{protocol}{spec.note}".rstrip() if protocol or spec.note else ""
        blocks.append(f"#### {spec.title}{note}\n\n{table.to_markdown(index=False)}")
    names = sorted(set(tables["table"])) if "table" in tables else []
    head = (f"Generated from `figures/tables/` ({', '.join(names)}): mean ± std over runs (seeds); `runs` counts them; "
            "published rows are the seed projects' or the literature's numbers under their own protocol.")
    return "\n\n".join([head, *blocks])


def update_readme(readme: Path | None = None, tables_dir: Path | None = None, specs=SUMMARIES) -> bool:
    """Replace the README's generated results section (between the markers) with
    :func:`results_markdown` of the current tables; returns whether the file changed."""
    readme = Path(readme) if readme is not None else paths.ROOT / "README.md"
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise InputError(f"{readme} lacks the markers {README_START!r} ... {README_END!r}; add them where the "
                         "results section belongs.")  # fmt: skip
    before, rest = text.split(README_START, 1)
    _, after = rest.split(README_END, 1)
    new = f"{before}{README_START}\n{results_markdown(read_tables(tables_dir), specs)}\n{README_END}{after}"
    if new == text:
        return False
    write_text_atomic(readme, new)
    return True


if __name__ == "__main__":  # python -m anomalylab.reporting: regenerate the README's results section
    print("README.md results section", "updated" if update_readme() else "already up to date")
