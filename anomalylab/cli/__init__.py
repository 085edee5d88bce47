"""The command line: ``python -m anomalylab detect data.csv --model deepant --out flags.csv`` (or ``anomalylab``).

``detect`` reads a CSV with a time column and one or more value columns (:mod:`.inputs`), fits a detector on the
first part of the rows (``--fit-fraction``; or loads one saved before with ``--load``), and sets a threshold
(:mod:`.flags`): label-free on the scores of a calibration part the detector did not fit on (the last
``--calibration-fraction`` of the first part: a quantile, or mean + k sigma), a given number, or the ``--top`` N /
``--contamination`` share of the file's rows. It writes every row's score and 0/1 flag, the flagged intervals
(``--intervals``) and a plot that shows the parts and the score (``--plot``, :mod:`.plot`); ``--save`` keeps the
fitted detector (no pickle: :mod:`anomalylab.models.persistence`) with its threshold and the columns it was fitted
on. Bad input stops with ``error: ...`` naming the fix (exit status 2), before anything is written.

``evaluate nab RESULTS_DIR`` (:mod:`.evaluate`) scores another detector's results in NAB's layout as this project
scores its own, and ranks it beside them. ``experiments [GRID]`` lists the notebooks' experiment grids
(:mod:`anomalylab.suites`).
"""

from __future__ import annotations

import sys

from anomalylab.cli.command import THRESHOLD_FILE, detect
from anomalylab.cli.inputs import parse_times, read_series_csv
from anomalylab.errors import AnomalyLabError, InputError

__all__ = ["THRESHOLD_FILE", "detect", "main", "parse_times", "read_series_csv"]


def main(argv=None) -> int:
    """Entry point of ``python -m anomalylab`` and the ``anomalylab`` console script."""
    from anomalylab.cli.catalogue import models
    from anomalylab.cli.parser import build_parser

    args = build_parser().parse_args(argv)
    if args.command == "detect" and args.list_models:
        entries = models(args.lookback, args.epochs, args.seed)
        width = max(map(len, entries))
        for name, (_, text) in entries.items():
            print(f"{name:{width}s}  {text}")
        return 0

    from anomalylab.config import use_fixed_numerics

    use_fixed_numerics()  # the command line's process is ours: same scores on any machine, as in the notebooks
    try:
        if args.command == "experiments":
            print(experiment_listing(args.grid, quick=args.quick, csv=args.csv))
        elif args.command == "evaluate":
            from anomalylab.cli.evaluate import evaluate_nab, report

            if args.out is not None and args.out.exists() and not args.out.is_dir():
                raise InputError(f"--out {args.out} is a file; name a folder for the outputs.")
            print(report(evaluate_nab(args.results, name=args.name, thresholds=args.thresholds, out=args.out,
                                      tables_dir=args.tables)))  # fmt: skip
        else:
            detect(args)
    except AnomalyLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def experiment_listing(name: str | None = None, quick: bool = False, csv: bool = False) -> str:
    """The text of ``python -m anomalylab experiments``: every grid (or one), one block each."""
    import pandas as pd

    from anomalylab.evaluation import listing
    from anomalylab.suites import catalogue as suites

    names = [name] if name else list(suites.GRIDS)
    blocks = []
    for grid in names:
        table = listing(suites.grid(grid, quick=quick)).assign(grid=grid, notebook=suites.GRIDS[grid][0])
        blocks.append(table[["grid", "notebook", *table.columns[:-2]]])
    table = pd.concat(blocks, ignore_index=True)
    if csv:
        return table.to_csv(index=False).rstrip("\n")
    lines = []
    for grid, rows in table.groupby("grid", sort=False):
        lines.append(f"{grid} (notebook {rows['notebook'].iloc[0]})")
        for row in rows.to_dict("records"):
            rules = row["rules"] or "none (the benchmark's own threshold)"
            lines.append(f"  {row['experiment']}: {row['detector']}")
            lines.append(f"      seeds {row['seeds']}; rules {rules}")
            if row["chosen from data"]:
                lines.append(f"      chosen from data: {row['chosen from data']}")
    return "\n".join(lines)

