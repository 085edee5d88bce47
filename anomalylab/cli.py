"""The command line: ``python -m anomalylab detect data.csv --model deepant --out flags.csv`` (or ``anomalylab``).

``detect`` reads a CSV with a time column and one or more value columns, fits a detector on the first part of
the rows (``--fit-fraction``; or loads one saved before with ``--load``), sets a label-free threshold on the
scores of a calibration part that the detector did not fit on (the last ``--calibration-fraction`` of the
first part: a quantile, or mean + k sigma), and writes every row's score and 0/1 flag. ``--plot`` draws the
series with its flags; ``--save`` keeps the fitted detector (no pickle: :mod:`anomalylab.models.persistence`)
with its threshold. Bad input stops with ``error: ...`` naming the fix (exit status 2), before anything is
written.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

from anomalylab.errors import AnomalyLabError, InputError

THRESHOLD_FILE = "threshold.json"  # written beside a saved detector by --save


ONE_COLUMN = " (one column)"  # the help of a model that scores a single value column ends with this


def _models(lookback: int, epochs: int, seed: int) -> dict:
    """Name -> (factory, help); a factory gets nothing and returns an unfitted detector. A help that ends with
    :data:`ONE_COLUMN` marks a model that scores one value column only."""
    from anomalylab import models as m

    window = lambda inner: m.WindowDetector(inner, window=lookback)  # noqa: E731
    return {
        "deepant": (lambda: m.CNNForecaster(lookback=lookback, epochs=epochs, seed=seed, name="deepant"),
                    "DeepAnT CNN forecaster; score = forecast error"),
        "deepant_attention": (lambda: m.CNNForecaster(lookback=lookback, epochs=epochs, attention="self", seed=seed,
                                                      name="deepant_attention"),
                              "DeepAnT with multi-head self-attention"),
        "deepant_streaming": (lambda: m.StreamingForecaster(lookback=lookback, epochs=epochs, seed=seed,
                                                            name="deepant_streaming"),
                              "DeepAnT that keeps learning from the rows it has scored (fine-tunes every 500 rows "
                              "on the last 2,000, without labels)"),
        "lstm_autoencoder": (lambda: window(m.SequenceAutoencoder("lstm", epochs=epochs, seed=seed)),
                             "LSTM seq2seq autoencoder on windows; score = reconstruction error"),
        "isolation_forest": (lambda: window(m.IsolationForestDetector(seed=seed)),
                             "Isolation Forest on windows of the series"),
        "windowed_gaussian": (lambda: m.WindowedGaussian(window=max(lookback, 20) * 10),
                              "rolling Gaussian tail probability" + ONE_COLUMN),
        "rolling_zscore": (lambda: m.RollingZScore(window=lookback), "rolling z-score" + ONE_COLUMN),
        "matrix_profile": (lambda: m.MatrixProfileDiscord(m=max(3, lookback // 3)),
                           "matrix-profile discord distance to the fitted part" + ONE_COLUMN),
    }  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anomalylab", description="Anomaly detection on your own data.")
    sub = parser.add_subparsers(dest="command", required=True)
    detect = sub.add_parser(
        "detect",
        help="score a CSV and flag anomalies",
        description="Fit a detector on the first rows of a CSV (or load a saved one), set a label-free threshold "
        "on a calibration part it did not fit on, and write every row's score and flag.",
    )
    detect.add_argument("csv", type=Path, nargs="?", help="input CSV: a time column and one or more numeric value "
                        "columns")
    detect.add_argument("--out", type=Path, help="output CSV (required): time, values, score, flag, part")
    detect.add_argument("--model", default="deepant", help="detector (see --list-models; default deepant)")
    detect.add_argument("--list-models", action="store_true", help="print the detectors and exit")
    detect.add_argument("--time-column", help="name of the time column (default: the first column)")
    detect.add_argument("--columns", help="comma-separated value columns (default: every other column)")
    detect.add_argument("--time-unit", choices=("s", "ms", "us", "ns"),
                        help="unit of a numeric time column (epoch times): s, ms, us or ns; required for one")
    order = detect.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True,
                       help="read dates such as 03/04/2025 as day first (3 April)")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                       help="read dates such as 03/04/2025 as month first (4 March)")
    detect.add_argument("--fit-fraction", type=float, default=0.5,
                        help="share of the rows, from the start, used to fit and calibrate (default 0.5)")
    detect.add_argument("--calibration-fraction", type=float, default=0.2,
                        help="share of that first part kept out of fitting to set the threshold (default 0.2)")
    detect.add_argument("--rule", choices=("quantile", "mean_k_sigma"), default="quantile",
                        help="label-free threshold rule on the calibration scores (default quantile)")
    detect.add_argument("--q", type=float, default=0.99, help="quantile of --rule quantile (default 0.99)")
    detect.add_argument("--k", type=float, default=3.0, help="k of --rule mean_k_sigma (default 3)")
    detect.add_argument("--threshold", type=float, help="use this threshold instead of a rule")
    detect.add_argument("--lookback", type=int, default=48, help="history or window length in rows (default 48)")
    detect.add_argument("--epochs", type=int, default=30, help="training epochs of deep models (default 30)")
    detect.add_argument("--seed", type=int, default=0, help="seed (same seed, same scores)")
    detect.add_argument("--load", type=Path, help="a detector saved with --save: score with it, fit nothing")
    detect.add_argument("--save", type=Path, help="directory to save the fitted detector and its threshold in")
    detect.add_argument("--plot", type=Path, help="PNG of each value column with its flags")
    detect.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser  # fmt: skip


def parse_times(column: pd.Series, what: str, time_unit: str | None = None, dayfirst: bool | None = None):
    """A time column read as the user means it: numbers only with their unit (``time_unit``: s, ms, us or ns
    since 1970), ISO 8601 as it is, and other dates only where day-first and month-first agree or the user said
    which (``dayfirst``); anything else is refused with the fix."""
    if pd.api.types.is_bool_dtype(column):
        raise InputError(f"{what} holds true/false values, not times; choose the time column with --time-column.")
    if pd.api.types.is_numeric_dtype(column):
        if time_unit is None:
            raise InputError(f"{what} holds numbers, not dates; if they are epoch times, say their unit with "
                             "--time-unit s|ms|us|ns (e.g. --time-unit s for seconds since 1970).")  # fmt: skip
        try:
            return pd.to_datetime(column, unit=time_unit)
        except (ValueError, TypeError, OverflowError) as exc:
            raise InputError(f"{what} is not a time in {time_unit} since 1970 ({exc}); check --time-unit.") from None
    if time_unit is not None:
        raise InputError(f"--time-unit is for numeric epoch times, but {what} holds text; drop --time-unit.")
    text = column.astype(str)
    try:
        return pd.to_datetime(text, format="ISO8601")  # year first: never ambiguous
    except (ValueError, TypeError):
        pass
    readings = {}
    for first in (False, True) if dayfirst is None else (dayfirst,):
        try:
            readings[first] = pd.to_datetime(text, format="mixed", dayfirst=first)
        except (ValueError, TypeError, OverflowError) as exc:
            error = exc
    if not readings:
        raise InputError(f"{what} is not a time column ({error}); choose the time column with --time-column.")
    if len(readings) == 2 and not readings[False].equals(readings[True]):
        i = int(np.flatnonzero((readings[False] != readings[True]).to_numpy())[0])
        raise InputError(f"{what} is ambiguous: {text.iloc[i]!r} reads as {readings[True].iloc[i]:%d %B %Y} "
                         f"(day first) or {readings[False].iloc[i]:%d %B %Y} (month first); pass --dayfirst or "
                         "--monthfirst.")  # fmt: skip
    return next(iter(readings.values()))


def read_series_csv(path: Path, time_column: str | None = None, columns: str | None = None,
                    time_unit: str | None = None, dayfirst: bool | None = None) -> pd.DataFrame:
    """The value columns of a CSV on a sorted DatetimeIndex, every value finite; clear errors otherwise (times as
    :func:`parse_times` reads them)."""
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; pass the path of a CSV file.")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} is empty; it needs a header line (time, value, ...) and rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a readable CSV ({type(exc).__name__}: {exc}).") from None
    if frame.shape[1] < 2:
        raise InputError(f"{path} has {frame.shape[1]} column(s); it needs a time column and at least one value "
                         "column (comma-separated).")  # fmt: skip
    if frame.empty:
        raise InputError(f"{path} has a header but no rows.")
    time_column = time_column or frame.columns[0]
    if time_column not in frame.columns:
        raise InputError(f"{path} has no column {time_column!r}; its columns are {list(frame.columns)} "
                         "(choose one with --time-column).")  # fmt: skip
    wanted = [c for c in frame.columns if c != time_column] if columns is None else columns.split(",")
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InputError(f"{path} has no column(s) {missing}; its columns are {list(frame.columns)}.")
    times = parse_times(frame[time_column], f"column {time_column!r} of {path}", time_unit, dayfirst)
    values = frame[wanted].set_axis(pd.DatetimeIndex(times, name=time_column))
    text = [c for c in wanted if not pd.api.types.is_numeric_dtype(values[c])]
    if text:
        raise InputError(f"column(s) {text} of {path} are not numeric; choose value columns with --columns.")
    gaps = {c: int(n) for c, n in values.isna().sum().items() if n}
    if gaps:
        raise InputError(f"{path} has missing values {gaps}; fill or drop those rows first.")
    infinite = int((~np.isfinite(values.to_numpy(float))).sum())
    if infinite:
        raise InputError(f"{path} has {infinite} infinite value(s); replace them first.")
    if not values.index.is_monotonic_increasing:
        raise InputError(f"the times in {path} are not in order; sort the file by {time_column!r} first.")
    if values.index.has_duplicates:
        first = values.index[values.index.duplicated()][0]
        raise InputError(f"{path} repeats {int(values.index.duplicated().sum())} time(s) (first: {first}); "
                         "aggregate or drop the repeated rows first.")  # fmt: skip
    return values.astype(float)


def _check_fraction(value: float, name: str) -> float:
    if not np.isfinite(value) or not 0 < value < 1:
        raise InputError(f"{name} must lie strictly between 0 and 1, got {value}.")
    return value


def check_threshold(value, source: str) -> float:
    """A threshold from the command line or a saved ``threshold.json``: a finite real number, or a clear error."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(f"{source} must be a number, got {value!r}.")
    if not np.isfinite(value):
        raise InputError(f"{source} must be a finite number, got {value}.")
    return float(value)


def flat_scores(scores: pd.Series) -> bool:
    """True when the calibration scores have no spread: every row scores the same (a flat series), so a
    threshold cannot separate anything there."""
    values = scores.dropna().to_numpy(float)
    return bool(len(values)) and float(np.ptp(values)) <= 1e-9 * max(1.0, float(np.abs(values).max()))


def _threshold(args, scores: pd.Series) -> float:
    from anomalylab import thresholds

    scores = scores.dropna()
    if not len(scores):
        raise InputError("the calibration part got no score (it is shorter than the detector's history); "
                         "raise --fit-fraction or --calibration-fraction, or lower --lookback.")  # fmt: skip
    if args.rule == "quantile":
        return thresholds.quantile_threshold(scores, args.q)
    return thresholds.mean_k_sigma(scores, args.k)


def _fit(args, values: pd.DataFrame):
    """Fit the chosen detector on the fitting part; returns (detector, threshold, parts)."""
    from anomalylab.models._keras import extra_callbacks

    registry = _models(args.lookback, args.epochs, args.seed)
    if args.model not in registry:
        raise InputError(f"unknown model {args.model!r}; choose one of {sorted(registry)} (--list-models).")
    detector = registry[args.model][0]()
    n_first = int(len(values) * args.fit_fraction)
    n_fit = int(n_first * (1 - args.calibration_fraction))
    if n_fit < 2 * args.lookback or n_first - n_fit < 1:
        raise InputError(f"{len(values)} rows give {n_fit} rows to fit on, fewer than twice the lookback "
                         f"({args.lookback}); use a longer file, a larger --fit-fraction or a smaller --lookback.")
    fit_part = values.iloc[:n_fit]
    fit_input = fit_part.iloc[:, 0] if values.shape[1] == 1 else fit_part
    if values.shape[1] > 1 and registry[args.model][1].endswith(ONE_COLUMN):
        raise InputError(f"{args.model} scores one column; pick it with --columns or use deepant.")
    progress = nullcontext() if args.quiet else _epoch_bar(args.epochs, args.model)
    with progress as callback:
        with extra_callbacks([] if callback is None else [callback]):
            detector.fit(fit_input)
    series = values.iloc[:n_first, 0] if values.shape[1] == 1 else values.iloc[:n_first]
    calibration = pd.Series(np.asarray(detector.score_samples(series), dtype=float)).iloc[n_fit:n_first]
    threshold = args.threshold if args.threshold is not None else _threshold(args, calibration)
    flat = flat_scores(calibration)
    if flat:
        level = float(calibration.dropna().iloc[0])
        print(f"warning: {args.model} gives every calibration row the same score ({level:.6g}): the series is flat "
              "there, so no threshold can tell normal rows from anomalous ones; only rows scoring above "
              f"{threshold:.6g} are flagged. Fit on a part of the series that varies (--fit-fraction) or use "
              "another model.", file=sys.stderr)  # fmt: skip
    return detector, threshold, (n_fit, n_first), flat


class _epoch_bar:
    """A tqdm bar that a Keras callback advances once per epoch (deep models); no bar for the others."""

    def __init__(self, epochs: int, model: str):
        self.epochs, self.model = epochs, model

    def __enter__(self):
        from tqdm.auto import tqdm

        from anomalylab.config import import_tensorflow

        import_tensorflow()  # without TensorFlow's start-up chatter
        import keras

        bar = tqdm(total=self.epochs, desc=f"fitting {self.model}", unit="epoch", file=sys.stderr)
        self.bar = bar

        class Advance(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                bar.update(1)

        return Advance()

    def __exit__(self, *exc):
        self.bar.close()


def _plot(path: Path, values: pd.DataFrame, flags: pd.Series, threshold: float, model: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from anomalylab import plotting

    fig, axes = plt.subplots(values.shape[1], 1, figsize=(12, 2.8 * values.shape[1]), squeeze=False, sharex=True)
    for ax, column in zip(axes[:, 0], values.columns):
        plotting.plot_series_with_flags(ax, values[column], flags=flags.to_numpy(), flag_name="flagged")
        ax.set_ylabel(column)
    axes[0, 0].set_title(f"{model}: {int(flags.sum())} flagged rows (threshold {threshold:.4g})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    plt.close(fig)


def _writable(path: Path, flag: str) -> None:
    """Refuse an output path that cannot be written, before anything is fitted or written."""
    if path.is_dir():
        raise InputError(f"{flag} {path} is a folder; name a file in it, e.g. {path / ('flags' + path.suffix)}.")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{flag} {path} cannot be written: {parent} is a file, not a folder.")
    try:
        if path.exists():
            with open(path, "ab"):
                pass
        elif path.parent.exists():
            tempfile.TemporaryFile(dir=path.parent).close()
        elif not os.access(parent, os.W_OK):
            raise PermissionError(f"cannot create folders in {parent}")
    except OSError as exc:
        raise InputError(f"{flag} {path} cannot be written ({exc}); choose another path.") from None


def check_outputs(args) -> None:
    """Every output path is checked before the input is read or a model fitted: writable, distinct, not the
    input, and not inside the folder that --save will fill with the detector."""
    outputs = {flag: path for flag, path in (("--out", args.out), ("--plot", args.plot)) if path is not None}
    for flag, path in outputs.items():
        if args.csv is not None and path.resolve() == args.csv.resolve():
            raise InputError(f"{flag} {path} is the input file; writing it would replace your data. Name another "
                             "file.")  # fmt: skip
        if args.save is not None and path.resolve().is_relative_to(args.save.resolve()):
            raise InputError(f"{flag} {path} lies inside the --save folder {args.save}, which holds the detector "
                             "only; write it elsewhere.")  # fmt: skip
        _writable(path, flag)
    if len({p.resolve() for p in outputs.values()}) < len(outputs):
        raise InputError("--out and --plot name the same file; give them different names.")
    if args.save is not None:
        from anomalylab.models.persistence import place

        if args.csv is not None and args.csv.resolve().is_relative_to(args.save.resolve()):
            raise InputError(f"the input {args.csv} lies inside the --save folder {args.save}; save elsewhere.")
        place.check_target(args.save)


def _loaded_threshold(args) -> tuple[float, bool]:
    """The threshold saved beside a detector (``threshold.json``), checked like --threshold."""
    from anomalylab.models.persistence import read_extra

    saved = read_extra(args.load, THRESHOLD_FILE)
    if saved is None:
        raise InputError(f"{args.load} holds no {THRESHOLD_FILE}; pass --threshold, or save the detector with "
                         "`anomalylab detect ... --save DIR`.")  # fmt: skip
    if "threshold" not in saved:
        raise InputError(f"{args.load / THRESHOLD_FILE} has no 'threshold'; pass --threshold or save again.")
    strict = saved.get("strict", False)
    if not isinstance(strict, bool):
        raise InputError(f"{args.load / THRESHOLD_FILE}: 'strict' must be true or false, got {strict!r}.")
    return check_threshold(saved["threshold"], f"the threshold in {args.load / THRESHOLD_FILE}"), strict


def detect(args) -> pd.DataFrame:
    """The ``detect`` command; returns the table it wrote."""
    from anomalylab import models
    from anomalylab.paths import atomic_path

    if args.csv is None or args.out is None:
        raise InputError("detect needs an input CSV and --out, e.g. `anomalylab detect data.csv --out flags.csv`.")
    _check_fraction(args.fit_fraction, "--fit-fraction")
    _check_fraction(args.calibration_fraction, "--calibration-fraction")
    if args.lookback < 2:
        raise InputError(f"--lookback must be at least 2 rows, got {args.lookback}.")
    if args.threshold is not None:
        check_threshold(args.threshold, "--threshold")
    if args.out.suffix.lower() != ".csv":
        raise InputError(f"--out must name a .csv file, got {args.out}.")
    if args.plot is not None and args.plot.suffix.lower() != ".png":
        raise InputError(f"--plot must name a .png file, got {args.plot}.")
    if args.load is not None and args.save is not None:
        raise InputError("--load and --save together would save the loaded detector again; pass one of them.")
    check_outputs(args)
    values = read_series_csv(args.csv, args.time_column, args.columns, args.time_unit, args.dayfirst)
    parts = None
    if args.load is not None:
        detector = models.load(args.load)
        if args.threshold is not None:
            threshold, strict = args.threshold, False
        else:
            threshold, strict = _loaded_threshold(args)
    else:
        detector, threshold, parts, strict = _fit(args, values)
    series = values.iloc[:, 0] if values.shape[1] == 1 else values
    scores = detector.score_samples(series)
    scores = pd.Series(np.asarray(scores, dtype=float), index=values.index)
    above = scores > threshold if strict else scores >= threshold  # NaN (no history) is never flagged
    flags = above.astype("int8")
    part = np.full(len(values), "scored", dtype=object)
    if parts is not None:
        part[: parts[0]], part[parts[0] : parts[1]] = "fit", "calibration"
    scored = part == "scored"
    share = float(flags[scored].mean()) if scored.any() else 0.0
    if share > 0.5:
        print(f"warning: the threshold {threshold:.6g} flags {int(flags[scored].sum())} of {int(scored.sum())} "
              "scored rows (more than half); is it on the scale of this detector's scores?", file=sys.stderr)
    out = values.assign(score=scores.to_numpy(), flag=flags.to_numpy(), part=part).reset_index()
    with atomic_path(args.out) as tmp:
        out.to_csv(tmp, index=False)
    if args.plot is not None:
        _plot(args.plot, values, flags, threshold, args.model)
    if args.save is not None:
        rule = "given" if args.threshold is not None else args.rule
        detector.save(args.save, extra={THRESHOLD_FILE: {"threshold": threshold, "rule": rule, "strict": strict}})
    print(f"{int(flags.sum())} of {len(values)} rows flagged (threshold {threshold:.6g}); scores and flags in "
          f"{args.out}", file=sys.stderr)  # fmt: skip
    return out


def main(argv=None) -> int:
    """Entry point of ``python -m anomalylab`` and the ``anomalylab`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "detect" and args.list_models:
        for name, (_, text) in _models(args.lookback, args.epochs, args.seed).items():
            print(f"{name:20s} {text}")
        return 0
    from anomalylab.config import use_fixed_numerics

    use_fixed_numerics()  # the command line's process is ours: same scores on any machine, as in the notebooks
    try:
        detect(args)
    except AnomalyLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
