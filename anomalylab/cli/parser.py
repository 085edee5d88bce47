"""The arguments of ``anomalylab detect``."""

from __future__ import annotations

import argparse
from pathlib import Path

from anomalylab.cli.inputs import FILLS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anomalylab", description="Anomaly detection on your own data.")
    sub = parser.add_subparsers(dest="command", required=True)
    detect = sub.add_parser(
        "detect",
        help="score a CSV and flag anomalies",
        description="Fit a detector on the first rows of a CSV (or load a saved one), set a threshold (label-free, "
        "on a calibration part it did not fit on; or the top rows), and write every row's score and flag, the "
        "flagged intervals and a plot.",
    )
    detect.add_argument("csv", type=Path, nargs="?", help="input CSV: a time column and one or more numeric value "
                        "columns")
    detect.add_argument("--out", type=Path, help="output CSV (required): time, values, score, flag, part")
    detect.add_argument("--model", default="deepant", help="detector (see --list-models; default deepant)")
    detect.add_argument("--list-models", action="store_true", help="print the detectors and exit")
    reading = detect.add_argument_group("reading the CSV")
    reading.add_argument("--sep", default=",", help="field separator: one character, or tab, semicolon, space "
                         "(default ,)")
    reading.add_argument("--time-column", help="name of the time column (default: the first column)")
    reading.add_argument("--columns", help="comma-separated value columns (default: every other column)")
    reading.add_argument("--time-unit", choices=("s", "ms", "us", "ns"),
                         help="unit of a numeric time column (epoch times): s, ms, us or ns; required for one")
    order = reading.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True,
                       help="read dates such as 03/04/2025 as day first (3 April)")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                       help="read dates such as 03/04/2025 as month first (4 March)")
    reading.add_argument("--utc", action="store_true", help="read times with different UTC offsets (a "
                         "daylight-saving change) in UTC")
    reading.add_argument("--fill", choices=sorted(FILLS), help="missing values: interpolate (in time), ffill "
                         "(carry the last value forward) or drop their rows; without it they are an error")
    reading.add_argument("--difference", action="store_true", help="score the change from one row to the next "
                         "(first difference) instead of the values: for trending series")
    fitting = detect.add_argument_group("fitting")
    fitting.add_argument("--fit-fraction", type=float, default=0.5,
                         help="share of the rows, from the start, used to fit and calibrate (default 0.5)")
    fitting.add_argument("--calibration-fraction", type=float, default=0.2,
                         help="share of that first part kept out of fitting to set the threshold (default 0.2)")
    fitting.add_argument("--lookback", type=int, default=48, help="history or window length in rows (default 48)")
    fitting.add_argument("--epochs", type=int, default=30, help="training epochs of deep models (default 30)")
    fitting.add_argument("--seed", type=int, default=0, help="seed (same seed, same scores)")
    fitting.add_argument("--load", type=Path, help="a detector saved with --save: score with it, fit nothing")
    fitting.add_argument("--save", type=Path, help="directory to save the fitted detector and its threshold in")
    flagging = detect.add_argument_group("flagging (one of --rule, --threshold, --top, --contamination)")
    flagging.add_argument("--rule", choices=("quantile", "mean_k_sigma"), default="quantile",
                          help="label-free threshold rule on the calibration scores (default quantile)")
    flagging.add_argument("--q", type=float, default=0.99, help="quantile of --rule quantile (default 0.99)")
    flagging.add_argument("--k", type=float, default=3.0, help="k of --rule mean_k_sigma (default 3)")
    flagging.add_argument("--threshold", type=float, help="use this threshold instead of a rule")
    flagging.add_argument("--top", type=int, help="flag the N rows of the file with the highest scores")
    flagging.add_argument("--contamination", type=float, help="flag this share of the file's rows (those with the "
                          "highest scores), e.g. 0.001")
    flagging.add_argument("--merge", type=int, default=0, help="intervals: join flagged runs at most this many "
                          "unflagged rows apart (default 0)")
    output = detect.add_argument_group("output")
    output.add_argument("--intervals", type=Path, help="CSV of the flagged intervals: start, end, rows, peak time "
                        "and score, severity, part")
    output.add_argument("--plot", type=Path, help="PNG of each value column with its flags and the score panel")
    output.add_argument("--explorer", type=Path, help="HTML page to explore the scores and move the threshold in a "
                        "browser (needs the [explorer] extra)")
    output.add_argument("--quiet", action="store_true", help="no progress bar")
    evaluate = sub.add_parser(
        "evaluate",
        help="give another detector's benchmark results the project's treatment",
        description="Score a detector's NAB results (NAB's own layout: <detector>/<category>/<detector>_<file>.csv "
        "with timestamp, value, anomaly_score) on the corpus, the development half and the evaluation half (at "
        "the threshold the development half chose), per series, and rank it beside ours and NAB's detectors.",
    )
    evaluate.add_argument("benchmark", choices=("nab",), help="the benchmark (nab)")
    evaluate.add_argument("results", type=Path, help="the detector's results folder, in the benchmark's layout")
    evaluate.add_argument("--name", help="the detector's name in the tables (default: the folder's name)")
    evaluate.add_argument("--thresholds", type=Path, help="its thresholds, in NAB's config/thresholds.json layout")
    evaluate.add_argument("--out", type=Path, help="folder for the rows (CSV), the ranks (CSV) and the "
                          "critical-difference diagram (PNG)")
    evaluate.add_argument("--tables", type=Path, help="folder of the score tables to rank against (default: "
                          "figures/tables)")
    experiments = sub.add_parser(
        "experiments",
        help="list the notebooks' experiment grids (detector, seeds, threshold rules)",
        description="Print every experiment grid the notebooks run (anomalylab/suites): each experiment's detector "
        "and arguments, its seeds and its threshold rules, as in a full run (or a quick one). Arguments chosen from "
        "data before a grid runs (a tuned code size, the labelled rows) show as <name>.",
    )
    experiments.add_argument("grid", nargs="?", help="one grid by name (default: every grid)")
    experiments.add_argument("--quick", action="store_true", help="the grids of a quick run (2 seeds, 2 epochs)")
    experiments.add_argument("--csv", action="store_true", help="print CSV instead of text")
    return parser  # fmt: skip
