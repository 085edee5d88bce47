"""Classical detectors and baselines for series, with the package's detector face.

Series baselines score every point that has enough history and say which
points those are with ``forecast_index(series)``; ``score_samples`` returns a ``pd.Series`` on the
series' index, NaN on those first points (like the forecasters):

- :class:`SeasonalNaive`: the forecast is the value one season ago (24 h,
  168 h, ...); with several periods the score is the *smallest* error, so a
  point must differ from yesterday *and* from last week to score high.
- :class:`RollingZScore`: |x - mean| / std of the previous ``window`` points.
- :class:`WindowedGaussian`: the rolling z-score mapped to [0, 1] by the
  normal distribution, after NAB's ``windowedGaussian`` baseline (two-sided
  here: NAB's only scores values above the mean).
- :class:`SpatialNovelty`: HTM's spatial-novelty rule alone (1 beyond the range seen so far, else 0), the
  floor a forecaster's post-processing on NAB must beat.
- :class:`RandomScore`: uniform random scores, the floor every detector must beat.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import erf

from anomalylab.errors import InputError
from anomalylab.models.base import Detector
from anomalylab.models.likelihood import SPATIAL_TOLERANCE, spatial_novelty
from anomalylab.preprocessing import as_samples, cap_rows, check_row_cap, index_of, scores_on_index, values_2d


def _values(series) -> np.ndarray:
    """1-D float array of a univariate Series or array."""
    arr = values_2d(series)
    if arr.shape[1] != 1:
        raise InputError(f"this baseline scores one series at a time; got {arr.shape[1]} columns.")
    return arr[:, 0]


class _HistoryBaseline(Detector):
    """Shared face: ``fit`` checks the training data; ``history`` points are needed before a score."""

    input_kind = "series"
    one_column = True
    history = 1
    name = "baseline"

    def fit(self, train, val=None):  # noqa: ARG002 (same face as the learned detectors)
        if len(_values(train)) <= self.history:
            raise InputError(f"{self.name} needs more than {self.history} training points, got {len(train)}.")
        self.fitted_ = True
        return self

    def forecast_index(self, series) -> pd.Index:
        """The index labels of the points that get a score (all but the first ``history``)."""
        return index_of(series)[self.history :]

    def score_samples(self, series) -> pd.Series:
        """The score of every point, on ``series``' index; NaN on the first ``history`` points, which have
        too little history to score (:meth:`forecast_index` are the others)."""
        return scores_on_index(series, self._scores(series), self.name)

    def _check(self, series) -> np.ndarray:
        if not getattr(self, "fitted_", False):
            raise InputError(f"{self.name} is not fitted; call .fit(train) first.")
        values = _values(series)
        if len(values) <= self.history:
            raise InputError(f"{self.name} needs more than {self.history} points to score, got {len(values)}.")
        return values


class SeasonalNaive(_HistoryBaseline):
    """Forecast = the value ``period`` steps ago; score = the forecast error.

    ``error="relative"`` is |y - yhat| / |y| (the Mixtiles study's rule),
    ``"absolute"`` is |y - yhat|. With several ``periods`` the score is the
    smallest of their errors.
    """

    def __init__(self, periods: Sequence[int] = (24,), error: str = "relative", name: str | None = None):
        periods = tuple(int(p) for p in periods)
        if not periods or min(periods) < 1:
            raise InputError(f"periods must be positive steps (e.g. (24, 168)), got {periods}.")
        if error not in ("absolute", "relative"):
            raise InputError(f"error must be 'absolute' or 'relative', got {error!r}.")
        self.periods, self.error = periods, error
        self.history = max(periods)
        self.name = name or "seasonal_naive_" + "_".join(map(str, periods))

    def _scores(self, series) -> np.ndarray:
        """Smallest seasonal forecast error of every point in :meth:`forecast_index`."""
        values = self._check(series)
        target = values[self.history :]
        errors = []
        for p in self.periods:
            forecast = values[self.history - p : len(values) - p]
            err = np.abs(target - forecast)
            errors.append(err / np.maximum(np.abs(target), 1e-12) if self.error == "relative" else err)
        return np.min(errors, axis=0)


class RollingZScore(_HistoryBaseline):
    """|x - mean| / std of the previous ``window`` points (the point itself excluded)."""

    def __init__(self, window: int = 168, min_std: float = 1e-9, name: str = "rolling_zscore"):
        if window < 2:
            raise InputError(f"window must be at least 2, got {window}.")
        self.window, self.min_std, self.name = int(window), min_std, name
        self.history = self.window

    def _z(self, series) -> np.ndarray:
        values = pd.Series(self._check(series))
        past = values.shift(1).rolling(self.window, min_periods=self.history)
        z = (values - past.mean()).abs() / np.maximum(past.std(), self.min_std)
        return z.to_numpy()[self.history :]

    def _scores(self, series) -> np.ndarray:
        """Absolute rolling z-score of every point in :meth:`forecast_index`."""
        return self._z(series)


class WindowedGaussian(RollingZScore):
    """NAB-style windowed Gaussian: P(|Z| < |z|) = erf(|z| / sqrt 2), in [0, 1].

    NAB's own ``windowedGaussian`` (window 6,400, recomputed every 100 rows)
    scores only values above the window's mean; this one is two-sided, over the
    previous ``window`` rows (fewer at the start of a series: ``min_history``).
    """

    def __init__(self, window: int = 6400, min_history: int = 20, name: str = "windowed_gaussian"):
        super().__init__(window=window, name=name)
        if min_history < 2:
            raise InputError(f"min_history must be at least 2, got {min_history}.")
        self.min_history = int(min_history)
        self.history = self.min_history

    def _scores(self, series) -> np.ndarray:
        """Two-sided Gaussian tail score in [0, 1] of every point in :meth:`forecast_index`."""
        return erf(self._z(series) / np.sqrt(2))


class SpatialNovelty(_HistoryBaseline):
    """1 where a value lies beyond the range of the values seen so far (the training values first) by more than
    ``tolerance`` times that range, else 0: the spatial-novelty rule of HTM's NAB detector, alone.

    A baseline for a detector's post-processing: :func:`~anomalylab.models.likelihood.likelihood_scores` adds the
    same rule on top of the anomaly likelihood, so a forecaster's likelihood must add to what this scores."""

    history = 0

    def __init__(self, tolerance: float = SPATIAL_TOLERANCE, name: str = "spatial_novelty"):
        if not 0 <= tolerance < np.inf:
            raise InputError(f"tolerance must be a finite fraction of the range, at least 0; got {tolerance}.")
        self.tolerance, self.name = float(tolerance), name

    def fit(self, train, val=None):  # noqa: ARG002 (same face as the learned detectors)
        super().fit(train)  # checks the values (finite, at least one)
        values = _values(train)
        self.low_, self.high_ = float(values.min()), float(values.max())
        return self

    def _scores(self, series) -> np.ndarray:
        """1.0 where the value is spatially novel given the training range and the values before it, else 0.0."""
        values = self._check(series)
        seen = np.r_[self.low_, self.high_, values]  # the training range is what "seen so far" starts from
        return spatial_novelty(seen, self.tolerance)[2:].astype(float)


class RandomScore(Detector):
    """Uniform random scores in [0, 1): what a detector scores by chance."""

    input_kind = "series"  # and rows: one random score per row of anything

    def __init__(self, seed: int = 0, name: str = "random"):
        self.seed, self.name = seed, name

    def fit(self, train, val=None):  # noqa: ARG002
        return self

    def forecast_index(self, series) -> pd.Index:
        return index_of(series)

    def score_samples(self, X):
        """One uniform score per row or point; a pandas input gets a Series on its index."""
        n = len(X)
        if n == 0:
            raise InputError("nothing to score: the input is empty.")
        scores = np.random.default_rng(self.seed).random(n)
        return pd.Series(scores, index=X.index, name=self.name) if isinstance(X, pd.Series | pd.DataFrame) else scores


# --------------------------------------------------------------------------- tabular (rows or windows)


class _SklearnDetector(Detector):
    """Shared face of the scikit-learn detectors: ``fit(X_train, X_val=None)``, ``score_samples``."""

    name = "sklearn"

    def _subsample(self, X: np.ndarray) -> np.ndarray:
        return cap_rows(X, getattr(self, "max_train_rows", None), self.seed)

    def fit(self, X_train, X_val=None):  # noqa: ARG002 (same face as the deep detectors)
        X = self._subsample(as_samples(X_train, name="X_train", flatten=True))
        self.n_features_ = X.shape[1]
        self.model_ = self._make().fit(X)
        self.n_train_rows_ = len(X)
        return self

    def _check(self, X) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise InputError(f"{self.name} is not fitted; call .fit(X_train) first.")
        arr = as_samples(X, flatten=True)
        if arr.shape[1] != self.n_features_:
            raise InputError(f"{self.name} was fitted on {self.n_features_} features, got {arr.shape[1]}.")
        return arr

    def score_samples(self, X) -> np.ndarray:
        """Anomaly score per row (higher = more anomalous): minus scikit-learn's normality score."""
        arr = self._check(X)  # first: it says "fit first" when there is no model_
        return -self.model_.score_samples(arr)


class IsolationForestDetector(_SklearnDetector):
    """scikit-learn's ``IsolationForest``; score = minus its ``score_samples`` (higher = isolated sooner)."""

    def __init__(self, n_estimators: int = 200, max_samples="auto", seed: int = 0, name: str = "isolation_forest"):
        self.n_estimators, self.max_samples, self.seed, self.name = n_estimators, max_samples, seed, name

    def _make(self):
        from sklearn.ensemble import IsolationForest

        # n_jobs=1: parallelism comes from the runner's processes (a dask worker forces it to 1 anyway, with a
        # warning); the forest and its scores are the same for any n_jobs (a full run with both gave equal tables)
        return IsolationForest(n_estimators=self.n_estimators, max_samples=self.max_samples,
                               random_state=self.seed, n_jobs=1)  # fmt: skip

    def fit(self, X_train, X_val=None):
        """Fit the forest; refuses fewer than 2 rows and warns when every row is the same (the forest then
        cannot isolate anything and scores every row alike, a jump included)."""
        X = as_samples(X_train, name="X_train", flatten=True)
        if len(X) < 2:
            raise InputError(f"{self.name} needs at least 2 training rows to build a tree, got {len(X)}; with one "
                             "row every score would be 0.5.")  # fmt: skip
        if (X == X[0]).all():
            warnings.warn(f"{self.name}: every one of the {len(X)} training rows is the same (a flat series?), so "
                          "the forest cannot isolate anything and will score every row alike, departures included; "
                          "fit on data that varies, or use a distance-based score.", UserWarning, stacklevel=2)
        return super().fit(X, X_val)


class OneClassSVMDetector(_SklearnDetector):
    """scikit-learn's RBF ``OneClassSVM``, fitted on at most ``max_train_rows`` rows (a seeded
    subsample: its fit grows about quadratically with rows); score = minus its decision score."""

    def __init__(self, nu: float = 0.01, gamma="scale", max_train_rows: int | None = 10_000, seed: int = 0,
                 name: str = "ocsvm"):  # fmt: skip
        if not 0 < nu <= 1:
            raise InputError(f"nu must lie in (0, 1], got {nu}.")
        check_row_cap(max_train_rows)
        self.nu, self.gamma, self.max_train_rows, self.seed, self.name = nu, gamma, max_train_rows, seed, name

    def _make(self):
        from sklearn.svm import OneClassSVM

        return OneClassSVM(nu=self.nu, gamma=self.gamma)


class PCAReconstruction(_SklearnDetector):
    """PCA fitted on normal rows; score = squared error of the projection back from
    ``n_components`` (an int, or the fraction of variance to keep)."""

    def __init__(self, n_components: float | int = 0.95, seed: int = 0, name: str = "pca"):
        self.n_components, self.seed, self.name = n_components, seed, name

    def _make(self):
        from sklearn.decomposition import PCA

        return PCA(n_components=self.n_components, random_state=self.seed)

    def score_samples(self, X) -> np.ndarray:
        """Squared reconstruction error per row, from the kept components."""
        arr = self._check(X)
        back = self.model_.inverse_transform(self.model_.transform(arr))
        return np.square(arr - back).sum(axis=1)


class KMeansDistance(_SklearnDetector):
    """K-Means fitted on normal rows; score = Euclidean distance to the nearest centroid.

    The hybrid detector without its autoencoder: clusters of the input
    features themselves, and nothing but the distance to judge a row by.
    """

    def __init__(self, n_clusters: int = 8, seed: int = 0, name: str = "kmeans_distance"):
        if n_clusters < 1:
            raise InputError(f"n_clusters must be at least 1, got {n_clusters}.")
        self.n_clusters, self.seed, self.name = n_clusters, seed, name

    def _make(self):
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=self.n_clusters, n_init=10, random_state=self.seed)

    def score_samples(self, X) -> np.ndarray:
        """Distance of every row to its nearest centroid."""
        arr = self._check(X)
        return self.model_.transform(arr).min(axis=1)


class PyODDetector(_SklearnDetector):
    """One of PyOD's classical detectors, fitted on at most ``max_train_rows`` rows (a seeded subsample: kNN and
    LOF score a row by its distances to every fitting row); score = PyOD's ``decision_function`` (higher = more
    anomalous).

    - ``"knn"``: distance to the ``n_neighbors``-th nearest fitting row (PyOD's ``KNN``, ``method="largest"``);
    - ``"lof"``: local outlier factor over ``n_neighbors`` neighbours (PyOD's ``LOF``, novelty scoring);
    - ``"ecod"``: empirical-CDF outlyingness (PyOD's ``ECOD``). PyOD scores new rows with the empirical
      distribution of the fitting rows **and the rows being scored** together, so a test row's score depends
      on the other test rows (transductive): its rows are kind ``protocol`` (``transductive`` says why).
    """

    ALGORITHMS = ("knn", "lof", "ecod")

    def __init__(self, algorithm: str = "knn", n_neighbors: int = 10, max_train_rows: int | None = 10_000,
                 seed: int = 0, name: str | None = None):  # fmt: skip
        if algorithm not in self.ALGORITHMS:
            raise InputError(f"algorithm must be one of {self.ALGORITHMS}, got {algorithm!r}.")
        if n_neighbors < 1:
            raise InputError(f"n_neighbors must be at least 1, got {n_neighbors}.")
        check_row_cap(max_train_rows)
        self.algorithm, self.n_neighbors, self.max_train_rows = algorithm, int(n_neighbors), max_train_rows
        self.seed = seed
        self.name = name or algorithm

    def _make(self):
        from anomalylab.extras import require

        require("pyod", what=f"PyOD's {self.algorithm}")
        if self.algorithm == "knn":
            from pyod.models.knn import KNN

            return KNN(n_neighbors=self.n_neighbors, method="largest", n_jobs=1)
        if self.algorithm == "lof":
            from pyod.models.lof import LOF

            return LOF(n_neighbors=self.n_neighbors, novelty=True, n_jobs=1)
        from pyod.models.ecod import ECOD

        return ECOD(n_jobs=1)

    @property
    def transductive(self) -> str | None:
        """ECOD scores every row against the others it is given: on a test split, the test rows themselves."""
        return TRANSDUCTIVE_REASON if self.algorithm == "ecod" else None

    def score_samples(self, X) -> np.ndarray:
        """PyOD's outlier score of every row (higher = more anomalous)."""
        arr = self._check(X)
        return np.asarray(self.model_.decision_function(arr), dtype=float)


TRANSDUCTIVE_REASON = ("transductive: PyOD's ECOD scores test rows with the empirical distribution of the fitting "
                       "and test rows together, so each score reads the other test rows")  # fmt: skip
