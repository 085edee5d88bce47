"""The Mixtiles traffic series and the seed project's spike series."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from anomalylab.datasets.checks import _require_columns, validate_series
from anomalylab.datasets.registry import fetch
from anomalylab.errors import InputError

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


