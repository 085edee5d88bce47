import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, f1_score, fbeta_score, roc_auc_score

from anomalylab import metrics as m


def test_point_metrics_hand_computed():
    y = [0, 0, 1, 1, 1, 0, 0, 1]
    p = [0, 1, 1, 1, 0, 0, 0, 0]
    # tp=2, fp=1, fn=2 -> precision 2/3, recall 1/2
    r = m.point_metrics(y, p)
    assert r["precision"] == pytest.approx(2 / 3)
    assert r["recall"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert r["f2"] == pytest.approx(5 * (2 / 3) * 0.5 / (4 * 2 / 3 + 0.5))


def test_point_metrics_agree_with_sklearn_on_random_cases():
    rng = np.random.default_rng(1)
    for _ in range(20):
        y = rng.integers(0, 2, 200)
        p = rng.integers(0, 2, 200)
        r = m.point_metrics(y, p)
        assert r["f1"] == pytest.approx(f1_score(y, p))
        assert r["f2"] == pytest.approx(fbeta_score(y, p, beta=2))


def test_no_flags_gives_zero_not_error():
    r = m.point_metrics([0, 1, 1], [0, 0, 0])
    assert r == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "f2": 0.0}


def test_threshold_free_metrics_match_sklearn_and_nan_for_one_class():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    s = rng.normal(size=300) + y
    assert m.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert m.pr_auc(y, s) == pytest.approx(average_precision_score(y, s))
    assert np.isnan(m.roc_auc(np.zeros(5), np.arange(5)))
    assert np.isnan(m.pr_auc(np.zeros(5), np.arange(5)))


def test_event_metrics_hand_computed():
    #        events:   [2-4]         [9-10]          [14]
    y = np.array([0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0])
    # detections: [3-5] hits event 1, [7] false, [15] false (next to event 3, not in it)
    p = np.array([0, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    r = m.event_metrics(y, p)
    assert r["event_recall"] == pytest.approx(1 / 3)
    # composite F1: event recall with point-wise precision (2 of the 5 flags lie in events)
    assert r["event_f1"] == pytest.approx(2 * 0.4 * (1 / 3) / (0.4 + 1 / 3))
    assert m.runs(y) == [(2, 4), (9, 10), (14, 14)]


def test_event_metrics_one_flag_per_event_is_full_recall():
    y = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0])
    p = np.array([0, 0, 1, 0, 0, 0, 0, 1, 0])
    r = m.event_metrics(y, p)
    assert r["event_recall"] == 1.0 and r["event_f1"] == 1.0
    # point-wise recall is only 2/5 for the same flags
    assert m.point_metrics(y, p)["recall"] == pytest.approx(0.4)


# ----------------------------------------------------------------------------------------- NAB


def _corpus(n=1000):
    idx = pd.date_range("2020-01-01", periods=n, freq="5min")
    windows = [(idx[400], idx[449]), (idx[700], idx[759])]
    return idx, windows


def test_nab_perfect_detector_scores_100_and_null_scores_0():
    idx, windows = _corpus()
    perfect = np.zeros(len(idx))
    perfect[[400, 700]] = 1.0  # the first row of each window
    null = np.zeros(len(idx))
    for profile in m.NAB_PROFILES:
        assert m.nab_score([(perfect, idx, windows)], profile)["score"] == pytest.approx(100.0)
        assert m.nab_score([(null, idx, windows)], profile)["score"] == pytest.approx(0.0)


def test_nab_early_detection_beats_late_detection():
    idx, windows = _corpus()
    early, late = np.zeros(len(idx)), np.zeros(len(idx))
    early[[405, 705]] = 1
    late[[445, 755]] = 1
    s_early = m.nab_score([(early, idx, windows)], "standard", threshold=0.5)["score"]
    s_late = m.nab_score([(late, idx, windows)], "standard", threshold=0.5)["score"]
    assert 0 < s_late < s_early < 100


def test_nab_false_positive_cost_depends_on_profile():
    idx, windows = _corpus()
    scores = np.zeros(len(idx))
    scores[[400, 700, 200]] = 1  # both windows at their start, one FP before any window
    raw = {p: m.nab_score([(scores, idx, windows)], p, threshold=0.5)["raw_score"] for p in m.NAB_PROFILES}
    # an FP before the first window costs exactly fpWeight: 0.11 standard, 0.22 low-FP
    assert raw["standard"] == pytest.approx(2 - 0.11)
    assert raw["reward_low_FP_rate"] == pytest.approx(2 - 0.22)
    assert raw["reward_low_FN_rate"] == pytest.approx(2 - 0.11)
    # a missed window costs fnWeight: twice as much under reward_low_FN_rate
    one = np.zeros(len(idx))
    one[400] = 1
    raw_miss = {p: m.nab_score([(one, idx, windows)], p, threshold=0.5)["raw_score"] for p in m.NAB_PROFILES}
    assert raw_miss["standard"] == pytest.approx(0.0)
    assert raw_miss["reward_low_FN_rate"] == pytest.approx(-1.0)


def test_nab_fp_right_after_a_window_costs_less_than_far_away():
    idx, windows = _corpus()
    near, far = np.zeros(len(idx)), np.zeros(len(idx))
    near[[400, 700, 452]] = 1
    far[[400, 700, 600]] = 1
    s_near = m.nab_score([(near, idx, windows)], "standard", threshold=0.5)["raw_score"]
    s_far = m.nab_score([(far, idx, windows)], "standard", threshold=0.5)["raw_score"]
    assert s_far == pytest.approx(2 - 0.11)  # three window widths past: full FP cost
    assert s_far < s_near < 2


def test_nab_probationary_detections_are_ignored():
    idx, windows = _corpus()
    scores = np.zeros(len(idx))
    scores[[10, 400, 700]] = 1  # row 10 is inside the probationary 15 %
    assert m.nab_score([(scores, idx, windows)], threshold=0.5)["score"] == pytest.approx(100.0)


def _reference_nab_raw(scores, idx, windows, cost, threshold):
    """A direct, loop-based transcription of NAB v1.1's sweeper for one series."""
    import math

    def ss(x):
        return -1.0 if x >= 3.0 else 2 / (1 + math.exp(5 * x)) - 1.0

    ts = list(idx)
    n = len(ts)
    prob = min(math.floor(0.15 * n), 0.15 * 5000)
    max_tp = ss(-1.0)
    limits = list(windows)
    cur = None
    prev_right = prev_width = None
    points = []
    for i, (t, s) in enumerate(zip(ts, scores)):
        if limits and t == limits[0][0]:
            cur = limits.pop(0)
            right = ts.index(cur[1])
            width = right - ts.index(cur[0]) + 1
            name = str(cur[0])
        if cur is not None:
            w = ss(-(right - i + 1) / width) * cost["tpWeight"] / max_tp
            wname = name
        else:
            pos = 3.0 if prev_right is None else abs(prev_right - i) / (prev_width - 1)
            w = ss(pos) * cost["fpWeight"]
            wname = None
        if i >= prob:
            points.append((s, w, wname))
        if cur is not None and t == cur[1]:
            prev_right, prev_width, cur = i, width, None
    parts = {"fp": 0.0}
    for _, _, wname in points:
        if wname is not None:
            parts[wname] = -cost["fnWeight"]
    for s, w, wname in points:
        if s >= threshold:
            if wname is None:
                parts["fp"] += w
            else:
                parts[wname] = max(parts[wname], w)
    return sum(parts.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nab_matches_a_loop_transcription_of_nabs_sweeper(seed):
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2021-01-01", periods=800, freq="h")
    windows = [(idx[200], idx[239]), (idx[420], idx[431]), (idx[700], idx[760])]
    scores = np.round(rng.random(800), 2)
    sweep = m.nab_threshold_sweep([(scores, idx, windows)], "standard")
    for thr in [0.99, 0.95, 0.8, 0.5]:
        ours = m.nab_score([(scores, idx, windows)], "standard", threshold=thr)["raw_score"]
        ref = _reference_nab_raw(scores, idx, windows, m.NAB_PROFILES["standard"], thr)
        assert ours == pytest.approx(ref)
    best = m.nab_score([(scores, idx, windows)], "standard")
    assert best["raw_score"] == pytest.approx(sweep["raw_score"].max())
    ref_best = _reference_nab_raw(scores, idx, windows, m.NAB_PROFILES["standard"], best["threshold"])
    assert best["raw_score"] == pytest.approx(ref_best)


def test_nab_threshold_is_shared_across_the_corpus():
    idx, windows = _corpus()
    a, b = np.zeros(len(idx)), np.zeros(len(idx))
    a[[400, 700]] = 0.9
    b[[400, 700]] = 0.6
    b[[100, 200, 300]] = 0.7  # FPs above b's true detections
    result = m.nab_score([(a, idx, windows), (b, idx, windows)], "standard")
    # one threshold for both series: either keep b's FPs (<= 0.6) or lose b's windows (> 0.6)
    assert result["threshold"] in (0.9, 0.6)
    assert result["score"] < 100.0
