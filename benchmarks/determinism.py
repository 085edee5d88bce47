"""Same seeds, same tables? Run notebooks twice in quick mode and compare every table they write.

Run with ``.venv/bin/python benchmarks/determinism.py [NN ...]`` (default: 02 03 04 05; ``make data`` first).
Each notebook is executed twice with papermill in quick mode (``ANOMALYLAB_QUICK=1``, which writes under
``build/quick/``); after each run its tables (``build/quick/figures/tables/NN_*.csv``) are kept, and the two runs'
tables are compared row by row. Times (``fit_seconds``, ``score_seconds``) are expected to differ and are left out;
every other value must be identical. Prints one line per table and the largest difference found.
Exit status 1 when a table differs.

``--tables A B`` runs nothing: it compares every ``*.csv`` score table of folder ``A`` with the one of the same name
in ``B`` the same way, e.g. a fresh clone's ``make reproduce`` against the committed tables
(``benchmarks/determinism.py --tables ../fresh/figures/tables figures/tables``). With ``--shared-rows`` the tables
may hold different rows (fewer seeds): the rows both hold are compared, and the others are counted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
QUICK_TABLES = ROOT / "build" / "quick" / "figures" / "tables"
TIMES = {"fit_seconds", "score_seconds"}


def run(notebook: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "papermill", "--no-progress-bar", "--kernel", "python3", "--cwd", "notebooks",
         str(notebook), str(out)],
        cwd=ROOT, env={**os.environ, "ANOMALYLAB_QUICK": "1"}, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - start


def _same_values(a: pd.DataFrame, b: pd.DataFrame, suffixes: tuple[str, str] = ("", "")) -> tuple[bool, float]:
    """Whether the ``value`` and ``threshold`` columns of two aligned tables are equal (NaN equal to NaN), and
    their largest absolute difference."""
    same, diffs = True, [0.0]
    for c in ("value", "threshold"):
        if f"{c}{suffixes[0]}" in a:
            x, y = a[f"{c}{suffixes[0]}"].to_numpy(float), b[f"{c}{suffixes[1]}"].to_numpy(float)
            same &= np.array_equal(x, y, equal_nan=True)
            with np.errstate(invalid="ignore"):  # inf - inf where both runs hold the same infinite threshold
                diffs.append(np.nanmax(np.abs(x - y), initial=0.0))
    return bool(same), float(max(diffs))


def compare(a: pd.DataFrame, b: pd.DataFrame) -> tuple[bool, float, int]:
    """(identical, largest absolute difference, rows compared) of two runs' tables, times left out."""
    a, b = (t[~t["metric"].isin(TIMES)].reset_index(drop=True) for t in (a, b))
    if a.shape != b.shape or not a.drop(columns=["value", "threshold"], errors="ignore").equals(
        b.drop(columns=["value", "threshold"], errors="ignore")
    ):
        return False, float("inf"), len(a)
    return (*_same_values(a, b), len(a))


def compare_shared(a: pd.DataFrame, b: pd.DataFrame) -> dict:
    """Two tables with different rows (a run with fewer seeds, a model added): the rows both hold, matched on every
    column but ``value`` and ``threshold`` (times left out), compared as :func:`compare` does; and how many rows
    only one of them holds."""
    a, b = (t[~t["metric"].isin(TIMES)] for t in (a, b))
    keys = [c for c in a.columns if c not in ("value", "threshold") and c in b.columns]
    a, b = (t.assign(_n=t.groupby(keys, dropna=False).cumcount()) for t in (a, b))
    merged = a.merge(b, on=[*keys, "_n"], how="outer", suffixes=("_a", "_b"), indicator=True)
    both = merged[merged["_merge"] == "both"]
    same, diff = _same_values(both, both, ("_a", "_b"))
    return {"rows compared": len(both), "identical": same, "max |diff|": diff,
            "only in A": int((merged["_merge"] == "left_only").sum()),
            "only in B": int((merged["_merge"] == "right_only").sum())}  # fmt: skip


def compare_folders(a: Path, b: Path, shared: bool = False) -> tuple[list[dict], bool]:
    """One row per score table in ``a`` compared with the table of the same name in ``b``, and whether all are
    identical (a table missing from ``b`` is not). ``shared``: compare the rows both tables hold and count the
    others (:func:`compare_shared`); a table is then identical when its shared rows are."""
    rows, ok = [], True
    for csv in sorted(a.glob("*.csv")):
        if not (b / csv.name).exists():
            rows.append({"table": csv.stem, "rows compared": 0, "identical": False, "max |diff|": "missing in B"})
            ok = False
            continue
        first, second = pd.read_csv(csv, low_memory=False), pd.read_csv(b / csv.name, low_memory=False)
        if shared:
            row = {"table": csv.stem, **compare_shared(first, second)}
        else:
            same, diff, n = compare(first, second)
            row = {"table": csv.stem, "rows compared": n, "identical": same, "max |diff|": diff}
        ok &= row["identical"]
        rows.append(row)
    return rows, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", nargs="*", default=["02", "03", "04", "05"], help="notebook numbers")
    parser.add_argument("--tables", nargs=2, type=Path, metavar=("A", "B"),
                        help="compare two folders of score tables instead of running notebooks")
    parser.add_argument("--shared-rows", action="store_true",
                        help="with --tables: compare the rows both tables hold, and count the rows only one holds "
                             "(a run with fewer seeds against one with more)")  # fmt: skip
    args = parser.parse_args()
    if args.tables:
        rows, ok = compare_folders(*args.tables, shared=args.shared_rows)
        if not rows:
            print(f"error: no *.csv score tables in {args.tables[0]}")
            return 1
        print(pd.DataFrame(rows).to_markdown(index=False))
        return 0 if ok else 1
    import tensorflow as tf

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, TensorFlow {tf.__version__}")  # fmt: skip
    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for number in args.numbers:
            notebook = next((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
            runs = []
            for i in (1, 2):
                seconds = run(notebook, Path(tmp) / f"{number}_{i}.ipynb")
                kept = Path(tmp) / f"tables_{number}_{i}"
                kept.mkdir()
                for csv in QUICK_TABLES.glob(f"{number}_*.csv"):
                    shutil.copy(csv, kept / csv.name)
                runs.append((kept, seconds))
            found, same = compare_folders(runs[0][0], runs[1][0])
            ok &= same
            rows += [{**row, "run seconds": f"{runs[0][1]:.0f} / {runs[1][1]:.0f}"} for row in found]
    print(pd.DataFrame(rows).to_markdown(index=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
