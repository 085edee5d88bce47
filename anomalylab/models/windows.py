"""Series detectors made of window detectors.

:class:`WindowDetector` turns any detector of samples (a sequence
autoencoder on (windows, steps, features), or a tabular one such as
Isolation Forest, which flattens each window) into a detector of a series:
it scales the series with a scaler fitted on the training part only,
optionally winsorizes it with bounds fitted on the training part only, cuts
windows of ``window`` steps, and gives each window's score to the window's
**last** point. A point's score therefore reads only the point and its past,
and the first ``window - 1`` points get none (``forecast_index`` says which do),
exactly like the forecasters, so the same evaluation code serves both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomalylab.errors import InputError
from anomalylab.models.base import Detector
from anomalylab.preprocessing import (
    Winsorizer,
    _check_window,
    fit_scaler,
    index_of,
    scores_on_index,
    sliding_windows,
    values_2d,
)


class WindowDetector(Detector):
    """``detector`` applied to windows of a series; see the module docstring.

    ``winsorize=(0.01, 0.99)`` clips every value to the training part's 1st and
    99th percentiles before scaling (the ConvBiGRU study clipped with bounds
    from its test data; here they come from the training data only).
    ``fit_stride=k`` fits on every k-th training window: overlapping windows
    repeat each point ``window`` times, so a stride keeps every point in the
    training data and cuts the fitting time by k (scoring uses every window).
    """

    input_kind = "series"

    def __init__(self, detector, window: int = 48, winsorize: tuple[float, float] | None = None,
                 scaler: str = "standard", fit_stride: int = 1, name: str | None = None):  # fmt: skip
        if not hasattr(detector, "fit") or not hasattr(detector, "score_samples"):
            raise InputError("detector must have fit(X_train, X_val) and score_samples(X).")
        if _check_window(window) < 2:
            raise InputError(f"window must be at least 2 steps, got {window}.")
        if fit_stride < 1 or fit_stride > window:
            raise InputError(f"fit_stride must lie in 1..window ({window}), got {fit_stride}.")
        self.detector, self.window, self.winsorize, self.scaler = detector, int(window), winsorize, scaler
        self.fit_stride = int(fit_stride)
        suffix = "" if winsorize is None else "_winsorized"
        self.name = name or f"{getattr(detector, 'name', 'detector')}{suffix}"

    def _prepare(self, series) -> np.ndarray:
        arr = values_2d(series)
        if arr.shape[1] != self.n_features_:
            raise InputError(f"fitted on {self.n_features_} feature(s), got {arr.shape[1]}.")
        if self.winsorizer_ is not None:
            arr = self.winsorizer_.transform(arr)
        return sliding_windows(self.scaler_.transform(arr), self.window)

    def _samples(self, windows: np.ndarray) -> np.ndarray:
        """Windows as the inner detector takes them: flattened to rows for a detector of rows (``input_kind``)."""
        if getattr(self.detector, "input_kind", "windows") == "rows":
            windows = windows.reshape(len(windows), -1)
        return np.ascontiguousarray(windows)

    def fit(self, train, val=None) -> WindowDetector:
        """Fit clipping and scaling on ``train``, then the detector on its windows (``val``'s for early stopping)."""
        arr = values_2d(train, "train")
        self.n_features_ = arr.shape[1]
        self.winsorizer_ = None if self.winsorize is None else Winsorizer(*self.winsorize).fit(arr)
        clipped = arr if self.winsorizer_ is None else self.winsorizer_.transform(arr)
        self.scaler_ = fit_scaler(clipped, self.scaler)
        val_windows = None
        if val is not None:
            if len(val) < self.window:
                raise InputError(f"val has {len(val)} points, fewer than the window of {self.window}: it would "
                                 "give no window for early stopping; pass a longer val or val=None.")  # fmt: skip
            val_windows = self._samples(self._prepare(val))
        train_windows = self._prepare(train)[:: self.fit_stride]
        self.detector.fit(self._samples(train_windows), val_windows)
        return self

    def forecast_index(self, series) -> pd.Index:
        """The index labels of the points that get a score (all but the first ``window - 1``)."""
        return index_of(series)[self.window - 1 :]

    def score_samples(self, series) -> pd.Series:
        """The detector's score of the window ending at every point, on ``series``' index; NaN on the first
        ``window - 1`` points (:meth:`forecast_index` are the others)."""
        if not hasattr(self, "scaler_"):
            raise InputError(f"{self.name} is not fitted; call .fit(train) first.")
        scores = self.detector.score_samples(self._samples(self._prepare(series)))
        return scores_on_index(series, scores, self.name)
