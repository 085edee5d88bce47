"""The NAB score (NAB v1.1: Lavin & Ahmad 2015, arXiv:1510.03336, and NAB's ``nab/sweeper.py``).

Every window rewards its earliest detection on a scaled sigmoid, every detection outside a window costs
``fpWeight`` (less just after a window), every missed window costs ``fnWeight``; the first 15 % of rows (at most
750) are a probationary period that is not scored; the corpus score is normalised so that the null detector
scores 0 and the perfect one 100, at the single threshold that maximises the corpus's raw score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from anomalylab.datasets import nab_probationary_length
from anomalylab.datasets.checks import check_window_timezones
from anomalylab.errors import InputError

NAB_PROFILE_METRIC = {
    "standard": "nab_standard",
    "reward_low_FP_rate": "nab_low_fp",
    "reward_low_FN_rate": "nab_low_fn",
}
# NAB's config/profiles.json, for use without the data files.
NAB_PROFILES = {
    "standard": {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 1.0, "tnWeight": 1.0},
    "reward_low_FP_rate": {"tpWeight": 1.0, "fpWeight": 0.22, "fnWeight": 1.0, "tnWeight": 1.0},
    "reward_low_FN_rate": {"tpWeight": 1.0, "fpWeight": 0.11, "fnWeight": 2.0, "tnWeight": 1.0},
}


def _scaled_sigmoid(position: np.ndarray) -> np.ndarray:
    """NAB's scaled sigmoid: 2 * sigmoid(-5 x) - 1, and -1 from x >= 3 on."""
    return np.where(position >= 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * position)) - 1.0)


def _check_profile(profile) -> dict[str, float]:
    if isinstance(profile, str):
        if profile not in NAB_PROFILES:
            raise InputError(f"unknown NAB profile {profile!r}; choose one of {sorted(NAB_PROFILES)}.")
        return NAB_PROFILES[profile]
    missing = {"tpWeight", "fpWeight", "fnWeight"} - set(profile)
    if missing:
        raise InputError(f"a NAB cost matrix needs {sorted(missing)}.")
    return profile


def nab_sweep_scores(index, windows: Sequence[tuple], profile="standard", probation_percent: float = 0.15):
    """Per-row NAB weights of one series.

    Returns ``(sweep, window_id)``: ``sweep`` is what a detection at that row
    earns (positive in a window, negative outside), ``window_id`` is the
    window's number (0, 1, ...), -1 outside windows, -2 in the probationary
    period (not scored). ``index`` holds the rows' timestamps in file order
    (NAB's files repeat a timestamp here and there; rows are what count).
    """
    cost = _check_profile(profile)
    index = pd.Index(index)
    stamps = index.to_numpy()
    backward = int((stamps[1:] < stamps[:-1]).sum())
    if backward > max(1, 0.01 * len(index)):  # NAB's own machine_temperature file steps back once: kept as NAB does
        raise InputError("the rows' timestamps are not in time order (reversed or shuffled), so NAB's windows and "
                         "probationary period would cover the wrong rows; sort the series by time first.")
    if isinstance(index, pd.DatetimeIndex):
        check_window_timezones(index, windows)
    n = len(index)
    positions = np.arange(n)
    window_id = np.full(n, -1)
    bounds = []
    for k, (start, end) in enumerate(windows):
        # like NAB: a window runs from the row of its start to the row of its end, in file order
        inside = np.flatnonzero((index >= start) & (index <= end))
        if inside.size == 0:
            raise InputError(f"window {k} ({start} .. {end}) holds no row of the series.")
        left, right = int(inside[0]), int(inside[-1])
        window_id[left : right + 1] = k
        bounds.append((left, right))
    sweep = np.full(n, -1.0 * cost["fpWeight"])
    max_tp = float(_scaled_sigmoid(np.array(-1.0)))
    prev_right = np.full(n, -1)
    prev_width = np.ones(n)
    for left, right in bounds:
        width = right - left + 1
        inside = slice(left, right + 1)
        position = -(right - positions[inside] + 1) / width
        sweep[inside] = _scaled_sigmoid(position) * cost["tpWeight"] / max_tp
        prev_right[right + 1 :] = right
        prev_width[right + 1 :] = width
    after = (window_id == -1) & (prev_right >= 0)
    past = np.abs(prev_right[after] - positions[after]) / np.maximum(prev_width[after] - 1, 1)
    sweep[after] = _scaled_sigmoid(past) * cost["fpWeight"]
    window_id[: nab_probationary_length(n, probation_percent)] = -2
    return sweep, window_id


def _nab_parts(series: Iterable, profile, probation_percent: float):
    """Concatenate scorable rows of many series with corpus-wide window numbers."""
    all_scores, all_sweep, all_ids = [], [], []
    offset = 0
    for scores, index, windows in series:
        scores = np.asarray(scores, dtype=float).ravel()
        if len(scores) != len(index):
            raise InputError(f"scores ({len(scores)}) and index ({len(index)}) differ in length.")
        if not np.isfinite(scores).all():
            raise InputError("anomaly scores hold NaN or infinite values; NAB needs a score for every row.")
        sweep, ids = nab_sweep_scores(index, windows, profile, probation_percent)
        keep = ids != -2
        ids = np.where(ids >= 0, ids + offset, ids)
        offset += len(windows)
        all_scores.append(scores[keep])
        all_sweep.append(sweep[keep])
        all_ids.append(ids[keep])
    if not all_scores:
        raise InputError("no series given to score.")
    return np.concatenate(all_scores), np.concatenate(all_sweep), np.concatenate(all_ids)


def _sweep_table(scores, sweep, ids, cost) -> tuple[pd.DataFrame, int]:
    """Raw corpus score at every candidate threshold, and the number of scored windows."""
    n_windows = len(np.unique(ids[ids >= 0]))
    base = -cost["fnWeight"] * n_windows
    order = np.argsort(-scores, kind="stable")
    s, sw, w = scores[order], sweep[order], ids[order]
    contrib = np.where(w == -1, sw, 0.0)
    in_win = w >= 0
    if in_win.any():
        frame = pd.DataFrame({"w": w[in_win], "sw": sw[in_win]})
        best = np.maximum(frame.groupby("w")["sw"].cummax(), -cost["fnWeight"])
        before = best.groupby(frame["w"]).shift(1).fillna(-cost["fnWeight"])
        contrib[in_win] = (best - before).to_numpy()
    total = base + np.cumsum(contrib)
    last = np.r_[s[1:] != s[:-1], True] if len(s) else np.array([], dtype=bool)
    table = pd.DataFrame({"threshold": np.r_[np.inf, s[last]], "raw_score": np.r_[base, total[last]]})
    return table, n_windows


def nab_threshold_sweep(series: Iterable, profile="standard", probation_percent: float = 0.15) -> pd.DataFrame:
    """NAB's raw corpus score at every candidate threshold (NAB's ``calcScoreByThreshold``).

    ``series`` yields ``(scores, index, windows)`` per series. Returns a frame
    with ``threshold`` (descending, starting at +inf = no detection) and
    ``raw_score``; a row is flagged when its score is >= the threshold.
    """
    cost = _check_profile(profile)
    return _sweep_table(*_nab_parts(series, profile, probation_percent), cost)[0]


def nab_score(
    series: Iterable, profile="standard", threshold: float | None = None, probation_percent: float = 0.15
) -> dict[str, float]:
    """The normalised NAB score of a corpus (one or many series) under one profile.

    ``series`` yields ``(scores, index, windows)``. With ``threshold=None`` the
    threshold is optimised as NAB's runner does: the one that maximises the raw
    score summed over the whole corpus (ties go to the highest threshold).
    Returns ``score`` (null detector 0, perfect 100), ``raw_score``,
    ``threshold``, and the null and perfect raw scores.
    """
    cost = _check_profile(profile)
    sweep, n_windows = _sweep_table(*_nab_parts(series, profile, probation_percent), cost)
    if n_windows == 0:
        raise InputError("the corpus has no scorable anomaly window; the NAB score is undefined.")
    return _normalised(sweep, n_windows, cost, threshold)


def _normalised(sweep: pd.DataFrame, n_windows: int, cost: dict, threshold: float | None) -> dict[str, float]:
    """The score of a sweep table at ``threshold`` (None: the best one), normalised by null and perfect."""
    if threshold is None:
        row = sweep.loc[sweep["raw_score"].idxmax()]
    else:
        if isinstance(threshold, bool) or np.isnan(float(threshold)):  # +inf is legitimate: flag nothing
            raise InputError(f"threshold must be a number, not NaN (or None to optimise it), got {threshold!r}.")
        # rows flagged at `threshold` are those with score >= threshold
        candidates = sweep[sweep["threshold"] >= threshold]
        row = candidates.iloc[-1]
    null = -cost["fnWeight"] * n_windows
    perfect = cost["tpWeight"] * n_windows
    return {
        "score": float(100 * (row["raw_score"] - null) / (perfect - null)),
        "raw_score": float(row["raw_score"]),
        "threshold": float(threshold if threshold is not None else row["threshold"]),
        "null_raw": float(null),
        "perfect_raw": float(perfect),
    }


def nab_series_scores(
    series: Mapping[str, tuple], profile="standard", threshold: float = 0.5, probation_percent: float = 0.15
) -> dict[str, float]:
    """The normalised NAB score of each series on its own at one fixed ``threshold`` (for a corpus, the
    threshold chosen for the whole corpus): ``{name: score}``, NaN for a series without a scorable window.

    ``series`` maps a name to ``(scores, index, windows)``. Per-series scores are what rank tests over series
    compare; they are not the corpus score (which sums raw scores before normalising).
    """
    cost = _check_profile(profile)
    out = {}
    for name, part in series.items():
        sweep, n_windows = _sweep_table(*_nab_parts([part], profile, probation_percent), cost)
        # no window, or every window inside the probationary period: no score
        out[name] = _normalised(sweep, n_windows, cost, threshold)["score"] if n_windows else float("nan")
    return out
