"""What each install brings (issue 32): the installed size of the core (``pip install .``), of ``[deep]`` and of the
package as it was before the extras (a commit, default ``2a3c892``: everything required), and the seconds a fresh
process takes to import anomalylab and fit and score a classical detector on a 10,000-row series.

    .venv/bin/python benchmarks/install_size.py [--before COMMIT]

Each install goes into a fresh venv in a temporary folder (pip's cache warm, offline indexes as configured; byte
code compiled, as pip does by default), measured, and deleted. Prints one table (Markdown)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import time
start = time.perf_counter()
import numpy as np, pandas as pd
from anomalylab.models import RollingZScore
series = pd.Series(np.sin(np.arange(10_000) / 20) + np.random.default_rng(0).normal(0, 0.1, 10_000),
                   index=pd.date_range("2025", periods=10_000, freq="min"))
RollingZScore(window=48).fit(series[:5000]).score_samples(series)
print(time.perf_counter() - start)
"""


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def measure(label: str, target: str, work: Path, slug: str) -> dict:
    venv = work / f"venv-{slug}"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    start = time.perf_counter()
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "-c", str(ROOT / "requirements.lock"), target],
                   check=True, capture_output=True)  # fmt: skip
    seconds = time.perf_counter() - start
    site = next((venv / "lib").glob("python3*/site-packages"))
    probe = []
    for _ in range(3):  # the first call may read the files from disk; the best of three is the process's cost
        begin = time.perf_counter()
        done = subprocess.run([str(venv / "bin" / "python"), "-c", PROBE], capture_output=True, text=True,
                              cwd=work, check=True)  # fmt: skip
        probe.append((time.perf_counter() - begin, float(done.stdout.strip())))
    wall, inside = min(probe)
    return {"install": label, "bytes": folder_bytes(site), "pip seconds": seconds, "process seconds": wall,
            "import + fit seconds": inside}  # fmt: skip


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="2a3c892", help="the commit whose `pip install .` is the baseline")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        before = work / "before"
        before.mkdir()
        archive = subprocess.run(["git", "archive", args.before], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        rows.append(measure(f"before ({args.before}): pip install .", str(before), work, "before"))
        rows.append(measure("core: pip install .", str(ROOT), work, "core"))
        rows.append(measure("pip install .[deep]", f"{ROOT}[deep]", work, "deep"))
    base = rows[0]["bytes"]
    print("| install | installed size | share of before | pip install (s, cache warm) | fresh process: import + "
          "RollingZScore on 10,000 rows (s) |")
    print("|---|--:|--:|--:|--:|")
    for r in rows:
        print(f"| {r['install']} | {r['bytes'] / 2**20:,.0f} MiB | {r['bytes'] / base:.2f} | {r['pip seconds']:.0f} | "
              f"{r['process seconds']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
