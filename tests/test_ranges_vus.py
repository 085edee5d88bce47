"""Range-based metrics, the composite event F1 and VUS against their reference implementations' own outputs.

The fixtures (tests/fixtures/metric_reference.json) were recorded by tests/fixtures/make_metric_fixtures.py with
TSB-AD 1.5 and prts 1.0.0.3 in a throwaway environment (both need numpy < 2); that script says how to redo it.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from anomalylab import metrics as m
from anomalylab.errors import InputError

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "metric_reference.json").read_text())
CASES = REFERENCE["cases"]


@pytest.mark.parametrize("k", range(len(CASES)))
def test_vus_equals_tsb_ad(k):
    c = CASES[k]
    ours = m.vus(c["labels"], c["scores"], window=c["window"])
    assert ours["vus_roc"] == pytest.approx(c["tsb_ad"]["vus_roc"], abs=1e-9)
    assert ours["vus_pr"] == pytest.approx(c["tsb_ad"]["vus_pr"], abs=1e-9)


@pytest.mark.parametrize("k", range(len(CASES)))
def test_range_and_event_f1_equal_tsb_ad(k):
    c = CASES[k]
    if all(c["flags"]):
        # TSB-AD finds ranges from the edges of np.diff, so a range that spans the whole series has none and its
        # range precision is 0 there; prts (checked below) and this module count it as one range
        assert c["tsb_ad"]["range_f1"] == 0.0 and m.range_metrics(c["labels"], c["flags"])["range_f1"] > 0
    else:
        ours = m.range_metrics(c["labels"], c["flags"])["range_f1"]
        assert ours == pytest.approx(c["tsb_ad"]["range_f1"], abs=1e-9)
    # TSB-AD adds 1e-15 to the denominator
    assert m.event_metrics(c["labels"], c["flags"])["event_f1"] == pytest.approx(c["tsb_ad"]["event_f1"], abs=1e-9)


@pytest.mark.parametrize("k", range(len(CASES)))
@pytest.mark.parametrize("cardinality", ["reciprocal", "one"])
def test_range_precision_recall_equal_prts(k, cardinality):
    c = CASES[k]
    ours = m.range_metrics(c["labels"], c["flags"], recall_alpha=0.2, cardinality=cardinality)
    assert ours["range_precision"] == pytest.approx(c["prts"][f"precision_{cardinality}"], abs=1e-9)
    assert ours["range_recall"] == pytest.approx(c["prts"][f"recall_{cardinality}"], abs=1e-9)


def test_the_fixtures_cover_what_they_claim():
    flags_all = [c for c in CASES if all(c["flags"])]
    assert flags_all, "a case flags every point"
    assert {c["window"] for c in CASES} >= {0, 100}
    assert any(c["labels"][0] == 1 and c["labels"][-1] == 1 for c in CASES), "ranges touching both ends"
    assert REFERENCE["made_with"]["TSB_AD"] == "1.5" and REFERENCE["made_with"]["prts"] == "1.0.0.3"


def test_flagging_everything_no_longer_scores_well():
    y = np.zeros(2000, dtype=int)
    for start in (300, 900, 1500):
        y[start : start + 40] = 1
    everything = np.ones_like(y)
    assert m.event_metrics(y, everything)["event_recall"] == 1.0
    assert m.range_metrics(y, everything)["range_recall"] == 1.0
    assert m.range_metrics(y, everything)["range_f1"] < 0.05  # precision = 6 % anomaly share / 3 ranges
    assert m.event_metrics(y, everything)["event_f1"] < 0.15  # precision = the 6 % anomaly share
    # flagging exactly the labelled points scores 1 on both
    assert m.range_metrics(y, y)["range_f1"] == pytest.approx(1.0)
    assert m.event_metrics(y, y)["event_f1"] == pytest.approx(1.0)


def test_vus_ranks_a_better_detector_higher_and_is_nan_without_labels():
    rng = np.random.default_rng(0)
    y = np.zeros(1000, dtype=int)
    y[400:450] = 1
    noise = rng.normal(size=1000)
    good, weak = m.vus(y, noise + 3 * y), m.vus(y, noise + 0.5 * y)
    assert good["vus_pr"] > weak["vus_pr"] and good["vus_roc"] > weak["vus_roc"]
    assert np.isnan(m.vus(np.zeros(50, dtype=int), rng.normal(size=50))["vus_pr"])
    with pytest.raises(InputError, match="NaN"):
        m.vus(y, np.r_[np.nan, noise[1:]])
    with pytest.raises(InputError, match="cardinality"):
        m.range_metrics(y, y, cardinality="many")
