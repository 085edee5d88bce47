"""The one contract every detector keeps, and its registry.

A :class:`Detector` learns from normal data with ``fit(train, val=None)`` (``val``, normal too, drives early
stopping where a model has it) and scores with ``decision_function(X)``: **higher = more anomalous**, PyOD's
convention. ``score_samples`` is the same score under the name the package's callers use (not scikit-learn's
sign). ``predict(X)`` turns scores into 0/1 flags against a stored ``threshold_``, set from a threshold the caller
chose (:meth:`Detector.set_threshold`) or from the share of rows to flag on reference data
(:meth:`Detector.calibrate`, PyOD's ``contamination``); the evaluation code chooses its thresholds with its own
rules and never reads ``threshold_``.

Every public, concrete subclass enters :data:`~anomalylab.models.registry.DETECTORS` when it is defined: the
allow-list of persistence and the model list of the command line read it, so a new detector class needs no edit
elsewhere. ``input_kind`` says what ``fit`` and ``decision_function`` take: ``"rows"`` (a table, one sample per
row), ``"windows"`` (samples of shape (steps, features)) or ``"series"`` (a time-indexed Series or DataFrame, scored
row by row). ``one_column`` marks a series detector that scores a single value column; ``transductive`` says why a
detector reads the test rows it scores, if it does (PyOD's ECOD).
"""

from __future__ import annotations

import abc
import inspect
from typing import ClassVar

import numpy as np
import pandas as pd

from anomalylab.errors import InputError
from anomalylab.models.persistence import Persistable
from anomalylab.models.registry import register

INPUT_KINDS = ("rows", "windows", "series")


class Detector(Persistable, abc.ABC):
    """Base of every detector: ``fit``, ``decision_function`` / ``score_samples``, ``predict``, save / load."""

    input_kind: ClassVar[str] = "rows"
    one_column: ClassVar[bool] = False

    @property
    def transductive(self) -> str | None:
        """None, or why this detector reads the test rows it scores (it scores each row against the others, so
        its rows of a table are ``protocol``: ``evaluation.row_kind`` decides)."""
        return None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.input_kind not in INPUT_KINDS:
            raise TypeError(f"{cls.__name__}.input_kind must be one of {INPUT_KINDS}, got {cls.input_kind!r}.")
        if not cls.__name__.startswith("_") and not inspect.isabstract(cls):
            register(cls)

    @abc.abstractmethod
    def fit(self, train, val=None):
        """Learn from ``train`` (normal data); ``val`` (normal data) may drive early stopping. Returns self."""

    @abc.abstractmethod
    def score_samples(self, X):
        """One score per sample or row of ``X``: higher = more anomalous."""

    def decision_function(self, X):
        """The anomaly score of each sample or row of ``X`` (higher = more anomalous; PyOD's convention)."""
        return self.score_samples(X)

    def set_threshold(self, threshold: float) -> Detector:
        """Flag scores at or above ``threshold`` in :meth:`predict`."""
        value = float(threshold)
        if not np.isfinite(value):
            raise InputError(f"threshold must be a finite number, got {threshold!r}.")
        self.threshold_ = value
        return self

    def calibrate(self, X, contamination: float = 0.01) -> Detector:
        """Set ``threshold_`` so that about ``contamination`` of the rows of ``X`` (reference data, scored now)
        score at or above it: the ``1 - contamination`` quantile of their finite scores (NumPy's ``"higher"``
        method, so the threshold is a score that occurs)."""
        if not (isinstance(contamination, int | float) and 0 < contamination < 1):
            raise InputError(f"contamination is the share of rows to flag; it must lie strictly between 0 and 1, "
                             f"got {contamination!r}.")  # fmt: skip
        scores = np.asarray(self.decision_function(X), dtype=float).ravel()
        scores = scores[np.isfinite(scores)]
        if not len(scores):
            raise InputError("no finite score to calibrate on: X is empty or scored nothing (a series shorter than "
                             "the detector's lookback?).")  # fmt: skip
        return self.set_threshold(np.quantile(scores, 1 - contamination, method="higher"))

    def predict(self, X):
        """0/1 per sample or row: 1 where the score is at or above ``threshold_`` (a row without a score, such
        as the first ``lookback`` rows of a forecaster, is 0). A Series in gives a Series out."""
        if not hasattr(self, "threshold_"):
            raise InputError(f"{type(self).__name__} has no threshold: call .set_threshold(value) or "
                             f".calibrate(X_reference, contamination) before .predict(X).")  # fmt: skip
        scores = self.decision_function(X)
        with np.errstate(invalid="ignore"):
            flags = (np.asarray(scores, dtype=float) >= self.threshold_).astype(int)
        if isinstance(scores, pd.Series):
            return pd.Series(flags, index=scores.index, name=scores.name)
        return flags
