"""Build docs/gallery.md: the command line on real public series that ship with statsmodels (CO2, sunspots, Nile,
El Nino) and on a 1,000,000-row series with 50 injected spikes, each run as a user would run it (a fresh
``python -m anomalylab detect`` process), with its command, its seconds, what it printed, its intervals and its plot.

    .venv/bin/python docs/gallery.py                 # writes docs/gallery.md and docs/gallery/*.png (a few minutes)
    .venv/bin/python docs/gallery.py --quick --out DIR   # every case, small and fast (the test suite runs this)
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm

HERE = Path(__file__).resolve().parent
SPIKES = 50


def series_files(folder: Path, quick: bool) -> dict[str, Path]:
    """The input CSVs, written as a user would have them: a date column and a value column."""
    folder.mkdir(parents=True, exist_ok=True)
    co2 = sm.datasets.co2.load_pandas().data.rename_axis("week").reset_index()
    sun = sm.datasets.sunspots.load_pandas().data
    sun = pd.DataFrame({"year": pd.to_datetime(sun["YEAR"].astype(int).astype(str)), "sunspots": sun["SUNACTIVITY"]})
    nile = sm.datasets.nile.load_pandas().data
    nile = pd.DataFrame({"year": pd.to_datetime(nile["year"].astype(int).astype(str)), "volume": nile["volume"]})
    wide = sm.datasets.elnino.load_pandas().data.set_index("YEAR")
    months = pd.date_range(f"{int(wide.index[0])}-01", periods=wide.size, freq="MS")
    elnino = pd.DataFrame({"month": months, "sea_surface_temperature": wide.to_numpy().ravel()})
    n = 20_000 if quick else 1_000_000
    rng = np.random.default_rng(7)
    values = 10 + 2 * np.sin(2 * np.pi * np.arange(n) / 288) + rng.normal(0, 0.3, n)
    stretch = n // SPIKES
    where = np.arange(SPIKES) * stretch + rng.integers(50, stretch - 50, SPIKES)
    values[where] += rng.choice([-1, 1], SPIKES) * rng.uniform(4, 8, SPIKES)
    spikes = pd.DataFrame({"time": pd.date_range("2020-01-01", periods=n, freq="min"), "value": values})
    frames = {"co2": co2, "sunspots": sun, "nile": nile, "elnino": elnino, "spikes": spikes}
    paths = {}
    for name, frame in frames.items():
        paths[name] = folder / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    pd.Series(spikes["time"].iloc[where].to_numpy()).to_csv(folder / "spike_times.csv", index=False, header=["time"])
    return paths


def cases(quick: bool) -> list[dict]:
    """Each case: a title, what it shows, the input, and the arguments after ``detect INPUT``."""
    epochs = ["--epochs", "2"] if quick else []
    big = "20,000" if quick else "1,000,000"
    return [
        {"title": "CO2 at Mauna Loa, weekly (a trend, 59 missing weeks)", "input": "co2",
         "why": "The default model (DeepAnT) and threshold on a trending series, its missing weeks interpolated "
                "(`--fill interpolate`).",
         "args": ["--fill", "interpolate", *epochs]},
        {"title": "CO2 again, on the week-to-week change", "input": "co2",
         "why": "The same with `--difference`: the detector scores the change from one week to the next instead of "
                "the level.",
         "args": ["--fill", "interpolate", "--difference", *epochs]},
        {"title": "Sunspots, yearly since 1700", "input": "sunspots",
         "why": "309 rows of an 11-year cycle whose peaks vary in height; DeepAnT with two cycles of history.",
         "args": ["--lookback", "22", *epochs]},
        {"title": "The Nile at Aswan, yearly volume (100 rows)", "input": "nile",
         "why": "A short series: the rolling z-score with a 10-year window and the 5 most unusual years (`--top 5`).",
         "args": ["--model", "rolling_zscore", "--lookback", "10", "--top", "5"]},
        {"title": "El Nino: sea surface temperature, monthly", "input": "elnino",
         "why": "A wide table (a row per year, a column per month) reshaped to 732 months; DeepAnT with a 24-month "
                "history.",
         "args": ["--lookback", "24", *epochs]},
        {"title": f"{big} rows with {SPIKES} injected spikes: DeepAnT, the top {SPIKES}", "input": "spikes",
         "why": f"`--top {SPIKES}`: the {SPIKES} highest-scoring rows of the file, as intervals; counted below against "
                "the injected spikes. 3 epochs instead of 30 (the fitting part holds 400,000 rows).",
         "args": ["--top", str(SPIKES), "--epochs", "2" if quick else "3"], "spikes": True},
        {"title": f"{big} rows with {SPIKES} injected spikes: the rolling z-score at the true share", "input": "spikes",
         "why": f"`--contamination` at the injected share ({SPIKES} spikes in {big} rows): a classical detector, no "
                "TensorFlow.",
         "args": ["--model", "rolling_zscore", "--contamination", f"{SPIKES / (20_000 if quick else 1_000_000):g}"],
         "spikes": True},
    ]  # fmt: skip


def run_case(case: dict, slug: str, files: dict[str, Path], out: Path, quick: bool) -> dict:
    shown = {"intervals": f"gallery/{slug}.csv", "plot": f"gallery/{slug}.png"}
    args = ["detect", f"{case['input']}.csv", "--out", "flags.csv", *case["args"],
            "--intervals", shown["intervals"], "--plot", shown["plot"]]  # fmt: skip
    work = files[case["input"]].parent
    (work / "gallery").mkdir(exist_ok=True)
    start = time.perf_counter()
    if quick:  # one process for every case (TensorFlow loads once): a check that the commands run, not a timing
        code, stderr = _in_process(args, work)
    else:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        done = subprocess.run([sys.executable, "-m", "anomalylab", *args, "--quiet"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=3600)  # fmt: skip
        code, stderr = done.returncode, done.stderr
    seconds = time.perf_counter() - start
    if code != 0:
        raise RuntimeError(f"{slug}: the command failed:\n{stderr}")
    intervals = pd.read_csv(work / shown["intervals"])
    (out / "gallery").mkdir(parents=True, exist_ok=True)
    (work / shown["plot"]).replace(out / shown["plot"])
    found = None
    if case.get("spikes"):
        truth = set(pd.read_csv(work / "spike_times.csv")["time"])
        found = int(intervals["peak_time"].isin(truth).sum())
    printed = [line for line in stderr.splitlines() if line.strip()]
    return {"command": "python -m anomalylab " + shlex.join(args), "seconds": seconds, "printed": printed,
            "intervals": intervals, "found": found, "plot": shown["plot"]}  # fmt: skip


def _in_process(args: list[str], work: Path) -> tuple[int, str]:
    """``python -m anomalylab ARGS --quiet`` in this process, in ``work``; its exit status and what it printed."""
    import contextlib
    import io

    from anomalylab import cli

    caught, here = io.StringIO(), Path.cwd()
    try:
        os.chdir(work)
        with contextlib.redirect_stderr(caught):
            code = cli.main([*args, "--quiet"])
    finally:
        os.chdir(here)
    return code, caught.getvalue()


def page(results: list[tuple[dict, dict]], quick: bool) -> str:
    lines = [
        "# Gallery: the command line on public series",
        "",
        "Generated by `python docs/gallery.py` (do not edit by hand); the test suite runs `docs/gallery.py --quick`."
        " Each command ran in a fresh process on the development machine (2 cores, no GPU); the seconds include "
        "Python's and TensorFlow's start-up. The series ship with statsmodels (`sm.datasets`); the spike series is "
        "synthetic (a daily cycle, noise, and one spike of 4-8 units in each fiftieth of the file).",
        "",
    ]
    if quick:
        lines += ["**Quick form** (small inputs, 2 epochs, every command in one process): a check that every case "
                  "runs, not the gallery.", ""]
    for case, result in results:
        lines += [
            f"## {case['title']}", "", case["why"], "", "```bash", result["command"], "```", "",
            f"{result['seconds']:.1f} s. It printed:", "", "```text", *result["printed"], "```", "",
        ]  # fmt: skip
        if result["found"] is not None:
            lines += [f"**{result['found']} of the {len(result['intervals'])} intervals have their peak on an "
                      f"injected spike** (there are {SPIKES}).", ""]  # fmt: skip
        lines += [f"![{case['title']}]({result['plot']})", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs and 2 epochs: every case, fast")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for gallery.md and gallery/ (default docs/)")
    parser.add_argument("--work", type=Path, help="folder for the input and output CSVs (default: a temporary one)")
    args = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        files = series_files(args.work or Path(scratch), args.quick)
        results = []
        for i, case in enumerate(cases(args.quick), 1):
            slug = f"{i:02d}_{case['input']}"
            print(f"[{i}/{len(cases(args.quick))}] {case['title']}", file=sys.stderr, flush=True)
            results.append((case, run_case(case, slug, files, args.out, args.quick)))
    text = page(results, args.quick)
    (args.out / "gallery.md").write_text(text)
    print(f"wrote {args.out / 'gallery.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
