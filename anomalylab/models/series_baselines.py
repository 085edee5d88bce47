"""Stronger classical series baselines from maintained libraries, with the package's detector face.

- :class:`STLResidual`: the seasonal pattern of an STL decomposition (statsmodels) of the training part; a point
  scores its distance from that pattern plus a trend read from the points before it, in units of the training
  residuals' spread. Causal: a score reads the point and its past only.
- :class:`MatrixProfileDiscord`: the z-normalised distance (stumpy's matrix profile) from the subsequence that
  ends at a point to its nearest subsequence of the training part (for subsequences inside the training part:
  the nearest one other than itself). A discord is a subsequence unlike anything seen in training.
- :class:`RollingMedianResidual`: the residual from a centred rolling median, the rule that labelled the spike
  series (notebook 01). It reads ``window // 2`` points after the point, so it is not causal; it is the labelling
  rule itself, shown to make clear what F1 = 1 on that series means.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from anomalylab.errors import InputError
from anomalylab.models.classical import _HistoryBaseline, _values


class STLResidual(_HistoryBaseline):
    """Score = |x - seasonal(phase) - trend| / scale (see the module docstring).

    ``period``: steps per season (24 for hourly data with a daily cycle). The seasonal pattern is the mean STL
    seasonal component per phase over the training part (``robust=True``); the trend of a point is the median
    of the previous ``trend_window`` deseasonalised points; ``scale`` is the training residuals' median absolute
    deviation. Phases count from the first point, so the scored series must start where the training part does
    (as in every protocol here: the whole series is scored).
    """

    def __init__(self, period: int = 24, trend_window: int | None = None, name: str | None = None):
        if int(period) != period or period < 2:
            raise InputError(f"period must be an integer of at least 2, got {period}.")
        self.period = int(period)
        self.trend_window = int(trend_window or period)
        if self.trend_window < 1:
            raise InputError(f"trend_window must be at least 1, got {trend_window}.")
        self.history = self.trend_window
        self.name = name or f"stl_residual_{self.period}"

    def fit(self, train, val=None):  # noqa: ARG002
        from anomalylab.extras import require

        require("statsmodels", what=self.name)
        from statsmodels.tsa.seasonal import STL

        values = _values(train)
        if len(values) < 2 * self.period + 1:
            raise InputError(f"{self.name} needs at least two periods ({2 * self.period + 1} points) to fit, "
                             f"got {len(values)}.")  # fmt: skip
        if not np.isfinite(values).all():
            raise InputError(f"{self.name}: the training series holds NaN or infinite values.")
        result = STL(values, period=self.period, robust=True).fit()
        phase = np.arange(len(values)) % self.period
        self.seasonal_ = pd.Series(result.seasonal).groupby(phase).mean().to_numpy()
        residual = np.asarray(result.resid)
        self.scale_ = max(float(np.median(np.abs(residual - np.median(residual)))), 1e-12)
        self.fitted_ = True
        return self

    def _scores(self, series) -> np.ndarray:
        """Scaled STL residual of every point in :meth:`forecast_index`."""
        values = self._check(series)
        deseasonalised = pd.Series(values - self.seasonal_[np.arange(len(values)) % self.period])
        trend = deseasonalised.shift(1).rolling(self.trend_window, min_periods=self.trend_window).median()
        return (np.abs(deseasonalised - trend) / self.scale_).to_numpy()[self.history :]


_STUMPY_CACHED = False


def _stumpy():
    """stumpy, with numba's on-disk cache switched on for its compiled functions (once per process).

    Without it every new process compiles stumpy's functions again before its first matrix profile (about 25 s
    here, 50 s or more under load); with it only the first process on a machine does, and the others load the
    same machine code from stumpy's ``__pycache__`` (numba's own cache, keyed by the CPU: the same numbers).
    """
    global _STUMPY_CACHED
    from anomalylab.extras import require

    require("stumpy", what="the matrix profile (MatrixProfileDiscord)")
    import stumpy

    if not _STUMPY_CACHED:
        from stumpy import cache

        with warnings.catch_warnings():  # stumpy marks the call deprecated: it wants cache.save(), which compiles all
            warnings.simplefilter("ignore", DeprecationWarning)
            cache._enable()
        _STUMPY_CACHED = True
    return stumpy


class MatrixProfileDiscord(_HistoryBaseline):
    """Nearest-neighbour distance of each length-``m`` subsequence to the training part (stumpy); see the module
    docstring. The score of a point is that of the subsequence ending at it."""

    def __init__(self, m: int = 24, name: str | None = None):
        if int(m) != m or m < 3:
            raise InputError(f"m must be an integer of at least 3, got {m}.")
        self.m = int(m)
        self.history = self.m - 1
        self.name = name or f"matrix_profile_{self.m}"

    def fit(self, train, val=None):  # noqa: ARG002
        values = _values(train)
        if len(values) < 2 * self.m:
            raise InputError(f"{self.name} needs at least {2 * self.m} training points, got {len(values)}.")
        if not np.isfinite(values).all():
            raise InputError(f"{self.name}: the training series holds NaN or infinite values.")
        self.train_ = values.astype(float)
        self.fitted_ = True
        return self

    def _scores(self, series) -> np.ndarray:
        """Distance of the subsequence ending at every point in :meth:`forecast_index` to its nearest training
        subsequence."""
        stumpy = _stumpy()
        values = self._check(series).astype(float)
        if len(values) < self.m:
            raise InputError(f"{self.name} needs at least m = {self.m} points to score, got {len(values)}.")
        across = stumpy.stump(values, self.m, T_B=self.train_, ignore_trivial=False)[:, 0].astype(float)
        n_train = len(self.train_)
        if len(values) >= n_train and np.array_equal(values[:n_train], self.train_):
            # subsequences inside the training part: the nearest other one (self-join, trivial matches excluded)
            inside = stumpy.stump(self.train_, self.m)[:, 0].astype(float)
            across[: len(inside)] = inside
        return across


class RollingMedianResidual(_HistoryBaseline):
    """Residual from a ``window``-point centred rolling median: the spike series' labelling rule (not causal)."""

    def __init__(self, window: int = 11, name: str = "rolling_median_residual"):
        if int(window) != window or window < 1 or window % 2 == 0:
            raise InputError(f"window must be a positive odd integer, got {window}.")
        self.window, self.name = int(window), name
        self.history = 0

    def _scores(self, series) -> np.ndarray:
        """Residual of every point from the median of the ``window`` points centred on it."""
        values = pd.Series(self._check(series))
        return (values - values.rolling(self.window, center=True, min_periods=1).median()).to_numpy()
