"""The ``detect`` command: read a CSV, fit a detector on its first part (or load a saved one), set a threshold,
and write every row's score and flag, the flagged intervals and a plot. Bad input stops with ``error: ...``
naming the fix (exit status 2), before anything is written."""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

from anomalylab.cli import flags as flagging
from anomalylab.cli.catalogue import ONE_COLUMN, models
from anomalylab.cli.inputs import difference, read_series_csv, separator
from anomalylab.errors import InputError

EXPLORER_ROWS = 200_000  # a page with more points than this still opens, slowly
THRESHOLD_FILE = "threshold.json"  # written beside a saved detector by --save (with the columns it was fitted on)


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


def _fit(args, values: pd.DataFrame):
    """Fit the chosen detector on the fitting part; returns (detector, (n_fit, n_first))."""
    from anomalylab.models._keras import extra_callbacks

    registry = models(args.lookback, args.epochs, args.seed)
    if args.model not in registry:
        raise InputError(f"unknown model {args.model!r}; choose one of {sorted(registry)} (--list-models).")
    if values.shape[1] > 1 and registry[args.model][1].endswith(ONE_COLUMN):
        raise InputError(f"{args.model} scores one column; pick it with --columns or use deepant.")
    detector = registry[args.model][0]()
    n_first = int(len(values) * args.fit_fraction)
    n_fit = int(n_first * (1 - args.calibration_fraction))
    if n_fit < 2 * args.lookback or n_first - n_fit < 1:
        raise InputError(f"{len(values)} rows give {n_fit} rows to fit on, fewer than twice the lookback "
                         f"({args.lookback}); use a longer file, a larger --fit-fraction or a smaller --lookback.")
    fit_part = values.iloc[:n_fit]
    progress = nullcontext() if args.quiet else _epoch_bar(args.epochs, args.model)
    with progress as callback:
        with extra_callbacks([] if callback is None else [callback]):
            detector.fit(fit_part.iloc[:, 0] if values.shape[1] == 1 else fit_part)
    return detector, (n_fit, n_first)


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


OUTPUTS = (("--out", "out", ".csv"), ("--intervals", "intervals", ".csv"), ("--plot", "plot", ".png"),
           ("--explorer", "explorer", ".html"))


def check_outputs(args) -> None:
    """Every output path is checked before the input is read or a model fitted: the right suffix, writable,
    distinct, not the input, and not inside the folder that --save will fill with the detector."""
    outputs = {flag: getattr(args, attr) for flag, attr, _ in OUTPUTS if getattr(args, attr, None) is not None}
    for flag, attr, suffix in OUTPUTS:
        path = getattr(args, attr, None)
        if path is not None and path.suffix.lower() != suffix:
            raise InputError(f"{flag} must name a {suffix} file, got {path}.")
    for flag, path in outputs.items():
        if args.csv is not None and path.resolve() == args.csv.resolve():
            raise InputError(f"{flag} {path} is the input file; writing it would replace your data. Name another "
                             "file.")  # fmt: skip
        if args.save is not None and path.resolve().is_relative_to(args.save.resolve()):
            raise InputError(f"{flag} {path} lies inside the --save folder {args.save}, which holds the detector "
                             "only; write it elsewhere.")  # fmt: skip
        _writable(path, flag)
    if getattr(args, "explorer", None) is not None:
        from anomalylab.extras import require

        require("bokeh", what="--explorer")
    if len({p.resolve() for p in outputs.values()}) < len(outputs):
        raise InputError(f"{' and '.join(outputs)} name the same file; give each output its own name.")
    if args.save is not None:
        from anomalylab.models.persistence import place

        if args.csv is not None and args.csv.resolve().is_relative_to(args.save.resolve()):
            raise InputError(f"the input {args.csv} lies inside the --save folder {args.save}; save elsewhere.")
        place.check_target(args.save)


def _saved_settings(args) -> dict:
    """What ``threshold.json`` beside a loaded detector says (threshold, strict, columns, difference), checked."""
    from anomalylab.models.persistence import read_extra

    saved = read_extra(args.load, THRESHOLD_FILE)
    where = args.load / THRESHOLD_FILE
    settings = {"threshold": None, "strict": False, "columns": None, "difference": False, "file": saved is not None}
    saved = saved or {}
    if "threshold" in saved:
        settings["threshold"] = check_threshold(saved["threshold"], f"the threshold in {where}")
    for key in ("strict", "difference"):
        if not isinstance(saved.get(key, False), bool):
            raise InputError(f"{where}: {key!r} must be true or false, got {saved[key]!r}.")
        settings[key] = saved.get(key, False)
    columns = saved.get("columns")
    if columns is not None:
        if not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns):
            raise InputError(f"{where}: 'columns' must be a list of column names, got {columns!r}.")
        settings["columns"] = columns
    return settings


def _columns_for_load(args, settings: dict, sep: str) -> str | None:
    """The value columns to read for a loaded detector: those it was fitted on, or a clear error naming them."""
    fitted = settings["columns"]
    if fitted is None:
        return args.columns
    wanted = args.columns.split(",") if args.columns else None
    if wanted is not None and wanted != fitted:
        raise InputError(f"the detector in {args.load} was fitted on column(s) {fitted}, in that order; --columns "
                         f"asks for {wanted}. Pass --columns {','.join(fitted)}.")  # fmt: skip
    try:
        header = list(pd.read_csv(args.csv, sep=sep, nrows=0).columns)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError):
        return ",".join(fitted)  # the full read says what is wrong with the file
    absent = [c for c in fitted if c not in header]
    if absent:
        raise InputError(f"the detector in {args.load} was fitted on column(s) {fitted}; {args.csv} lacks {absent} "
                         f"(its columns are {header}). Rename the columns, or fit a new detector on this file.")
    return ",".join(fitted)


def _choose_threshold(args, scores: pd.Series, calibration: pd.Series | None, settings: dict):
    """(threshold, strict, how it was set) from --top, --contamination, --threshold, the saved one or the rule."""
    if args.top is not None or args.contamination is not None:
        n = flagging.top_count(scores, args.top, args.contamination)
        share = f"contamination {args.contamination:g}, " if args.contamination is not None else ""
        threshold, strict, note = flagging.top_threshold(scores, n)
        if note:
            print(note, file=sys.stderr)
        return threshold, strict, f"{share}top {n:,} rows of the file"
    if args.threshold is not None:
        return args.threshold, False, "threshold given"
    if calibration is None:
        if not settings["file"]:
            raise InputError(f"{args.load} holds no {THRESHOLD_FILE}; pass --threshold, --top or --contamination, "
                             "or save the detector with `anomalylab detect ... --save DIR`.")  # fmt: skip
        if settings["threshold"] is None:
            raise InputError(f"{args.load / THRESHOLD_FILE} has no 'threshold'; pass --threshold, --top or "
                             "--contamination, or save again.")  # fmt: skip
        return settings["threshold"], settings["strict"], "saved threshold"
    threshold = flagging.calibration_threshold(calibration, args.rule, args.q, args.k)
    rule = f"quantile {args.q:g}" if args.rule == "quantile" else f"mean + {args.k:g} sigma"
    return threshold, flat_scores(calibration), f"{rule} of the calibration scores"


def _check_arguments(args) -> None:
    if args.csv is None or args.out is None:
        raise InputError("detect needs an input CSV and --out, e.g. `anomalylab detect data.csv --out flags.csv`.")
    _check_fraction(args.fit_fraction, "--fit-fraction")
    _check_fraction(args.calibration_fraction, "--calibration-fraction")
    if args.lookback < 2:
        raise InputError(f"--lookback must be at least 2 rows, got {args.lookback}.")
    chosen = [flag for flag, value in (("--threshold", args.threshold), ("--top", args.top),
                                       ("--contamination", args.contamination)) if value is not None]  # fmt: skip
    if len(chosen) > 1:
        raise InputError(f"{' and '.join(chosen)} each set the threshold; pass one of them.")
    if args.threshold is not None:
        check_threshold(args.threshold, "--threshold")
    if args.top is not None and args.top < 1:
        raise InputError(f"--top must be a positive number of rows, got {args.top}.")
    if args.contamination is not None and not (np.isfinite(args.contamination) and 0 < args.contamination <= 0.5):
        raise InputError(f"--contamination is the share of rows you expect to be anomalous, in (0, 0.5]; got "
                         f"{args.contamination}.")  # fmt: skip
    if args.merge < 0:
        raise InputError(f"--merge must be a number of rows, 0 or more; got {args.merge}.")
    if args.load is not None and args.save is not None:
        raise InputError("--load and --save together would save the loaded detector again; pass one of them.")


def detect(args) -> pd.DataFrame:
    """The ``detect`` command; returns the table it wrote."""
    from anomalylab import models as detectors
    from anomalylab.paths import atomic_paths

    _check_arguments(args)
    sep = separator(args.sep)
    check_outputs(args)
    settings = _saved_settings(args) if args.load is not None else None
    columns = _columns_for_load(args, settings, sep) if settings else args.columns
    if settings and args.difference and not settings["difference"]:
        raise InputError(f"the detector in {args.load} was fitted on the values, not their differences; drop "
                         "--difference.")  # fmt: skip
    differenced = args.difference or bool(settings and settings["difference"])
    values, filled, note = read_series_csv(args.csv, args.time_column, columns, args.time_unit, args.dayfirst, sep,
                                           args.fill, args.utc)  # fmt: skip
    if note:
        print(note, file=sys.stderr)
    if settings and settings["difference"] and not args.difference:
        print(f"note: the detector in {args.load} scores first differences (saved with --difference); so does this "
              "run.", file=sys.stderr)  # fmt: skip
    model_values = difference(values) if differenced else values
    if len(model_values) < 2:
        raise InputError(f"{args.csv} has {len(values)} row(s); a detector needs more.")
    parts = None
    if settings is not None:
        detector = detectors.load(args.load)
    else:
        detector, parts = _fit(args, model_values)
    data = model_values.iloc[:, 0] if model_values.shape[1] == 1 else model_values
    attribution = None  # each column's own part of the score, where the detector has one (the CNN forecasters)
    if model_values.shape[1] > 1 and hasattr(detector, "score_with_columns"):
        scores, attribution = detector.score_with_columns(data)
        attribution = attribution.set_axis(model_values.index).reindex(values.index)
    else:
        scores = detector.score_samples(data)
    scores = pd.Series(np.asarray(scores, dtype=float), index=model_values.index).reindex(values.index)
    part = np.full(len(values), "scored", dtype=object)
    calibration = None
    if parts is not None:
        offset = len(values) - len(model_values)  # the first row has no difference
        n_fit, n_first = parts[0] + offset, parts[1] + offset
        part[:n_fit], part[n_fit:n_first] = "fit", "calibration"
        calibration = scores.iloc[n_fit:n_first]
    threshold, strict, how = _choose_threshold(args, scores, calibration, settings or {})

    above = scores > threshold if strict else scores >= threshold  # NaN (no history) is never flagged
    flags = above.astype("int8")
    if calibration is not None and flat_scores(calibration):
        level = float(calibration.dropna().iloc[0])
        print(f"warning: {args.model} gives every calibration row the same score ({level:.6g}): the series is flat "
              "there, so no threshold can tell normal rows from anomalous ones; only rows scoring "
              f"{'above' if strict else 'at or above'} {threshold:.6g} are flagged. Fit on a part of the series that "
              "varies (--fit-fraction) or use another model.", file=sys.stderr)  # fmt: skip
    scored = part == "scored"
    drift = (flagging.drift_warning(scores, calibration, flags, scored)
             if calibration is not None and not flat_scores(calibration) else None)  # flat: said above
    if drift:
        print(drift, file=sys.stderr)
    elif scored.any() and float(flags[scored].mean()) > 0.5:
        print(f"warning: the threshold {threshold:.6g} flags {int(flags[scored].sum())} of {int(scored.sum())} "
              "scored rows (more than half); is it on the scale of this detector's scores?", file=sys.stderr)
    reference = calibration if calibration is not None else scores
    found = flagging.intervals(scores, flags, threshold, part, reference, args.merge, attribution)
    out = values.assign(score=scores.to_numpy(), flag=flags.to_numpy(), part=part)
    if attribution is not None:  # score_<column>: that column's forecast error; the score is their mean
        out = out.join(attribution.add_prefix("score_"))
    if int(filled.sum()):
        out.insert(values.shape[1], "filled", filled.to_numpy())
    out = out.reset_index()
    name = args.model if settings is None else f"{getattr(detector, 'name', 'detector')} (loaded)"
    targets = [path for path in (args.out, args.intervals, args.plot, args.explorer) if path is not None]
    with atomic_paths(targets) as temps:
        temp = dict(zip(targets, temps))
        out.to_csv(temp[args.out], index=False)
        if args.intervals is not None:
            found.to_csv(temp[args.intervals], index=False)
        if args.plot is not None:
            from anomalylab.cli.plot import plot_detection

            plot_detection(temp[args.plot], values, scores, flags, threshold, part, name, how, attribution)
        if args.explorer is not None:
            from anomalylab.explorer import build_user_page

            if int(scores.notna().sum()) * values.shape[1] > EXPLORER_ROWS:
                print(f"note: the explorer page holds every scored row ({int(scores.notna().sum()):,}); browsers get "
                      f"slow past about {EXPLORER_ROWS:,}.", file=sys.stderr)  # fmt: skip
            inner = getattr(detector, "detector", detector)  # a detector of rows scores the series' windows
            build_user_page(values, scores, threshold, temp[args.explorer], model=name, rule=how,
                            source=args.csv.name, detector=type(inner))  # fmt: skip
    if args.save is not None:
        rule = how if args.threshold is None else "given"
        detector.save(args.save, extra={THRESHOLD_FILE: {
            "threshold": threshold, "rule": rule, "strict": bool(strict), "columns": [str(c) for c in values.columns],
            "difference": bool(differenced)}})  # fmt: skip
    _report(args, values, flags, threshold, how, found)
    return out


def _report(args, values, flags, threshold, how, found: pd.DataFrame) -> None:
    n = int(flags.sum())
    print(f"{flagging.plural(n, 'row')} of {len(values):,} flagged ({how}: threshold {threshold:.6g}), in "
          f"{flagging.plural(len(found), 'interval')}; scores and flags in {args.out}"
          + (f", intervals in {args.intervals}" if args.intervals else "")
          + (f", explorer page {args.explorer}" if args.explorer else ""), file=sys.stderr)  # fmt: skip
    for row in found.head(5).itertuples():
        span = f"{row.start}" if row.rows == 1 else f"{row.start} to {row.end} ({row.rows:,} rows)"
        column = f", mostly {row.top_column}" if "top_column" in found else ""
        print(f"  {span}: peak {row.peak_score:.4g} at {row.peak_time}, severity {row.severity:.2f} ({row.part}"
              f"{column})", file=sys.stderr)  # fmt: skip
    if len(found) > 5:
        print(f"  ... {len(found) - 5:,} more" + ("" if args.intervals else " (all of them with --intervals FILE)"),
              file=sys.stderr)
