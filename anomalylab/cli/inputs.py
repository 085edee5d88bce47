"""Reading a user's CSV for ``detect``: the time column as the user means it, the value columns, missing values
filled only when asked (and said), and the optional first difference of a trending series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from anomalylab.errors import InputError

FILLS = {
    "interpolate": "interpolated in time from their neighbours",
    "ffill": "carried forward from the last value (the first rows: back from the first value)",
    "drop": "dropped with their rows",
}
SEPARATORS = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "space": " "}


def separator(text: str) -> str:
    """``--sep`` as given: one character, or a name (tab, comma, semicolon, space; ``\\t`` also means tab)."""
    sep = SEPARATORS.get(text, text)
    if len(sep) != 1:
        raise InputError(f"--sep must be one character or one of {sorted(SEPARATORS)}, got {text!r}.")
    return sep


def _mixed_offsets(exc: Exception) -> bool:
    return "mixed timezones" in str(exc).lower() or "mixed time zones" in str(exc).lower()


def parse_times(column: pd.Series, what: str, time_unit: str | None = None, dayfirst: bool | None = None,
                utc: bool = False):
    """A time column read as the user means it: numbers only with their unit (``time_unit``: s, ms, us or ns
    since 1970), ISO 8601 as it is, and other dates only where day-first and month-first agree or the user said
    which (``dayfirst``); times with different UTC offsets (a daylight-saving change) only with ``utc`` (then
    every time is converted to UTC). Anything else is refused with the fix."""
    if pd.api.types.is_bool_dtype(column):
        raise InputError(f"{what} holds true/false values, not times; choose the time column with --time-column.")
    if pd.api.types.is_numeric_dtype(column):
        if time_unit is None:
            raise InputError(f"{what} holds numbers, not dates; if they are epoch times, say their unit with "
                             "--time-unit s|ms|us|ns (e.g. --time-unit s for seconds since 1970).")  # fmt: skip
        try:
            return pd.to_datetime(column, unit=time_unit, utc=utc)
        except (ValueError, TypeError, OverflowError) as exc:
            raise InputError(f"{what} is not a time in {time_unit} since 1970 ({exc}); check --time-unit.") from None
    if time_unit is not None:
        raise InputError(f"--time-unit is for numeric epoch times, but {what} holds text; drop --time-unit.")
    text = column.astype(str)
    try:
        return pd.to_datetime(text, format="ISO8601", utc=utc)  # year first: never ambiguous
    except (ValueError, TypeError) as exc:
        if _mixed_offsets(exc):
            raise InputError(_offsets_message(what, text)) from None
    readings, error = {}, None
    for first in (False, True) if dayfirst is None else (dayfirst,):
        try:
            readings[first] = pd.to_datetime(text, format="mixed", dayfirst=first, utc=utc)
        except (ValueError, TypeError, OverflowError) as exc:
            if _mixed_offsets(exc):
                raise InputError(_offsets_message(what, text)) from None
            error = exc
    if not readings:
        raise InputError(f"{what} is not a time column ({error}); choose the time column with --time-column.")
    if len(readings) == 2 and not readings[False].equals(readings[True]):
        i = int(np.flatnonzero((readings[False] != readings[True]).to_numpy())[0])
        raise InputError(f"{what} is ambiguous: {text.iloc[i]!r} reads as {readings[True].iloc[i]:%d %B %Y} "
                         f"(day first) or {readings[False].iloc[i]:%d %B %Y} (month first); pass --dayfirst or "
                         "--monthfirst.")  # fmt: skip
    return next(iter(readings.values()))


def _offsets_message(what: str, text: pd.Series) -> str:
    offsets = text.str.extract(r"([+-]\d\d:?\d\d|Z)\s*$")[0].dropna().unique()
    shown = ", ".join(map(str, offsets[:4])) if len(offsets) else "several"
    return (f"{what} mixes UTC offsets ({shown}), as at a daylight-saving change; pass --utc to read every time "
            "in UTC (the output then gives UTC times).")


def read_series_csv(path: Path, time_column: str | None = None, columns: str | None = None,
                    time_unit: str | None = None, dayfirst: bool | None = None, sep: str = ",",
                    fill: str | None = None, utc: bool = False) -> tuple[pd.DataFrame, pd.Series, str | None]:
    """The value columns of a CSV on a sorted DatetimeIndex, every value finite; a 0/1 Series marking the rows
    where a missing value was filled (``fill``: see :data:`FILLS`; without it a missing value is an error); and a
    note saying what the fill did (None when nothing was missing). Clear errors otherwise (times as
    :func:`parse_times` reads them)."""
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file; pass the path of a CSV file.")
    try:
        frame = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path} is empty; it needs a header line (time, value, ...) and rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is not a readable CSV ({type(exc).__name__}: {exc}).") from None
    if frame.shape[1] < 2:
        hint = "" if sep != "," else "; if its fields are separated by ';' or tabs, say so with --sep"
        raise InputError(f"{path} has {frame.shape[1]} column(s); it needs a time column and at least one value "
                         f"column (separated by {sep!r}){hint}.")  # fmt: skip
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
    times = parse_times(frame[time_column], f"column {time_column!r} of {path}", time_unit, dayfirst, utc)
    values = frame[wanted].set_axis(pd.DatetimeIndex(times, name=time_column))
    text = [c for c in wanted if not pd.api.types.is_numeric_dtype(values[c])]
    if text:
        raise InputError(f"column(s) {text} of {path} are not numeric; choose value columns with --columns.")
    if not values.index.is_monotonic_increasing:
        raise InputError(f"the times in {path} are not in order; sort the file by {time_column!r} first.")
    if values.index.has_duplicates:
        first = values.index[values.index.duplicated()][0]
        raise InputError(f"{path} repeats {int(values.index.duplicated().sum())} time(s) (first: {first}); "
                         "aggregate or drop the repeated rows first.")  # fmt: skip
    values = values.astype(float)
    infinite = int(np.isinf(values.to_numpy()).sum())
    if infinite:
        raise InputError(f"{path} has {infinite} infinite value(s); replace them first.")
    return _fill(values, path, fill)


def _fill(values: pd.DataFrame, path: Path, fill: str | None) -> tuple[pd.DataFrame, pd.Series, str | None]:
    gaps = {c: int(n) for c, n in values.isna().sum().items() if n}
    filled = pd.Series(values.isna().any(axis=1).astype("int8"), index=values.index, name="filled")
    if not gaps:
        return values, filled, None
    if fill is None:
        raise InputError(f"{path} has missing values {gaps}; fill or drop those rows first, or let detect do it "
                         "with --fill interpolate|ffill|drop.")  # fmt: skip
    if fill not in FILLS:
        raise InputError(f"--fill must be one of {sorted(FILLS)}, got {fill!r}.")
    empty = [c for c in values.columns if values[c].isna().all()]
    if empty:
        raise InputError(f"column(s) {empty} of {path} hold no value at all; choose value columns with --columns.")
    rows = int(filled.sum())
    if fill == "drop":
        kept = values.dropna()
        if len(kept) < 2:
            raise InputError(f"{path} keeps {len(kept)} row(s) once rows with a missing value are dropped; use "
                             "--fill interpolate or ffill.")  # fmt: skip
        return kept, filled.loc[kept.index] * 0, f"note: {rows} row(s) with a missing value {FILLS['drop']} " \
            "(--fill drop)."
    done = (values.interpolate(method="time", limit_direction="both") if fill == "interpolate"
            else values.ffill().bfill())  # fmt: skip
    return done, filled, f"note: {rows} row(s) had a missing value, {FILLS[fill]} (--fill {fill}); the " \
        "output's column 'filled' marks them."


def difference(values: pd.DataFrame) -> pd.DataFrame:
    """The first difference of every column (the change from the previous row), as Merlion's DifferenceTransform:
    a trending series becomes a stationary one whose spikes a detector can see. The first row has none."""
    return values.diff().iloc[1:]
