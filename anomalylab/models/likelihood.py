"""Anomaly likelihood: raw anomaly scores turned into streaming scores with resolution near the top.

HTM's detector on NAB does not threshold its raw score (the fraction of unpredicted columns); it thresholds the
*anomaly likelihood* (Ahmad et al., "Unsupervised real-time anomaly detection for streaming data",
Neurocomputing 2017, section 4.2; numenta's ``anomaly_likelihood`` module), which is what lifts it from 53.6 to
about 70 on NAB. For each row ``t`` it takes:

1. the mean of the last ``averaging_window`` raw scores (10), the short-term level;
2. the normal distribution of those short-term means over the long window of earlier rows (at most
   ``historic_window`` = 8,640; the first ``learning_period`` rows of a series are left out), re-estimated every
   ``reestimation_period`` rows (100); its mean is at least 0.03 and its variance at least 0.0003, and a
   flat metric (variance of the values under 1.5e-5) gets a distribution so broad that nothing is unusual;
3. the upper tail probability ``Q`` of the short-term mean under that distribution; a value in the red zone
   (``Q <= 1e-5``) right after another is reported as the yellow level 1e-3, so only the first of a run of
   red rows stands out;
4. ``likelihood = 1 - Q`` (0.5 for the first ``learning_period + estimation_samples`` rows), and
   :func:`log_likelihood`, ``log(1.0000000001 - likelihood) / log(1e-10)``: 0.0301 for 0.5, 1.0 for the
   extreme, so scores keep their order near 1 where the likelihood itself rounds to 1.

:func:`spatial_novelty` is the rule HTM's NAB detector adds on top: a value beyond the range seen so far by
more than 5 % of that range scores 1. Every output of row ``t`` reads rows ``<= t`` only.

Written from the paper and the module's documented behaviour; ``tests/test_likelihood.py`` checks it against
the scores NAB ships for its ``numenta`` detector (its ``anomaly_score`` recomputed from its ``raw_score``).
"""

from __future__ import annotations

from collections import deque

import numpy as np
import pandas as pd
from scipy.special import erfc

from anomalylab.errors import InputError

RED_ZONE = 1.0 - 0.99999
YELLOW_ZONE = 1.0 - 0.999
MIN_MEAN, MIN_VARIANCE = 0.03, 0.0003
FLAT_METRIC_VARIANCE = 1.5e-5
NULL_DISTRIBUTION = (0.5, 1e3)  # mean, standard deviation: every score in [0, 1] is likely
LOG_DENOMINATOR = -23.02585084720009  # log(1e-10), as the reference writes it
RED_LOG_SCORE = float(np.log(1.0000000001 - (1 - RED_ZONE)) / LOG_DENOMINATOR)  # about 0.5
SPATIAL_TOLERANCE = 0.05


def _tail(x: np.ndarray | float, mean: float, std: float, two_sided: bool = False) -> np.ndarray:
    """Upper normal tail P(score > x), above 0.5 below the mean: a short-term mean lower than usual is not
    unusual. With ``two_sided``, a value below the mean is reflected above it first (numenta's later module),
    so an unusually low short-term mean (a forecast error that falls, as on a flatline) is unusual too; NAB's
    shipped ``numenta`` scores were made with the one-sided tail, and only it reproduces them. The reference
    divides by 1.4142, not sqrt(2); kept, so that scores agree with it to the last digit."""
    x = np.asarray(x, dtype=float)
    if two_sided:
        x = np.where(x < mean, 2 * mean - x, x)
    z = (x - mean) / std
    return 0.5 * erfc(z / 1.4142)


def _estimate(scores: np.ndarray, values: np.ndarray, skip: int, window: int) -> tuple[float, float, np.ndarray]:
    """Mean and std of the short-term means of ``scores`` after the first ``skip``, with the lower bounds and
    the flat-metric rule; also the short-term means themselves."""
    averaged = pd.Series(scores).rolling(window, min_periods=1).mean().to_numpy()  # fewer rows at the start
    if len(averaged) <= skip or np.var(values[skip:]) < FLAT_METRIC_VARIANCE:
        return (*NULL_DISTRIBUTION, averaged)
    mean = max(float(np.mean(averaged[skip:])), MIN_MEAN)
    variance = max(float(np.var(averaged[skip:])), MIN_VARIANCE)
    return mean, float(np.sqrt(variance)), averaged


def anomaly_likelihood(
    raw_scores,
    values=None,
    *,
    learning_period: int = 288,
    estimation_samples: int = 100,
    historic_window: int = 8640,
    reestimation_period: int = 100,
    averaging_window: int = 10,
    two_sided: bool = False,
) -> np.ndarray:
    """The anomaly likelihood of each row (module docstring), in [0, 1], streaming: row ``t`` reads rows
    ``<= t``. ``raw_scores`` are a detector's raw anomaly scores in about [0, 1] (the lower bounds of the
    distribution assume that scale); ``values`` are the series' values (for the flat-metric rule; omit them
    to skip the rule); ``two_sided`` scores a short-term mean far below the usual as unusual too (see
    :func:`_tail`; NAB's HTM used the upper tail only). NAB's HTM detector uses ``learning_period = P // 2`` and
    ``estimation_samples = P - P // 2`` for NAB's probationary length ``P``."""
    raw = np.asarray(raw_scores, dtype=float)
    if raw.ndim != 1:
        raise InputError(f"raw_scores must be one score per row (1-D); got shape {raw.shape}.")
    if not np.isfinite(raw).all():
        raise InputError("raw_scores hold NaN or infinite values; score every row (fill a detector's unscored "
                         "history with 0) before the likelihood.")  # fmt: skip
    vals = np.arange(len(raw), dtype=float) if values is None else np.asarray(values, dtype=float)
    if vals.shape != raw.shape:
        raise InputError(f"values ({vals.shape}) and raw_scores ({raw.shape}) must have one entry per row.")
    for name, value in {"learning_period": learning_period, "estimation_samples": estimation_samples,
                        "reestimation_period": reestimation_period, "averaging_window": averaging_window}.items():
        if int(value) != value or value < (0 if name == "learning_period" else 1):
            raise InputError(f"{name} must be a whole number >= {0 if name == 'learning_period' else 1}; got {value}.")
    if historic_window < estimation_samples:
        raise InputError(f"historic_window ({historic_window}) must be at least estimation_samples "
                         f"({estimation_samples}).")  # fmt: skip
    probation = learning_period + estimation_samples
    out = np.full(len(raw), 0.5)
    recent: deque = deque(maxlen=averaging_window)
    mean = std = None
    previous = 1.0
    for t in range(probation, len(raw)):
        if mean is None or t % reestimation_period == 0:
            start = max(0, t - historic_window)
            skip = min(t, max(0, learning_period - start))
            mean, std, averaged = _estimate(raw[start:t], vals[start:t], skip, averaging_window)
            recent = deque(raw[max(start, t - averaging_window) : t], maxlen=averaging_window)
            previous = float(_tail(averaged[-1], mean, std, two_sided))
        recent.append(raw[t])
        tail = float(_tail(sum(recent) / len(recent), mean, std, two_sided))
        filtered = YELLOW_ZONE if tail <= RED_ZONE and previous <= RED_ZONE else tail
        previous = tail
        out[t] = 1.0 - filtered
    return out


def log_likelihood(likelihood) -> np.ndarray:
    """``log(1.0000000001 - L) / log(1e-10)``: the likelihood on a log scale in [0, 1], 0.0301 at L = 0.5. Floored
    at 0: at L = 0 (a short-term mean far below the usual) the formula gives -4e-12, which NAB would refuse."""
    return np.maximum(np.log(1.0000000001 - np.asarray(likelihood, dtype=float)) / LOG_DENOMINATOR, 0.0)


def spatial_novelty(values, tolerance: float = SPATIAL_TOLERANCE) -> np.ndarray:
    """True where a value lies beyond the range of the values before it by more than ``tolerance`` times that
    range (never while the range is a single value)."""
    vals = np.asarray(values, dtype=float)
    if vals.ndim != 1 or not np.isfinite(vals).all():
        raise InputError("spatial_novelty takes one finite value per row (1-D, no NaN).")
    if len(vals) < 2:
        return np.zeros(len(vals), dtype=bool)
    high = np.r_[np.nan, np.maximum.accumulate(vals)[:-1]]
    low = np.r_[np.nan, np.minimum.accumulate(vals)[:-1]]
    margin = (high - low) * tolerance
    with np.errstate(invalid="ignore"):
        novel = (high != low) & ((vals > high + margin) | (vals < low - margin))
    novel[0] = False
    return novel


def quiet_after(scores, rows: int, level: float = RED_LOG_SCORE) -> np.ndarray:
    """``scores`` with the ``rows`` rows after each row at or above ``level`` set to 0, unless they reach
    ``level`` themselves: one alarm, then quiet while the detector settles (ARTime's habit). Streaming: row
    ``t`` reads rows ``<= t``. ``level`` defaults to the log score of the red zone (likelihood 1 - 1e-5)."""
    out = np.asarray(scores, dtype=float).copy()
    if int(rows) != rows or rows < 0:
        raise InputError(f"rows must be a whole number >= 0; got {rows}.")
    quiet_until = -1
    for t in np.flatnonzero(out >= level) if rows else []:
        if t <= quiet_until:
            continue
        stop = min(t + rows, len(out) - 1)
        below = out[t + 1 : stop + 1] < level
        out[t + 1 : stop + 1][below] = 0.0
        quiet_until = stop
    return out


def likelihood_scores(raw_scores, values, probationary: int, *, spatial: bool = True, quiet: int = 0,
                      **kwargs) -> np.ndarray:  # fmt: skip
    """HTM's NAB score of a series: :func:`log_likelihood` of :func:`anomaly_likelihood` with NAB's periods for
    a ``probationary``-row start (``learning_period = P // 2``, ``estimation_samples = P - P // 2``), 1.0
    where :func:`spatial_novelty` fires (``spatial=True``), and with ``quiet > 0`` :func:`quiet_after` that
    many rows."""
    if probationary < 1:
        raise InputError(f"probationary must be at least 1 row; got {probationary}.")
    values = values.to_numpy(dtype=float) if isinstance(values, pd.Series) else np.asarray(values, dtype=float)
    learning = probationary // 2
    kwargs = {"learning_period": learning, "estimation_samples": probationary - learning, **kwargs}
    score = log_likelihood(anomaly_likelihood(raw_scores, values, **kwargs))
    score = np.where(spatial_novelty(values), 1.0, score) if spatial else score
    return quiet_after(score, quiet)
