"""Raw data: a registry of every file, fetching with verification, and loaders.

Every raw file is listed in ``registry.txt`` (path, sha256, canonical URL) and
fetched into ``data/raw/`` by pooch, which checks the sha256 before a file is
moved into place (a failed or corrupt fetch leaves nothing behind).

Offline use: when the environment variable ``ANOMALYLAB_DATA_MIRROR`` names a
directory laid out like the registry (``nab/data/...``, ``kddcup99/...``,
...), files are copied from it and verified instead of downloaded.

Loaders return tidy pandas objects: series with a ``DatetimeIndex`` (or a
``RangeIndex`` for the synthetic spike series), tables as a feature frame
plus label columns.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pooch

from anomalylab import paths
from anomalylab.errors import DataError, InputError

MIRROR_ENV = "ANOMALYLAB_DATA_MIRROR"
REGISTRY_FILE = Path(__file__).with_name("registry.txt")
FIX_HINT = (
    "Run `make data` to fetch and verify the raw files, or, on a machine without "
    f"internet, set {MIRROR_ENV} to a directory laid out like shared/datasets "
    f"(e.g. `export {MIRROR_ENV}=../shared/datasets`) and run `make data`."
)

pooch.get_logger().setLevel("WARNING")


# --------------------------------------------------------------------------- registry


@functools.lru_cache(maxsize=1)
def _registry_entries() -> dict[str, tuple[str, str]]:
    """path -> (sha256, url), read from ``registry.txt``."""
    entries = {}
    for line in REGISTRY_FILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, digest, url = line.split()
        entries[name] = (digest, url)
    return entries


def registry_names() -> list[str]:
    """Every raw file the project knows, as paths relative to ``data/raw/``."""
    return sorted(_registry_entries())


def _make_pooch(raw_dir: Path) -> pooch.Pooch:
    entries = _registry_entries()
    return pooch.create(
        path=raw_dir,
        base_url="",
        registry={name: digest for name, (digest, _) in entries.items()},
        urls={name: url for name, (_, url) in entries.items()},
        retry_if_failed=0,
    )


class _MirrorCopy:
    """A pooch downloader that copies ``name`` from a local mirror directory."""

    def __init__(self, mirror: Path, name: str):
        self.source = mirror / name

    def __call__(self, url, output_file, pooch_obj):  # noqa: ARG002 (pooch's signature)
        if not self.source.is_file():
            raise DataError(
                f"{self.source} is missing from the mirror {self.source.parent}. "
                f"Point {MIRROR_ENV} at a directory laid out like shared/datasets "
                "(it must contain this file), or unset it to download from the canonical URL."
            )
        shutil.copyfile(self.source, output_file)


def fetch(name: str, raw_dir: Path | None = None, mirror: str | Path | None = None) -> Path:
    """Return the local path of raw file ``name``, fetching and verifying it if needed.

    ``name`` is a registry path such as ``"kddcup99/corrected.gz"``. A file
    already in ``raw_dir`` (default ``data/raw``) is re-hashed and kept if it
    matches; otherwise it is fetched again. ``mirror`` (default: the
    ``ANOMALYLAB_DATA_MIRROR`` variable) makes the fetch a local copy.
    """
    entries = _registry_entries()
    if name not in entries:
        close = [n for n in entries if Path(n).name == Path(name).name]
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InputError(
            f"{name!r} is not a registered raw file.{hint} "
            "See anomalylab.datasets.registry_names() for the full list."
        )
    raw_dir = Path(raw_dir) if raw_dir is not None else paths.RAW_DIR
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_ENV) or None
    p = _make_pooch(raw_dir)
    downloader = None
    if mirror is not None:
        mirror = Path(mirror).expanduser()
        if not mirror.is_dir():
            raise DataError(f"{MIRROR_ENV}={mirror} is not a directory. " + FIX_HINT)
        downloader = _MirrorCopy(mirror.resolve(), name)
    try:
        return Path(p.fetch(name, downloader=downloader))
    except DataError:
        raise
    except ValueError as exc:  # pooch's hash mismatch
        source = f"the mirror {mirror}" if mirror is not None else entries[name][1]
        raise DataError(
            f"{name} from {source} failed its sha256 check and was not kept ({exc}). "
            + FIX_HINT
        ) from exc
    except Exception as exc:  # network errors, permissions, ...
        raise DataError(
            f"Could not fetch {name} from {entries[name][1]} "
            f"({type(exc).__name__}: {exc}). " + FIX_HINT
        ) from exc


def fetch_all(raw_dir: Path | None = None, progress: bool = True) -> list[Path]:
    """Fetch and verify every registered raw file; return their local paths."""
    names = registry_names()
    if progress:
        from tqdm.auto import tqdm

        names = tqdm(names, desc="raw data", unit="file")
    return [fetch(n, raw_dir=raw_dir) for n in names]


# --------------------------------------------------------------------------- checks


def validate_series(
    series: pd.Series, name: str = "series", min_length: int | None = None
) -> pd.Series:
    """Check that ``series`` is a usable numeric time series and return it.

    Refuses, with a message that says how to fix it: a non-Series, non-numeric
    or missing values, an index that is not a DatetimeIndex or RangeIndex,
    duplicate or unsorted timestamps, and fewer than ``min_length`` points.
    """
    if isinstance(series, pd.DataFrame):
        raise InputError(
            f"{name} is a DataFrame with columns {list(series.columns)}; pass one column, "
            f"e.g. frame['{series.columns[0]}']."
        )
    if not isinstance(series, pd.Series):
        raise InputError(
            f"{name} must be a pandas Series with a DatetimeIndex or RangeIndex, "
            f"got {type(series).__name__}."
        )
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise InputError(
            f"{name} must hold numbers, got dtype {series.dtype}. "
            "Convert it with pd.to_numeric(series, errors='raise')."
        )
    n_nan = int(series.isna().sum())
    if n_nan:
        first = series.index[series.isna().to_numpy()][0]
        raise InputError(
            f"{name} has {n_nan} missing value(s) (first at {first}). Fill or drop them "
            "before scoring, e.g. series.interpolate() or series.dropna()."
        )
    if not np.isfinite(series.to_numpy(dtype=float)).all():
        raise InputError(f"{name} has infinite values; replace them before scoring.")
    index = series.index
    if not isinstance(index, (pd.DatetimeIndex, pd.RangeIndex)):
        raise InputError(
            f"{name} must be indexed by a DatetimeIndex (or a RangeIndex), got "
            f"{type(index).__name__}. Use series.set_axis(pd.to_datetime(...))."
        )
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise InputError(
            f"{name} has duplicate timestamps (first: {dup}). Aggregate them, e.g. "
            "series.groupby(level=0).mean()."
        )
    if not index.is_monotonic_increasing:
        raise InputError(f"{name} has unsorted timestamps; sort it with series.sort_index().")
    if min_length is not None and len(series) < min_length:
        raise InputError(
            f"{name} has {len(series)} points but at least {min_length} are needed "
            "(window plus target); use a longer series or a shorter window."
        )
    return series


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what} lacks column(s) {missing}; it has {list(frame.columns)}. "
            "The file is not the registered one: " + FIX_HINT
        )


# --------------------------------------------------------------------------- splits


def split_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """Sizes of consecutive splits of ``n`` rows: ``int(n * f)`` for all but the
    last fraction, the last split takes the remainder (the rounding rule of the
    seed studies)."""
    fractions = list(fractions)
    if len(fractions) < 2:
        raise InputError(f"need at least two split fractions, got {fractions}.")
    if any(f <= 0 for f in fractions):
        raise InputError(f"split fractions must be positive, got {fractions}.")
    if abs(sum(fractions) - 1.0) > 1e-9:
        raise InputError(f"split fractions must sum to 1, got {fractions} (sum {sum(fractions)}).")
    sizes = [int(n * f) for f in fractions[:-1]]
    sizes.append(n - sum(sizes))
    if min(sizes) < 1:
        raise InputError(f"{n} rows are too few for the splits {fractions}: sizes {sizes}.")
    return sizes


def chronological_split(obj, fractions: Sequence[float] = (0.65, 0.14, 0.21)) -> list:
    """Cut a time-ordered Series or DataFrame into consecutive parts.

    The order is kept (no shuffling); see :func:`split_sizes` for the rounding.
    """
    if not isinstance(obj, (pd.Series, pd.DataFrame)):
        raise InputError(f"expected a pandas Series or DataFrame, got {type(obj).__name__}.")
    if not obj.index.is_monotonic_increasing:
        raise InputError("the data is not in time order; sort it with .sort_index() first.")
    sizes = split_sizes(len(obj), fractions)
    bounds = np.cumsum([0, *sizes])
    return [obj.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def split_labels(n: int, fractions: Sequence[float], names: Sequence[str] = ("train", "val", "test")):
    """An array of split names (``train``/``val``/``test``) for ``n`` time-ordered rows."""
    sizes = split_sizes(n, fractions)
    if len(names) < len(sizes):
        raise InputError(f"{len(sizes)} splits but only {len(names)} names: {names}.")
    return np.repeat(np.asarray(names[: len(sizes)], dtype=object), sizes)


# --------------------------------------------------------------------------- Mixtiles

MIXTILES_FILE = "mixtiles-traffic/tagged_data_for_model.csv"


def load_mixtiles() -> pd.DataFrame:
    """Mixtiles hourly unique users with the expert's labels and the company's flags.

    Index ``timestamp`` (hourly DatetimeIndex); columns ``user_count`` (int),
    ``is_anomaly`` (the domain expert's label, 0/1) and ``company_flag`` (the
    company's threshold-based system, ``was_tagged_as_anomaly`` in the file).
    """
    path = fetch(MIXTILES_FILE)
    frame = pd.read_csv(path)
    _require_columns(
        frame, ["event_hour", "user_count", "is_anomaly", "was_tagged_as_anomaly"], str(path)
    )
    frame = frame.rename(columns={"event_hour": "timestamp", "was_tagged_as_anomaly": "company_flag"})
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame = frame.set_index("timestamp")[["user_count", "is_anomaly", "company_flag"]]
    validate_series(frame["user_count"], "Mixtiles user_count")
    return frame.astype({"user_count": "int64", "is_anomaly": "int8", "company_flag": "int8"})


# --------------------------------------------------------------------------- spike series

SPIKE_FILE = "seed-cnn-synthetic/data.csv"


def _spike_residual(values: Sequence[float], window: int) -> pd.Series:
    """Residual of each point from a ``window``-point centred rolling median."""
    values = pd.Series(np.asarray(values, dtype=float))
    return values - values.rolling(window, center=True, min_periods=1).median()


def derive_spike_labels(
    values: Sequence[float], window: int = 11, n_spikes: int = 50, min_gap_ratio: float = 3.0
) -> np.ndarray:
    """Labels of the seed spike series, by the rule written in its MANIFEST.

    Residual from a ``window``-point centred rolling median; the ``n_spikes``
    largest residuals are the spikes. The rule is refused (``InputError``)
    unless the smallest spike residual is at least ``min_gap_ratio`` times the
    next one, so a series without a clear gap gets no made-up labels.
    """
    values = pd.Series(np.asarray(values, dtype=float))
    if window < 1 or window % 2 == 0:
        raise InputError(f"window must be a positive odd number, got {window}.")
    if not 0 < n_spikes < len(values):
        raise InputError(f"n_spikes must be between 1 and {len(values) - 1}, got {n_spikes}.")
    residual = _spike_residual(values, window)
    order = np.argsort(-residual.to_numpy(), kind="stable")
    smallest_spike, next_one = residual.iloc[order[n_spikes - 1]], residual.iloc[order[n_spikes]]
    if not smallest_spike >= min_gap_ratio * max(next_one, 1e-12):
        raise InputError(
            f"no clear gap after the {n_spikes} largest residuals "
            f"({smallest_spike:.3g} vs next {next_one:.3g}); the spike rule does not apply."
        )
    labels = np.zeros(len(values), dtype="int8")
    labels[order[:n_spikes]] = 1
    return labels


def spike_residual_gap(values: Sequence[float], window: int = 11, n_spikes: int = 50) -> tuple[float, float]:
    """(smallest spike residual, largest non-spike residual) of the spike rule."""
    ordered = np.sort(_spike_residual(values, window).to_numpy())[::-1]
    return float(ordered[n_spikes - 1]), float(ordered[n_spikes])


def load_spike_series() -> pd.DataFrame:
    """The seed CNN's synthetic series (1,000 points) with its 50 derived spike labels.

    ``RangeIndex`` named ``step``; columns ``value`` and ``is_anomaly``.
    """
    path = fetch(SPIKE_FILE)
    frame = pd.read_csv(path)
    _require_columns(frame, ["value"], str(path))
    frame.index.name = "step"
    validate_series(frame["value"], "spike series")
    frame["is_anomaly"] = derive_spike_labels(frame["value"])
    return frame


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


NAB_SPLIT_FILE = Path(__file__).with_name("nab_split.csv")
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
        name=key, category=key.split("/")[0], windows=windows,
        duplicate_timestamps=int(frame.index.duplicated().sum()),
        backward_steps=int((steps < pd.Timedelta(0)).sum()),
    )  # fmt: skip
    return frame


def nab_probationary_length(n_rows: int, percent: float = 0.15) -> int:
    """NAB's probationary period: the first 15 % of rows, at most 750 (``0.15 * 5000``)."""
    return int(min(np.floor(percent * n_rows), percent * 5000))


# --------------------------------------------------------------------------- KDD Cup 99

KDD_FILES = {
    "train": "kddcup99/kddcup.data_10_percent.gz",
    "test": "kddcup99/corrected.gz",
}
KDD_NAMES_FILE = "kddcup99/kddcup.names"
KDD_ATTACK_TYPES_FILE = "kddcup99/training_attack_types"
KDD_CATEGORICAL = ["protocol_type", "service", "flag"]

# The 17 attack types found only in ``corrected`` are not in training_attack_types.
# Their categories follow the DARPA 1998/99 evaluation's attack taxonomy as the
# KDD'99 literature uses it (e.g. Tavallaee et al., "A detailed analysis of the
# KDD CUP 99 data set", CISDA 2009). httptunnel is listed as r2l here; some
# papers file it under u2r.
KDD_TEST_ONLY_CATEGORIES = {
    "apache2": "dos", "mailbomb": "dos", "processtable": "dos", "udpstorm": "dos",
    "mscan": "probe", "saint": "probe",
    "httptunnel": "r2l", "named": "r2l", "sendmail": "r2l", "snmpgetattack": "r2l",
    "snmpguess": "r2l", "worm": "r2l", "xlock": "r2l", "xsnoop": "r2l",
    "ps": "u2r", "sqlattack": "u2r", "xterm": "u2r",
}  # fmt: skip


def kdd_feature_names() -> list[str]:
    """The 41 feature names, parsed from ``kddcup.names``."""
    lines = Path(fetch(KDD_NAMES_FILE)).read_text().splitlines()
    names = [ln.split(":")[0].strip() for ln in lines[1:] if ":" in ln]
    if len(names) != 41:
        raise DataError(f"kddcup.names lists {len(names)} features, expected 41. " + FIX_HINT)
    return names


def kdd_attack_categories() -> dict[str, str]:
    """Attack type -> category (dos, probe, r2l, u2r) for all 39 attack types, plus normal."""
    mapping = {"normal": "normal"}
    for line in Path(fetch(KDD_ATTACK_TYPES_FILE)).read_text().splitlines():
        if line.strip():
            attack, category = line.split()
            mapping[attack] = category
    mapping.update(KDD_TEST_ONLY_CATEGORIES)
    return mapping


def load_kdd(split: str = "train") -> pd.DataFrame:
    """KDD Cup 99: the 10 % training file (``"train"``) or the ``corrected`` test file.

    Columns: the 41 named features, ``label`` (attack type or ``normal``, the
    trailing dot removed), ``attack_category`` (normal, dos, probe, r2l, u2r)
    and ``is_attack`` (0/1). Categorical features are pandas ``category``.
    """
    if split not in KDD_FILES:
        raise InputError(f"unknown KDD split {split!r}; choose 'train' (10 % file) or 'test' (corrected).")
    names = kdd_feature_names()
    frame = pd.read_csv(fetch(KDD_FILES[split]), header=None, names=[*names, "label"])
    if frame.shape[1] != 42 or frame["label"].isna().any():
        raise DataError(f"KDD {split} file does not have 42 fields per row. " + FIX_HINT)
    frame["label"] = frame["label"].str.rstrip(".")
    categories = kdd_attack_categories()
    unknown = sorted(set(frame["label"]) - set(categories))
    if unknown:
        raise DataError(f"KDD {split} has labels with no attack category: {unknown}. " + FIX_HINT)
    frame["attack_category"] = frame["label"].map(categories)
    frame["is_attack"] = (frame["label"] != "normal").astype("int8")
    for col in [*KDD_CATEGORICAL, "label", "attack_category"]:
        frame[col] = frame[col].astype("category")
    return frame


# --------------------------------------------------------------------------- summaries


def series_summary(frame: pd.DataFrame, value: str, label: str | None = None, name: str = "") -> dict:
    """Shape, time span, sampling, gaps and label count of a time-indexed frame."""
    index = frame.index
    row = {"dataset": name, "rows": len(frame)}
    if isinstance(index, pd.DatetimeIndex):
        steps = pd.Series(index).diff().dropna()
        sampling = steps.mode().iloc[0]
        row.update(
            start=index[0], end=index[-1], sampling=str(sampling),
            gaps=int((steps > sampling).sum()), missing_steps=int((steps / sampling).sum() - len(steps)),
        )  # fmt: skip
    else:
        row.update(start=index[0], end=index[-1], sampling="1 step", gaps=0, missing_steps=0)
    row.update(value_min=float(frame[value].min()), value_max=float(frame[value].max()))
    if label is not None:
        row["anomalies"] = int(frame[label].sum())
    return row


def kdd_label_counts(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Rows per label in the training (10 %) and test (corrected) files, with the
    attack category and whether the label appears only in the test file."""
    counts = pd.DataFrame(
        {
            "train": train["label"].astype(str).value_counts(),
            "test": test["label"].astype(str).value_counts(),
        }
    ).fillna(0).astype("int64")
    counts.index.name = "label"
    counts["attack_category"] = counts.index.map(kdd_attack_categories())
    counts["test_only"] = (counts["train"] == 0) & (counts["test"] > 0)
    return counts.sort_values(["test_only", "test"], ascending=[True, False])


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


# --------------------------------------------------------------------------- processed data


def save_processed(frame: pd.DataFrame, name: str, config) -> Path:
    """Write a processed frame as ``<config.processed_dir>/<name>.parquet``, atomically."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a DataFrame to save, got {type(frame).__name__}.")
    target = Path(config.processed_dir) / f"{name}.parquet"
    with paths.atomic_path(target) as tmp:
        frame.to_parquet(tmp)
    return target


def load_processed(name: str, config) -> pd.DataFrame:
    """Read a frame written by notebook 01 (``data/processed`` or ``build/quick/processed``)."""
    path = Path(config.processed_dir) / f"{name}.parquet"
    if not path.is_file():
        mode = "make quick" if getattr(config, "quick", False) else "make reproduce"
        raise DataError(
            f"{path} does not exist. Run notebook 01_data_preparation first "
            f"(`{mode}` runs it, or open it in JupyterLab)."
        )
    return pd.read_parquet(path)


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m anomalylab.datasets`` fetches and verifies every raw file."""
    import argparse

    parser = argparse.ArgumentParser(description="Fetch and verify anomalylab's raw data.")
    parser.parse_args(argv)
    try:
        fetched = fetch_all()
    except DataError as exc:
        print(f"error: {exc}")
        return 1
    print(f"{len(fetched)} raw files present and verified in {paths.RAW_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
