"""Windows, scaling and clipping, always fitted on training data only.

Windows are strided views (``numpy.lib.stride_tricks.sliding_window_view``),
never Python loops. A split is windowed on its own, so no window straddles
two splits (:func:`forecast_windows_per_split`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from anomalylab.datasets import validate_series
from anomalylab.datasets.checks import check_time_order
from anomalylab.datasets.kdd import KDD_FEATURES
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


def as_samples(X, ndim: int | None = None, name: str = "X", flatten: bool = False) -> np.ndarray:
    """A finite, non-empty float32 array of samples: rows (n, features) or windows (n, steps, features).

    ``ndim`` demands one of the two; ``flatten`` turns windows into rows (for tabular detectors).
    """
    arr = np.asarray(X)
    if arr.dtype != np.float32:
        wide = np.asarray(arr, dtype=float)
        finite = np.isfinite(wide)
        if finite.all() and wide.size and np.abs(wide).max() >= np.finfo("float32").max:
            raise InputError(f"{name} holds values up to {np.abs(wide).max():.3g}, beyond float32's range "
                             "(3.4e38) that the models compute in; scale them first (e.g. preprocessing.fit_scaler).")
        arr = wide.astype("float32")
    if flatten and arr.ndim == 3:
        arr = arr.reshape(len(arr), -1)
    allowed = (2, 3) if ndim is None else (ndim,)
    if arr.ndim not in allowed or len(arr) == 0:
        shapes = {2: "(rows, features)", 3: "(windows, steps, features)"}
        wanted = " or ".join(shapes[d] for d in allowed)
        raise InputError(f"{name} must be a non-empty array of shape {wanted}, got {arr.shape}.")
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise InputError(f"{name} holds {bad} NaN or infinite value(s); encode or fill them first.")
    return arr


def check_row_cap(limit, name: str = "max_train_rows") -> None:
    """``limit`` must be ``None`` (every row) or a positive whole number of rows."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 1):
        raise InputError(f"{name} must be None (fit on every row) or a positive whole number of rows, got {limit!r}.")


def cap_rows(X: np.ndarray, limit: int | None, seed: int) -> np.ndarray:
    """``X``, or a seeded sample of ``limit`` of its rows in their original order (a fit on at most ``limit``
    rows: the same rows for the same seed, whichever detector draws them)."""
    if limit is None or len(X) <= limit:
        return X
    rows = np.random.default_rng(seed).choice(len(X), size=int(limit), replace=False)
    return X[np.sort(rows)]


def index_of(obj) -> pd.Index:
    """The index of a Series or DataFrame; a RangeIndex for an array."""
    return obj.index if isinstance(obj, (pd.Series, pd.DataFrame)) else pd.RangeIndex(len(obj))


def values_2d(obj, name: str = "series") -> np.ndarray:
    """:func:`as_2d` of the values of a Series, DataFrame or array, after :func:`check_time_order`."""
    if isinstance(obj, (pd.Series, pd.DataFrame)):
        check_time_order(obj, name)
        obj = obj.to_numpy()
    return as_2d(obj, name)


def scores_on_index(series, scores: np.ndarray, name: str | None = None) -> pd.Series:
    """``scores`` of the last ``len(scores)`` points of ``series`` as a Series on its whole index, NaN before
    (the points without enough history to score)."""
    index = index_of(series)
    scores = np.asarray(scores, dtype=float)
    if len(scores) > len(index):
        raise InputError(f"{len(scores)} scores for {len(index)} points.")
    out = np.full(len(index), np.nan)
    out[len(index) - len(scores) :] = scores
    return pd.Series(out, index=index, name=name)


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


# --------------------------------------------------------------------------- KDD Cup 99

# Counts and sizes with heavy right tails (bytes up to 1e9, counts up to 511): log1p before scaling.
KDD_LOG_FEATURES = (
    "duration", "src_bytes", "dst_bytes", "wrong_fragment", "urgent", "hot", "num_failed_logins",
    "num_compromised", "num_root", "num_file_creations", "num_shells", "num_access_files",
    "count", "srv_count", "dst_host_count", "dst_host_srv_count",
)  # fmt: skip
KDD_NON_FEATURES = ("label", "attack_category", "is_attack")
# The 41 features of kddcup.names (tests/test_datasets.py checks them against the file), in its order.
UNSEEN = "__unseen__"


class KDDEncoder:
    """Encode KDD Cup 99 rows as a float matrix, every step fitted on the rows given to ``fit``.

    - ``protocol_type``, ``service``, ``flag``: one-hot over the categories seen
      in the fitted rows, plus one ``<feature>=__unseen__`` column that is 1 for a
      category never seen there (a test-only service): no crash and no silent
      all-zero row. ``unseen_counts_`` says how many rows of the last
      ``transform`` had one.
    - ``KDD_LOG_FEATURES`` (bytes, durations, counts): ``log1p``.
    - The numeric columns are scaled (``scaler``: standard by default) with
      statistics of the fitted rows only (fit it on training inliers); a column
      that is constant there keeps scale 1.
    - Only KDD's 41 named features are encoded (``KDD_FEATURES``; the label columns ``label``,
      ``attack_category`` and ``is_attack`` are skipped). Any other column is refused unless listed in
      ``extra_columns`` (numeric): a label-derived column such as the ``difficulty`` field of NSL-KDD-format
      files would otherwise become a feature and lift every score.
    - The one-hot columns stay 0/1 (``scale_onehot=False``, the default):
      standardising a category seen in 0.01 % of the fitted rows would turn its
      1 into about 100 standard deviations, and every row with a rare service
      would then dominate a reconstruction error (on KDD K2 this costs the
      autoencoder about 0.05 of F1).
    """

    def __init__(
        self,
        log_features=KDD_LOG_FEATURES,
        categorical=("protocol_type", "service", "flag"),
        scaler: str = "standard",
        scale_onehot: bool = False,
        extra_columns=(),
    ):
        if scaler not in SCALERS:
            raise InputError(f"unknown scaler {scaler!r}; choose one of {sorted(SCALERS)}.")
        self.log_features, self.categorical = tuple(log_features), tuple(categorical)
        self.scaler, self.scale_onehot, self.extra_columns = scaler, scale_onehot, tuple(extra_columns)

    def _numeric(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"KDDEncoder takes the DataFrame of datasets.load_kdd, got {type(frame).__name__}.")
        missing = [c for c in (*self.categorical, *self.log_features) if c not in frame.columns]
        if missing:
            raise InputError(f"the frame lacks KDD column(s) {missing}; load it with datasets.load_kdd.")
        known = {*KDD_FEATURES, *KDD_NON_FEATURES, *self.extra_columns}
        unknown = [c for c in frame.columns if c not in known]
        if unknown:
            raise InputError(f"the frame has column(s) {unknown} that are not among KDD's 41 features; drop them, "
                             "or list the numeric ones in KDDEncoder(extra_columns=[...]) if they are features "
                             "(never a label-derived column such as NSL-KDD's 'difficulty').")  # fmt: skip
        drop = [*self.categorical, *(c for c in KDD_NON_FEATURES if c in frame.columns)]
        numeric = frame.drop(columns=drop)
        text = [c for c in numeric.columns if not pd.api.types.is_numeric_dtype(numeric[c])]
        if text:
            raise InputError(f"column(s) {text} of the frame are not numeric; KDD's categorical features are "
                             f"{list(self.categorical)}; convert the others with pd.to_numeric.")  # fmt: skip
        numeric = numeric.astype(float)
        missing = [c for c in (*self.categorical, *numeric.columns) if frame[c].isna().any()]
        if missing:
            raise InputError(f"column(s) {missing} hold missing values; KDD rows have none: drop or fill those "
                             "rows (the registered files have no gaps).")  # fmt: skip
        logged = numeric[list(self.log_features)]
        negative = {c: int(n) for c, n in (logged < 0).sum().items() if n}
        if negative:
            warnings.warn(f"KDDEncoder: negative values in count column(s) {negative} (counts of bytes and "
                          "connections are never negative) are set to 0 before log1p; check the file.", UserWarning,
                          stacklevel=3)  # fmt: skip
        numeric[list(self.log_features)] = np.log1p(logged.clip(lower=0))
        return numeric

    def fit(self, frame: pd.DataFrame) -> KDDEncoder:
        numeric = self._numeric(frame)
        self.numeric_columns_ = list(numeric.columns)
        self.categories_ = {c: sorted(frame[c].astype(str).unique()) for c in self.categorical}
        raw = self._raw(frame, numeric)
        self.scaler_ = SCALERS[self.scaler]().fit(raw if self.scale_onehot else raw[:, : len(self.numeric_columns_)])
        return self

    def _raw(self, frame: pd.DataFrame, numeric: pd.DataFrame) -> np.ndarray:
        blocks = [numeric[self.numeric_columns_].to_numpy()]
        self.unseen_counts_ = {}
        for c in self.categorical:
            values = frame[c].astype(str).to_numpy()
            known = self.categories_[c]
            onehot = (values[:, None] == np.asarray(known)[None, :]).astype(float)
            unseen = ~np.isin(values, known)
            self.unseen_counts_[c] = int(unseen.sum())
            blocks += [onehot, unseen[:, None].astype(float)]
        return np.hstack(blocks)

    @property
    def feature_names_(self) -> list[str]:
        names = list(self.numeric_columns_)
        for c in self.categorical:
            names += [f"{c}={v}" for v in self.categories_[c]] + [f"{c}={UNSEEN}"]
        return names

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The encoded rows, float32, one column per name in ``feature_names_``."""
        if not hasattr(self, "scaler_"):
            raise InputError("this KDDEncoder is not fitted; call .fit(train_inliers) first.")
        numeric = self._numeric(frame)
        missing = sorted(set(self.numeric_columns_) - set(numeric.columns))
        if missing:
            raise InputError(f"the frame lacks column(s) {missing} that the encoder was fitted on.")
        raw = self._raw(frame, numeric)
        if self.scale_onehot:
            return self.scaler_.transform(raw).astype("float32")
        n = len(self.numeric_columns_)
        return np.hstack([self.scaler_.transform(raw[:, :n]), raw[:, n:]]).astype("float32")

    def fit_transform(self, frame: pd.DataFrame) -> np.ndarray:
        return self.fit(frame).transform(frame)
