"""Checks of a series' index and columns, and chronological splits."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from anomalylab.datasets.registry import FIX_HINT
from anomalylab.errors import DataError, InputError

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


KEEP_FILE_ORDER = "keep_file_order"  # attrs flag: take the rows as they are in their file (NAB)


def keep_file_order(obj):
    """``obj`` (a Series or DataFrame, changed in place and returned) marked to be taken row by row as its file
    has them, repeated or backward timestamps included: NAB's rule. Detectors refuse such an index otherwise
    (:func:`check_time_order`). Use it for NAB's series only."""
    obj.attrs[KEEP_FILE_ORDER] = True
    return obj


def check_time_order(obj, name: str = "series") -> None:
    """Refuse a Series or DataFrame on a DatetimeIndex whose timestamps go back or repeat.

    A reversed or shuffled series would be forecast backwards. NAB's files repeat a few timestamps and step
    back once, and NAB scores them row by row as they are: its loader says so with
    :func:`keep_file_order` (``obj.attrs["keep_file_order"] = True``), the only way past
    this check.
    """
    index = getattr(obj, "index", None)
    if not isinstance(index, pd.DatetimeIndex) or obj.attrs.get(KEEP_FILE_ORDER):
        return
    if not index.is_monotonic_increasing:
        raise InputError(f"{name}'s timestamps are not in time order; sort it with .sort_index() first.")
    if index.has_duplicates:
        first = index[index.duplicated()][0]
        raise InputError(f"{name} repeats {int(index.duplicated().sum())} timestamp(s) (first: {first}); "
                         "aggregate them, e.g. .groupby(level=0).mean().")  # fmt: skip


def check_window_timezones(index, windows) -> None:
    """Refuse windows whose timestamps are tz-naive where ``index`` is tz-aware, or the other way round (pandas
    would raise a bare TypeError when comparing them)."""
    index_tz = getattr(index, "tz", None)
    for start, end in windows:
        for edge in (start, end):
            edge_tz = getattr(pd.Timestamp(edge), "tz", None)
            if (index_tz is None) != (edge_tz is None):
                raise InputError(
                    f"the index is {'tz-aware (' + str(index_tz) + ')' if index_tz else 'tz-naive'} but window edge "
                    f"{edge} is {'tz-aware' if edge_tz else 'tz-naive'}; make both the same, e.g. "
                    "index.tz_localize(None) or pd.Timestamp(edge).tz_localize(index.tz)."
                )


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
    for b in bounds[1:-1]:
        if obj.index[b - 1] == obj.index[b]:
            raise InputError(f"the split at row {b} would put timestamp {obj.index[b]} into two parts; aggregate "
                             "repeated timestamps first, e.g. .groupby(level=0).mean().")  # fmt: skip
    return [obj.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def split_labels(n: int, fractions: Sequence[float], names: Sequence[str] = ("train", "val", "test")):
    """An array of split names (``train``/``val``/``test``) for ``n`` time-ordered rows."""
    sizes = split_sizes(n, fractions)
    if len(names) < len(sizes):
        raise InputError(f"{len(sizes)} splits but only {len(names)} names: {names}.")
    return np.repeat(np.asarray(names[: len(sizes)], dtype=object), sizes)


