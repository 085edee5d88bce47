"""Windows, scaling and clipping, always fitted on training data only.

Windows are strided views (``numpy.lib.stride_tricks.sliding_window_view``),
never Python loops. A split is windowed on its own, so no window straddles
two splits (:func:`forecast_windows_per_split`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from anomalylab.datasets import validate_series
from anomalylab.errors import InputError

SCALERS = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


def as_2d(values, name: str = "values") -> np.ndarray:
    """A finite float array of shape (time, features); Series and 1-D arrays get one feature."""
    if isinstance(values, pd.Series):
        validate_series(values, name)
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{name} must be 1-D or 2-D (time, features), got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise InputError(
            f"{name} holds {int((~np.isfinite(arr)).sum())} NaN or infinite value(s); "
            "fill or drop them first."
        )
    return arr


def index_of(obj) -> pd.Index:
    """The index of a Series or DataFrame; a RangeIndex for an array."""
    return obj.index if isinstance(obj, (pd.Series, pd.DataFrame)) else pd.RangeIndex(len(obj))


def values_2d(obj, name: str = "series") -> np.ndarray:
    """:func:`as_2d` of the values only: a Series' index is not validated (NAB files repeat timestamps)."""
    return as_2d(obj.to_numpy() if isinstance(obj, (pd.Series, pd.DataFrame)) else obj, name)


def _check_window(window: int, name: str = "window") -> int:
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
        raise InputError(f"{name} must be an integer, got {window!r}.")
    if window < 1:
        raise InputError(f"{name} must be a positive number of steps, got {window}.")
    return int(window)


def sliding_windows(values, window: int, step: int = 1) -> np.ndarray:
    """All windows of ``window`` consecutive steps: shape (n_windows, window, features).

    A read-only strided view of the data (no copy); ``step`` keeps every
    ``step``-th window.
    """
    window = _check_window(window)
    step = _check_window(step, "step")
    arr = as_2d(values)
    if len(arr) < window:
        raise InputError(
            f"the series has {len(arr)} points, fewer than the window of {window}; "
            "use a shorter window or a longer series."
        )
    # sliding_window_view puts the window axis last: (n, features, window)
    view = sliding_window_view(arr, window, axis=0)
    return view.transpose(0, 2, 1)[::step]


@dataclass(frozen=True)
class ForecastWindows:
    """Inputs ``X`` (n, lookback, features), targets ``y`` (n, features) and the
    index labels of the targets (``index``)."""

    X: np.ndarray
    y: np.ndarray
    index: pd.Index

    def __len__(self) -> int:
        return len(self.y)


def forecast_windows(series, lookback: int, horizon: int = 1) -> ForecastWindows:
    """Pairs (``lookback`` past steps -> the value ``horizon`` steps after them).

    ``series`` is a Series, a DataFrame (features as columns) or an array; the
    targets' index labels come back so that forecasts line up with timestamps.
    """
    lookback = _check_window(lookback, "lookback")
    horizon = _check_window(horizon, "horizon")
    index = index_of(series)
    arr = as_2d(series.to_numpy() if isinstance(series, pd.DataFrame) else series, "series")
    need = lookback + horizon
    if len(arr) < need:
        raise InputError(
            f"the series has {len(arr)} points; lookback {lookback} + horizon {horizon} "
            f"needs at least {need}. Use a shorter lookback or a longer series."
        )
    X = sliding_windows(arr[: len(arr) - horizon], lookback)
    y = arr[lookback + horizon - 1 :]
    return ForecastWindows(X=X, y=y, index=index[lookback + horizon - 1 :])


def forecast_windows_per_split(parts: Sequence, lookback: int, horizon: int = 1) -> list[ForecastWindows]:
    """:func:`forecast_windows` of each split on its own: no window straddles a split."""
    return [forecast_windows(p, lookback, horizon) for p in parts]


def fit_scaler(train, kind: str = "standard"):
    """A scikit-learn scaler (standard, minmax or robust) fitted on ``train`` only."""
    if kind not in SCALERS:
        raise InputError(f"unknown scaler {kind!r}; choose one of {sorted(SCALERS)}.")
    return SCALERS[kind]().fit(as_2d(train, "train"))


def scale_splits(train, *others, kind: str = "standard"):
    """Fit a scaler on ``train`` and apply it to ``train`` and every other split.

    Returns ``(scaler, train_scaled, *others_scaled)`` as 2-D arrays.
    """
    scaler = fit_scaler(train, kind)
    scaled = [scaler.transform(as_2d(part, "split")) for part in (train, *others)]
    return (scaler, *scaled)


class Winsorizer:
    """Clip each feature to quantile bounds learned from training data only.

    ``Winsorizer(0.01, 0.99).fit(train).transform(test)`` clips the test data
    to the 1st and 99th percentiles of the training data (the ConvBiGRU seed
    fitted its bounds on test data; this does not).
    """

    def __init__(self, lower: float = 0.01, upper: float = 0.99):
        if not 0 <= lower < upper <= 1:
            raise InputError(f"need 0 <= lower < upper <= 1, got lower={lower}, upper={upper}.")
        self.lower = lower
        self.upper = upper

    def fit(self, train) -> Winsorizer:
        arr = as_2d(train, "train")
        self.low_, self.high_ = np.quantile(arr, [self.lower, self.upper], axis=0)
        return self

    def transform(self, values) -> np.ndarray:
        if not hasattr(self, "low_"):
            raise InputError("this Winsorizer is not fitted; call .fit(train) first.")
        arr = as_2d(values)
        if arr.shape[1] != len(self.low_):
            raise InputError(f"fitted on {len(self.low_)} feature(s), got {arr.shape[1]}.")
        return np.clip(arr, self.low_, self.high_)

    def fit_transform(self, train) -> np.ndarray:
        return self.fit(train).transform(train)
