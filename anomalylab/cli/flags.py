"""From scores to what a person acts on: the threshold (a label-free rule on the calibration part, a given number,
the ``top`` N rows or a ``contamination`` share of the file), the flagged rows grouped into intervals with their
peak and severity, and a warning when the scored part leaves the range the threshold was calibrated on."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from anomalylab import thresholds
from anomalylab.errors import InputError
from anomalylab.metrics.ranges import runs

DRIFT_SHARE = 0.05  # warn when more than this share of the scored rows (and 5 times what chance gives) score at or
# above every calibration row: with n calibration rows about 1 / (n + 1) of them would if nothing changed
INTERVAL_COLUMNS = ["start", "end", "rows", "peak_time", "peak_score", "severity", "part"]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 row``, ``2 rows``: the count with its noun."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def calibration_threshold(scores: pd.Series, rule: str, q: float, k: float) -> float:
    """The label-free threshold on the calibration part's scores (``rule``: quantile or mean_k_sigma)."""
    scores = scores.dropna()
    if not len(scores):
        raise InputError("the calibration part got no score (it is shorter than the detector's history); "
                         "raise --fit-fraction or --calibration-fraction, or lower --lookback.")  # fmt: skip
    return thresholds.quantile_threshold(scores, q) if rule == "quantile" else thresholds.mean_k_sigma(scores, k)


def top_count(scores: pd.Series, top: int | None = None, contamination: float | None = None) -> int:
    """How many rows ``--top`` or ``--contamination`` ask to flag, among the rows with a score."""
    scored = int(scores.notna().sum())
    if contamination is not None:  # its range is checked with the other arguments
        return max(1, math.ceil(contamination * scored))
    if top > scored:
        raise InputError(f"--top {top} asks for more rows than have a score ({scored:,}); choose a smaller --top.")
    return top


def top_threshold(scores: pd.Series, n: int) -> tuple[float, bool, str | None]:
    """(threshold, strict, note): the n-th highest score, flagging at or above it. Where scores tie there, flagging
    at it would flag more than n rows: then only the rows strictly above it are flagged (never more than asked), and
    the note says so."""
    values = scores.dropna().to_numpy(float)
    threshold = float(np.sort(values)[-n])
    if int((values >= threshold).sum()) <= n:
        return threshold, False, None
    note = (f"note: {plural(int((values == threshold).sum()), 'row')} score exactly {threshold:.6g}, the "
            f"{ordinal(n)} highest score (ties); only the rows above it are flagged "
            f"({plural(int((values > threshold).sum()), 'row')}), never more than asked.")  # fmt: skip
    return threshold, True, note


def intervals(scores: pd.Series, flags: pd.Series, threshold: float, part: np.ndarray, reference: pd.Series,
              merge: int = 0, attribution: pd.DataFrame | None = None) -> pd.DataFrame:
    """Flagged rows as intervals, like Orion's ``detect``: consecutive flagged rows (and runs at most ``merge``
    unflagged rows apart) form one interval with its first and last time, its number of rows, the time and score of
    its peak, the part of the file the peak lies in, and a severity: how far the peak rises above the threshold in
    units of the gap between the typical (median) reference score and the threshold (0 at the threshold, 1 when
    the peak is twice as far from the typical score as the threshold). With ``attribution`` (each column's own part
    of the score) also ``top_column``: the column that contributes most at the peak. Most severe first."""
    if merge < 0:
        raise InputError(f"--merge must be a number of rows, 0 or more; got {merge}.")
    spans = runs(flags.to_numpy())
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start - merged[-1][1] - 1 <= merge:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    typical = float(np.nanmedian(reference.to_numpy(float))) if reference.notna().any() else np.nan
    gap = threshold - typical
    values = scores.to_numpy(float)
    rows = []
    for start, end in merged:
        peak = start + int(np.nanargmax(values[start : end + 1]))
        rows.append({
            "start": scores.index[start], "end": scores.index[end], "rows": end - start + 1,
            "peak_time": scores.index[peak], "peak_score": values[peak],
            "severity": (values[peak] - threshold) / gap if gap > 0 else np.nan, "part": part[peak],
        })  # fmt: skip
        if attribution is not None:
            rows[-1]["top_column"] = str(attribution.iloc[peak].idxmax())
    table = pd.DataFrame(rows, columns=INTERVAL_COLUMNS + (["top_column"] if attribution is not None else []))
    return table.sort_values(["severity", "peak_score"], ascending=False, kind="stable").reset_index(drop=True)


def drift_warning(scores: pd.Series, calibration: pd.Series, flags: pd.Series, scored: np.ndarray) -> str | None:
    """A warning when the scored part leaves the calibration range: more than :data:`DRIFT_SHARE` of its rows, and
    more than 5 times the 1 / (n + 1) that chance gives with n calibration rows, score at or above the highest
    calibration score (a detector whose score saturates out of range gives them all that score). The series has
    then moved (a trend, a level or a spread) since the part the threshold was set on, and the flags mark the
    change more than isolated anomalies. None otherwise."""
    top = calibration.dropna()
    part = scores[scored].dropna()
    if not len(top) or not len(part):
        return None
    above = float((part >= top.max()).mean())
    chance = 1 / (len(top) + 1)
    if above <= max(DRIFT_SHARE, 5 * chance):
        return None
    flagged = int(flags[scored].sum())
    return (f"warning: the scored part has left the calibration range: {above:.1%} of its "
            f"{plural(len(part), 'row')} score at or above every calibration row, where about {chance:.1%} would "
            f"if the series behaved as in the calibration part ({plural(len(top), 'row')}); "
            f"{plural(flagged, 'row')} ({flagged / int(scored.sum()):.1%} of the scored part) are flagged. The "
            "series has probably changed since then (a trend, a level or a spread), so the flags mark that change "
            "rather than isolated anomalies. For a trending series try --difference; or fit on more of the file "
            "(--fit-fraction).")  # fmt: skip
