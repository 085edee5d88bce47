"""NAB: its 58 series, anomaly windows, profiles, shipped scores, the development/evaluation split, and the
result files of NAB's own detectors."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from anomalylab.datasets.checks import KEEP_FILE_ORDER, _require_columns, check_window_timezones
from anomalylab.datasets.registry import FIX_HINT, fetch, registry_names
from anomalylab.errors import DataError, InputError

# --------------------------------------------------------------------------- NAB

NAB_PREFIX = "nab/data/"
NAB_WINDOWS_FILE = "nab/labels/combined_windows.json"
NAB_LABELS_FILE = "nab/labels/combined_labels.json"
NAB_PROFILES_FILE = "nab/config/profiles.json"
NAB_RESULTS_FILE = "nab/results/final_results.json"


def nab_series_names(category: str | None = None) -> list[str]:
    """NAB's 58 series as ``"<category>/<file stem>"`` keys, optionally of one category."""
    names = [
        n[len(NAB_PREFIX) :].removesuffix(".csv") for n in registry_names() if n.startswith(NAB_PREFIX)
    ]
    if category is not None:
        cats = sorted({n.split("/")[0] for n in names})
        if category not in cats:
            raise InputError(f"unknown NAB category {category!r}; choose one of {cats}.")
        names = [n for n in names if n.split("/")[0] == category]
    return names


def nab_categories() -> list[str]:
    """NAB's seven data categories."""
    return sorted({n.split("/")[0] for n in nab_series_names()})


NAB_SPLIT_FILE = Path(__file__).parent.parent / "nab_split.csv"
NAB_SPLIT_SEED = 0


def make_nab_split(seed: int = NAB_SPLIT_SEED) -> pd.Series:
    """A seeded split of NAB's 58 series into a development half (``dev``: every choice of ours is made on
    it) and an evaluation half (``eval``: reported), stratified by category (``n // 2`` of each category's
    series go to ``dev``). The committed split is :func:`nab_split`; this function is how it was made."""
    rng = np.random.default_rng(seed)
    half = {}
    for category in nab_categories():
        names = sorted(nab_series_names(category))
        dev = set(rng.permutation(names)[: len(names) // 2])
        half.update({n: "dev" if n in dev else "eval" for n in names})
    return pd.Series(half, name="half").rename_axis("series").sort_index()


def nab_split() -> pd.Series:
    """The committed development / evaluation split of NAB's series (``nab_split.csv`` beside this module,
    made by ``make_nab_split(0)``): series key -> ``dev`` or ``eval``."""
    return pd.read_csv(NAB_SPLIT_FILE, index_col="series")["half"]


def resolve_nab_name(name: str) -> str:
    """Turn ``"nyc_taxi"``, ``"realKnownCause/nyc_taxi"`` or ``"... .csv"`` into the key."""
    if not isinstance(name, str) or not name:
        raise InputError(f"a NAB series name must be a non-empty string, got {name!r}.")
    key = name.removeprefix(NAB_PREFIX).removesuffix(".csv")
    names = nab_series_names()
    if key in names:
        return key
    matches = [n for n in names if n.split("/")[-1] == key]
    if len(matches) == 1:
        return matches[0]
    raise InputError(
        f"unknown NAB series {name!r}. Names look like 'realKnownCause/nyc_taxi'; "
        "anomalylab.datasets.nab_series_names() lists all 58."
    )


def _read_json(name: str):
    with open(fetch(name)) as fh:
        return json.load(fh)


def nab_windows(name: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """NAB's anomaly windows of one series as (start, end) timestamps, both inclusive."""
    key = resolve_nab_name(name)
    windows = _read_json(NAB_WINDOWS_FILE)[key + ".csv"]
    return [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in windows]


def nab_anomaly_points(name: str) -> list[pd.Timestamp]:
    """The labelled anomaly timestamps of one series (the windows' centres)."""
    key = resolve_nab_name(name)
    return [pd.Timestamp(t) for t in _read_json(NAB_LABELS_FILE)[key + ".csv"]]


def nab_profiles() -> dict[str, dict[str, float]]:
    """NAB's three cost matrices: profile name -> {tpWeight, fpWeight, fnWeight, tnWeight}."""
    return {k: v["CostMatrix"] for k, v in _read_json(NAB_PROFILES_FILE).items()}


def nab_published_scores() -> pd.DataFrame:
    """NAB's shipped final scores (``results/final_results.json``), one row per detector."""
    data = _read_json(NAB_RESULTS_FILE)
    frame = pd.DataFrame(data).T
    frame.index.name = "detector"
    return frame.sort_values("standard", ascending=False)


def window_mask(index: pd.Index, windows: Sequence[tuple]) -> np.ndarray:
    """Boolean array: which timestamps of ``index`` fall inside any (start, end) window."""
    check_window_timezones(index, windows)
    mask = np.zeros(len(index), dtype=bool)
    for start, end in windows:
        mask |= (index >= start) & (index <= end)
    return mask


def load_nab(name: str) -> pd.DataFrame:
    """One NAB series: DatetimeIndex ``timestamp``, columns ``value`` and ``in_window``.

    ``in_window`` marks rows inside NAB's anomaly windows. The frame's
    ``attrs`` hold ``name`` (the key), ``category``, ``windows`` and two counts.
    Rows stay exactly as in NAB's file, because NAB scores row by row: eight
    series repeat a timestamp (daylight-saving changes, logging glitches;
    ``attrs["duplicate_timestamps"]``) and one steps back in time once
    (``attrs["backward_steps"]``). Use :func:`validate_series` before code that
    needs a strictly increasing index.
    """
    key = resolve_nab_name(name)
    path = fetch(NAB_PREFIX + key + ".csv")
    frame = pd.read_csv(path)
    _require_columns(frame, ["timestamp", "value"], str(path))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame = frame.set_index("timestamp")
    frame["value"] = frame["value"].astype(float)
    if frame["value"].isna().any():
        raise DataError(f"NAB {key} has missing values; the file is not the registered one. " + FIX_HINT)
    windows = nab_windows(key)
    frame["in_window"] = window_mask(frame.index, windows)
    steps = frame.index.to_series().diff()
    frame.attrs.update(
        **{KEEP_FILE_ORDER: True},  # NAB scores its rows as they are: repeats and one step back stay
        name=key, category=key.split("/")[0], windows=windows,
        duplicate_timestamps=int(frame.index.duplicated().sum()),
        backward_steps=int((steps < pd.Timedelta(0)).sum()),
    )  # fmt: skip
    return frame


def nab_probationary_length(n_rows: int, percent: float = 0.15) -> int:
    """NAB's probationary period: the first 15 % of rows, at most 750 (``0.15 * 5000``)."""
    return int(min(np.floor(percent * n_rows), percent * 5000))



def nab_corpus_frame(names: Sequence[str] | None = None) -> pd.DataFrame:
    """Several NAB series stacked long: ``series, category, timestamp, value, in_window,
    probationary`` (NAB's first 15 % of rows, at most 750)."""
    names = nab_series_names() if names is None else [resolve_nab_name(n) for n in names]
    frames = []
    for key in names:
        one = load_nab(key).reset_index()
        probation = np.zeros(len(one), dtype=bool)
        probation[: nab_probationary_length(len(one))] = True
        frames.append(one.assign(series=key, category=key.split("/")[0], probationary=probation))
    cols = ["series", "category", "timestamp", "value", "in_window", "probationary"]
    return pd.concat(frames, ignore_index=True)[cols]


def nab_windows_frame(names: Sequence[str] | None = None) -> pd.DataFrame:
    """NAB's anomaly windows as rows ``series, start, end``."""
    names = nab_series_names() if names is None else [resolve_nab_name(n) for n in names]
    rows = [{"series": k, "start": a, "end": b} for k in names for a, b in nab_windows(k)]
    return pd.DataFrame(rows, columns=["series", "start", "end"])




# NAB's own detectors whose result files the registry holds (``nab/results/<detector>/...``), in the order of
# NAB's scoreboard (standard profile).
NAB_DETECTORS = (
    "ARTime", "numenta", "knncad", "relativeEntropy", "randomCutForest", "twitterADVec", "windowedGaussian",
    "random",
)  # fmt: skip
NAB_THRESHOLDS_FILE = "nab/config/thresholds.json"


def _check_detector(detector: str) -> str:
    if detector not in NAB_DETECTORS:
        raise InputError(f"no shipped results for NAB detector {detector!r}; the registry holds {list(NAB_DETECTORS)}.")
    return detector


def nab_detector_thresholds() -> pd.DataFrame:
    """NAB's shipped thresholds (``config/thresholds.json``): one row per detector of :data:`NAB_DETECTORS`,
    one column per profile. They are the thresholds NAB's final scores were computed at."""
    data = _read_json(NAB_THRESHOLDS_FILE)
    frame = pd.DataFrame({d: {p: v["threshold"] for p, v in data[d].items()} for d in NAB_DETECTORS}).T
    frame.index.name = "detector"
    return frame


def load_nab_detector_results(detector: str, names: Sequence[str] | None = None, *, raw: bool = False) -> pd.DataFrame:
    """One NAB detector's shipped result files as a corpus frame (the layout of :func:`nab_corpus_frame`, with
    its ``anomaly_score`` column): what the detector output for every row of every series. ``raw=True`` adds
    the files' ``raw_score`` column (only ``numenta`` ships one: HTM's score before the likelihood).

    Scores are taken row by row, as NAB's scorer takes them: row ``i`` of a result file is scored as row ``i``
    of the series, so a file with another number of rows is refused. Timestamps and values are not compared:
    NAB ships randomCutForest's files from an older copy of the data (other values in some series, 22 rows in
    another order in one); ``attrs["rows_differing"]`` counts, per series, the rows whose timestamp differs.
    """
    _check_detector(detector)
    corpus = nab_corpus_frame(names)
    parts, differing = [], {}
    for key, one in corpus.groupby("series", sort=False):
        category, stem = key.split("/", 1)
        path = fetch(f"nab/results/{detector}/{category}/{detector}_{stem}.csv")
        header = pd.read_csv(path, nrows=0).columns
        if raw and "raw_score" not in header:
            raise InputError(f"NAB's {detector} results have no raw_score column; only numenta's do. Use raw=False.")
        part, differing[key] = _result_rows(path, one, key, DataError, FIX_HINT, raw)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["rows_differing"] = {k: v for k, v in differing.items() if v}
    return out


def _result_rows(path, one: pd.DataFrame, key: str, error, hint: str, raw: bool = False) -> tuple[pd.DataFrame, int]:
    """One result file's scores on the rows of series ``key`` (``one``), row by row, and how many of its
    timestamps differ from the series'; ``error(...)`` with ``hint`` for a file that cannot stand for the series."""
    try:
        shipped = pd.read_csv(path, usecols=["timestamp", "anomaly_score", *(["raw_score"] if raw else [])])
    except ValueError as exc:
        raise error(f"{path} lacks a column NAB's results layout has ({exc}); it needs timestamp and anomaly_score. "
                    + hint) from None  # fmt: skip
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise error(f"{path} is not a readable CSV ({type(exc).__name__}). " + hint) from None
    if len(shipped) != len(one):
        raise error(f"{path} has {len(shipped):,} rows where NAB series {key} has {len(one):,}; a result file holds "
                    "one row per row of its series. " + hint)  # fmt: skip
    scores = pd.to_numeric(shipped["anomaly_score"], errors="coerce").to_numpy(float)
    if not np.isfinite(scores).all():
        raise error(f"{path}: anomaly_score holds {int((~np.isfinite(scores)).sum())} value(s) that are not finite "
                    "numbers. " + hint)  # fmt: skip
    extra = {"raw_score": shipped["raw_score"].to_numpy(float)} if raw else {}
    times = pd.to_datetime(shipped["timestamp"], errors="coerce").to_numpy()
    return one.assign(anomaly_score=scores, **extra), int((times != one["timestamp"].to_numpy()).sum())


MAX_RESULT_BYTES = 64 * 2**20  # NAB's largest result file holds a few MiB; anything this large is not one
RESULTS_LAYOUT = "<detector>/<category>/<detector>_<series file name>.csv, columns timestamp, value, anomaly_score"


def read_nab_results(folder, detector: str | None = None) -> pd.DataFrame:
    """A detector's results in NAB's own layout (:data:`RESULTS_LAYOUT`, as NAB's runner writes them), read as
    data (pandas, only the files the layout names) into a corpus frame with its ``anomaly_score`` column, row by
    row as NAB's scorer reads them. ``folder`` is the detector's folder (holding the category folders) or a folder
    holding exactly one detector's folder; ``detector`` is the file-name prefix (default: the folder's name).
    A missing file, a file with another number of rows or a score that is not a number is refused, naming it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder} is not a folder; pass the folder of a detector's results ({RESULTS_LAYOUT}).")
    categories = set(nab_categories())
    if not any((folder / c).is_dir() for c in categories):
        inner = [d for d in folder.iterdir() if d.is_dir() and any((d / c).is_dir() for c in categories)]
        if len(inner) != 1:
            raise InputError(f"{folder} holds {'no' if not inner else len(inner)} detector folder(s) with NAB's "
                             f"category folders ({', '.join(sorted(categories)[:2])}, ...); pass one detector's "
                             f"folder ({RESULTS_LAYOUT}).")  # fmt: skip
        folder = inner[0]
    detector = detector or folder.name
    corpus = nab_corpus_frame()
    hint = f"NAB's results layout: {RESULTS_LAYOUT}."
    expected = {key: folder / key.split("/", 1)[0] / f"{detector}_{key.split('/', 1)[1]}.csv"
                for key in corpus["series"].unique()}  # fmt: skip
    missing = [str(p.relative_to(folder)) for p in expected.values() if not p.is_file()]
    too_large = [str(p.relative_to(folder)) for p in expected.values()
                 if p.is_file() and p.stat().st_size > MAX_RESULT_BYTES]  # fmt: skip
    if too_large:
        raise InputError(f"{too_large[0]} in {folder} is larger than {MAX_RESULT_BYTES // 2**20} MiB; NAB's largest "
                         "series has 22,695 rows, so it is not a result file of one.")  # fmt: skip
    if missing:
        raise InputError(f"{folder} lacks {len(missing)} of the {len(expected)} result files, e.g. {missing[:3]}. "
                         + hint)  # fmt: skip
    parts, differing = [], {}
    for key, one in corpus.groupby("series", sort=False):
        part, differing[key] = _result_rows(expected[key], one, key, InputError, hint)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["rows_differing"] = {k: v for k, v in differing.items() if v}
    out.attrs["detector"] = detector
    return out
