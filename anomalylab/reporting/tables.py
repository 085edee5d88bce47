"""Score tables: one tidy schema, atomic writes, readable summaries and quotes of a table's numbers.

A table is long: one row per measurement with at least
``dataset, protocol, series, model, seed, threshold_rule, kind, metric, value``.
:func:`write_table` writes ``<tables_dir>/<name>.csv`` (full precision), a
Markdown twin ``<name>.md`` (mean ± 95 % t-interval over seeds, rounded, with the
provenance in its header) and ``<name>.provenance.json`` (git sha, hardware, package
versions, run configuration). Every file is written to a temporary name and
moved into place, so an interrupted run leaves no half-written table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from anomalylab import paths
from anomalylab.errors import InputError
from anomalylab.evaluation import KINDS, TABLE_COLUMNS, protocol_reason, row_kind
from anomalylab.metrics import METRICS
from anomalylab.paths import atomic_path, atomic_paths
from anomalylab.reporting.provenance import provenance
from anomalylab.reporting.stats import mean_ci, select_rows


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
    bad_kind = sorted(set(table["kind"].astype(str)) - set(KINDS))
    if bad_kind:
        raise InputError(f"unknown kind(s) {bad_kind}; every row is one of {KINDS}.")
    # the kind a row of ours must have is evaluation.row_kind's (the one place that decides it), from its names
    ours = table[(table["kind"] == "ours") & (table["threshold_rule"].astype(str) != "")]
    pairs = ours[["threshold_rule", "model"]].astype(str).drop_duplicates()
    wrong = [(rule, model) for rule, model in pairs.itertuples(index=False)
             if row_kind(rule_name=rule, model=model) != "ours"]  # fmt: skip
    if wrong:
        raise InputError(f"rows of {sorted(wrong)[:5]} (rule, model) read the test split and cannot be kind 'ours' "
                         f"({protocol_reason(*wrong[0])}); mark them 'protocol'.")  # fmt: skip
    posthoc = sorted(set(ours.loc[ours["model"].astype(str).str.contains("(post hoc)", regex=False), "model"]))
    if posthoc:
        raise InputError(f"rows of {posthoc[:3]} are named post hoc but have kind 'ours': a variant designed "
                         "after reading test results is never ranked; mark them with evaluation.post_hoc(table).")
    extra = [c for c in table.columns if c not in TABLE_COLUMNS]
    return table[TABLE_COLUMNS + extra]


def summarize(table: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """Mean ± half-width of the 95 % t-interval over seeds, pivoted: one row per (dataset, protocol, series, model,
    threshold rule), one column per metric, as strings for reading."""
    table = check_table(table)
    keys = ["dataset", "protocol", "series", "model", "threshold_rule", "kind"]
    grouped = table.groupby([*keys, "metric"], dropna=False, sort=False)["value"]
    stats = grouped.agg(["mean", "std", "count"]).reset_index()

    stats["cell"] = [mean_ci(m, s, n, decimals) for m, s, n in zip(stats["mean"], stats["std"], stats["count"])]
    wide = stats.pivot(index=keys, columns="metric", values="cell")
    order = [m for m in METRICS if m in wide.columns]
    return wide[order].reset_index()


def metric_stats(table: pd.DataFrame, metric: str, **filters) -> dict:
    """Mean, std and count of ``metric`` over the rows of ``table`` that match ``filters`` (column=value;
    ``series=""`` matches empty series). Refuses an empty selection, so prose built on it cannot quote a
    number that is not in the table."""
    values = select_rows(table, metric, filters)["value"].astype(float)
    return {"mean": float(values.mean()), "std": float(values.std()), "count": int(values.count())}


def metric_text(table: pd.DataFrame, metric: str, decimals: int = 3, **filters) -> str:
    """``"mean ± h"`` (``h``: half-width of the 95 % t-interval over runs; the value alone for one run) of
    ``metric`` over the matching rows: for sentences that quote the table (see :func:`metric_stats`)."""
    s = metric_stats(table, metric, **filters)
    return mean_ci(s["mean"], s["std"], s["count"], decimals)


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
    paths.check_output_name(name, "table", "02_mixtiles_scores")
    if name.endswith((".csv", ".md")):
        raise InputError(f"table name must be a bare name like '02_mixtiles_scores' (no suffix), got {name!r}.")
    if table.empty:
        raise InputError(f"table {name!r} has no rows; an empty score table says nothing. Check the filter or "
                         "the run that should have produced it.")  # fmt: skip
    if tables_dir is None:
        tables_dir = config.tables_dir if config is not None else paths.TABLES_DIR
    tables_dir = Path(tables_dir)
    prov = provenance(config)
    out = {
        "csv": tables_dir / f"{name}.csv",
        "md": tables_dir / f"{name}.md",
        "provenance": tables_dir / f"{name}.provenance.json",
    }
    summary = summarize(table)
    header = (
        f"<!-- written by anomalylab.reporting.write_table; git {prov['git_sha']}; "
        f"full precision in {name}.csv, provenance in {name}.provenance.json -->\n\n"
        f"# {name}\n\nMean ± half-width of the 95 % Student-t interval over seeds where there are several.\n\n"
    )
    # the three files as a set: all written first, then all moved into place (paths.atomic_paths)
    with atomic_paths([out["csv"], out["md"], out["provenance"]]) as (csv, md, prov_file):
        table.to_csv(csv, index=False)
        md.write_text(header + summary.to_markdown(index=False) + "\n")
        prov_file.write_text(json.dumps(prov, indent=2, default=str) + "\n")
    return out


def read_tables(tables_dir: Path | None = None, pattern: str = "*.csv") -> pd.DataFrame:
    """Every tidy table in ``tables_dir`` stacked into one frame, with a ``table`` column."""
    tables_dir = Path(tables_dir) if tables_dir is not None else paths.TABLES_DIR
    frames = [check_table(pd.read_csv(p)).assign(table=p.stem) for p in sorted(tables_dir.glob(pattern))]
    if not frames:
        raise InputError(f"no score tables match {pattern!r} in {tables_dir}; run the notebooks first.")
    return pd.concat(frames, ignore_index=True)
