"""The anomaly likelihood against NAB's shipped HTM scores, and its streaming behaviour."""

import numpy as np
import pandas as pd
import pytest

from anomalylab import datasets
from anomalylab.errors import InputError
from anomalylab.models import SpatialNovelty
from anomalylab.models.likelihood import (
    RED_LOG_SCORE,
    anomaly_likelihood,
    likelihood_scores,
    log_likelihood,
    quiet_after,
    spatial_novelty,
)


@pytest.fixture(scope="module")
def numenta():
    """NAB's numenta detector on all 58 series: its raw HTM score and the anomaly_score it shipped."""
    return datasets.load_nab_detector_results("numenta", raw=True)


def test_reproduces_nab_numenta_scores_on_every_series(numenta):
    """HTM's raw score through the likelihood, log scale and spatial rule gives NAB's shipped anomaly_score on
    every row of every series (366k rows; the files keep 12 significant digits)."""
    worst = {}
    for name, one in numenta.groupby("series", sort=False):
        ours = likelihood_scores(one["raw_score"], one["value"], datasets.nab_probationary_length(len(one)))
        worst[name] = float(np.max(np.abs(ours - one["anomaly_score"].to_numpy())))
    assert len(worst) == 58
    assert max(worst.values()) < 1e-10, sorted(worst.items(), key=lambda kv: kv[1])[-3:]


def test_the_parts_matter(numenta):
    """Without the spatial rule, or with the reflected (two-sided) tail, the shipped scores are not reproduced:
    the reference test above can fail."""
    one = numenta[numenta["series"] == "realKnownCause/nyc_taxi"]
    probation = datasets.nab_probationary_length(len(one))
    shipped = one["anomaly_score"].to_numpy()
    no_spatial = likelihood_scores(one["raw_score"], one["value"], probation, spatial=False)
    assert np.abs(no_spatial - shipped).max() > 0.5
    other_window = likelihood_scores(one["raw_score"], one["value"], probation, averaging_window=5)
    assert np.abs(other_window - shipped).max() > 1e-3
    two_sided = likelihood_scores(one["raw_score"], one["value"], probation, two_sided=True)
    assert np.abs(two_sided - shipped).max() > 1e-3


def test_two_sided_tail_sees_a_fall():
    """An error level that falls (a flatline the forecaster now predicts perfectly) is unusual only with the
    two-sided tail; where the short-term mean is at or above the usual, both tails give the same likelihood."""
    rng = np.random.default_rng(1)
    raw = np.r_[0.3 + 0.05 * rng.standard_normal(600), np.zeros(100)].clip(0, 1)
    values = rng.normal(size=700)
    upper = anomaly_likelihood(raw, values, learning_period=100, estimation_samples=100)
    both = anomaly_likelihood(raw, values, learning_period=100, estimation_samples=100, two_sided=True)
    assert upper[600:].max() < 0.5 and both[600:].max() > 0.999  # the fall is seen by the two-sided tail only
    usual_or_higher = upper >= 0.5  # a short-term mean at or above the usual: the reflection changes nothing
    np.testing.assert_array_equal(both[usual_or_higher], upper[usual_or_higher])
    assert (both >= upper).all() and (both > upper).sum() > 100  # below the usual, the reflected tail is smaller


def test_streaming_prefix_and_probation():
    """Row t reads rows <= t only: the scores of a prefix are the prefix of the scores. The probationary rows
    score 0.5 (log scale 0.0301)."""
    rng = np.random.default_rng(0)
    raw = rng.random(1500) * 0.2
    raw[1200] = 1.0
    values = rng.normal(size=1500)
    full = anomaly_likelihood(raw, values, learning_period=100, estimation_samples=100)
    part = anomaly_likelihood(raw[:1250], values[:1250], learning_period=100, estimation_samples=100)
    np.testing.assert_array_equal(full[:1250], part)
    assert (full[:200] == 0.5).all()
    assert np.isclose(log_likelihood(0.5), 0.0301029995664, atol=1e-12)
    assert log_likelihood(0.0) == 0.0 and log_likelihood(1.0) == 1.0  # never below 0 (NAB refuses it)
    assert 1200 <= int(np.argmax(full)) < 1210 and full.max() > 0.99  # the spike, through the 10-row mean


def test_red_zone_run_is_reported_once():
    """A run of red-zone rows: the first keeps its likelihood, the rest are held at the yellow level 0.999."""
    raw = np.r_[np.full(400, 0.05), np.ones(20), np.full(40, 0.05)]
    out = anomaly_likelihood(raw, np.arange(len(raw), dtype=float), learning_period=100, estimation_samples=100,
                             reestimation_period=1000)  # fmt: skip
    red = np.flatnonzero(out >= 1 - 1e-5)
    assert len(red) == 1
    assert np.isclose(out[red[0] + 1], 0.999)


def test_flat_metric_is_never_unusual():
    """A constant metric gets the broad null distribution: every likelihood stays near 0.5."""
    raw = np.r_[np.zeros(300), np.ones(50)]
    out = anomaly_likelihood(raw, np.ones(350), learning_period=100, estimation_samples=100)
    assert np.abs(out - 0.5).max() < 1e-3


def test_spatial_novelty():
    values = np.array([5.0, 5.0, 6.0, 6.04, 6.1, 4.9, 4.94, 10.0])
    # 6.0: the range so far is one value; 6.04: within 5 % of [5, 6]; 6.1: beyond [5, 6.04] + 0.052;
    # 4.9: below [5, 6.1] - 0.055; 4.94: within [4.9, 6.1] - 0.06; 10: beyond
    assert spatial_novelty(values).tolist() == [False, False, False, False, True, True, False, True]


def test_spatial_novelty_detector_is_htms_rule_alone(numenta):
    """Fitted on a series' probationary rows and scoring the whole series (as NAB runs it), the detector flags on
    the scored rows exactly what the spatial rule flags, and NAB's shipped HTM score is 1 on each of them."""
    flagged = 0
    for _, one in numenta.groupby("series", sort=False):
        probation = datasets.nab_probationary_length(len(one))
        values = one["value"].reset_index(drop=True)
        scores = SpatialNovelty().fit(values.iloc[:probation]).score_samples(values).to_numpy()
        rule = spatial_novelty(values.to_numpy())
        np.testing.assert_array_equal(scores[probation:], rule[probation:].astype(float))
        assert set(np.unique(scores)) <= {0.0, 1.0}
        assert (one["anomaly_score"].to_numpy()[probation:][rule[probation:]] == 1.0).all()
        flagged += int(scores[probation:].sum())
    assert flagged > 50


def test_spatial_novelty_detector_starts_from_the_training_range():
    detector = SpatialNovelty().fit(pd.Series([0.0, 10.0, 5.0]))
    # 9 and 10.4 lie within [0, 10] + 0.5; 11 beyond [0, 10.4] + 0.52; -0.6 below [0, 11] - 0.55; flat training
    # data: the range is one value, so nothing is novel until the series itself widens it
    assert detector.score_samples(pd.Series([9.0, 10.4, 11.0, -0.6])).tolist() == [0.0, 0.0, 1.0, 1.0]
    flat = SpatialNovelty().fit(pd.Series([3.0] * 20))
    assert flat.score_samples(pd.Series([3.0] * 10)).tolist() == [0.0] * 10
    assert flat.score_samples(pd.Series([3.0, 4.0, 9.0])).tolist() == [0.0, 0.0, 1.0]
    assert SpatialNovelty(tolerance=0.5).fit(pd.Series([0.0, 10.0])).score_samples(pd.Series([14.0])).tolist() == [0.0]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: SpatialNovelty(tolerance=-0.1), "tolerance must be"),
    (lambda: SpatialNovelty(tolerance=float("nan")), "tolerance must be"),
    (lambda: SpatialNovelty().fit(pd.Series([1.0, np.nan])), "NaN or infinite"),
    (lambda: SpatialNovelty().fit(pd.Series([1.0, 2.0])).score_samples(pd.Series([1.0, np.inf])), "NaN or infinite"),
    (lambda: SpatialNovelty().score_samples(pd.Series([1.0, 2.0])), "not fitted"),
])  # fmt: skip
def test_spatial_novelty_detector_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_quiet_after_an_alarm():
    scores = np.array([0.1, 0.6, 0.3, 0.7, 0.2, 0.2, 0.2, 0.9, 0.1])
    # the alarm at 1 silences rows 2-4 below the level (3 stays: an alarm of its own); the one at 7 silences 8
    np.testing.assert_array_equal(quiet_after(scores, 3), [0.1, 0.6, 0, 0.7, 0, 0.2, 0.2, 0.9, 0])
    np.testing.assert_array_equal(quiet_after(scores, 0), scores)
    assert np.isclose(RED_LOG_SCORE, 0.5, atol=1e-6)  # the red zone's likelihood 1 - 1e-5 on the log scale
    np.testing.assert_array_equal(quiet_after(scores[:5], 3), quiet_after(scores, 3)[:5])  # streaming


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: anomaly_likelihood([0.1, np.nan]), "NaN"),
        (lambda: anomaly_likelihood(np.zeros((3, 2))), "1-D"),
        (lambda: anomaly_likelihood([0.1, 0.2], [1.0]), "one entry per row"),
        (lambda: anomaly_likelihood([0.1], reestimation_period=0), "reestimation_period"),
        (lambda: anomaly_likelihood([0.1], estimation_samples=50, historic_window=10), "historic_window"),
        (lambda: spatial_novelty([1.0, np.nan]), "finite"),
        (lambda: likelihood_scores([0.1], [1.0], 0), "probationary"),
        (lambda: quiet_after([0.1, 0.9], -1), "rows"),
        (lambda: datasets.load_nab_detector_results("ARTime", ["realKnownCause/nyc_taxi"], raw=True), "raw_score"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()
