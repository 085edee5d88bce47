"""Intervals and tests on score tables, against scipy and scikit-posthocs."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from anomalylab import reporting
from anomalylab.errors import InputError


def _rows(values: dict, on: str = "seed") -> pd.DataFrame:
    rows = []
    for model, vals in values.items():
        for k, v in enumerate(vals):
            key = {"seed": k} if on == "seed" else {"series": f"s{k}", "seed": 0}
            rows += reporting.result_rows({"f1": v}, dataset="toy", model=model, threshold_rule="r", **key)
    return pd.DataFrame(rows)


def test_t_interval_equals_scipys():
    values = np.array([0.61, 0.55, 0.58, 0.66, 0.52])
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert reporting.t_half_width(values.std(ddof=1), len(values)) == pytest.approx((high - low) / 2)
    assert np.isnan(reporting.t_half_width(0.1, 1))
    assert reporting.mean_ci(0.5, np.nan, 1) == "0.500"
    assert reporting.mean_ci(0.6, 0.1, 3) == f"0.600 ± {stats.t.ppf(0.975, 2) * 0.1 / np.sqrt(3):.3f}"


def test_wilcoxon_pairs_by_seed_and_equals_scipy():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.7, 0.05, 8), rng.normal(0.6, 0.05, 8)
    table = _rows({"a": a, "b": b})
    result = reporting.wilcoxon_test(table, "f1", ("A", {"model": "a"}), ("B", {"model": "b"}))
    assert result["pairs"] == 8 and result["p_value"] == pytest.approx(stats.wilcoxon(a, b).pvalue)
    assert result["mean_a"] == pytest.approx(a.mean()) and result["median_a_minus_b"] == pytest.approx(np.median(a - b))
    # a seed that one model lacks is left out of the pairs
    short = table[~((table["model"] == "b") & (table["seed"] == 7))]
    assert reporting.wilcoxon_test(short, "f1", ("A", {"model": "a"}), ("B", {"model": "b"}))["pairs"] == 7
    same = reporting.wilcoxon_test(_rows({"a": a, "b": a}), "f1", ("A", {"model": "a"}), ("B", {"model": "b"}))
    assert same["p_value"] == 1.0
    with pytest.raises(InputError, match="no 'f1' rows"):
        reporting.wilcoxon_test(table, "f1", ("A", {"model": "a"}), ("C", {"model": "c"}))


def test_a_deterministic_detector_pairs_with_every_seed():
    rng = np.random.default_rng(5)
    a = rng.normal(0.7, 0.05, 6)
    table = pd.concat([_rows({"a": a}), pd.DataFrame(reporting.result_rows({"f1": 0.6}, dataset="toy", model="pca",
                                                                            threshold_rule="r"))])  # fmt: skip
    result = reporting.wilcoxon_test(table, "f1", ("A", {"model": "a"}), ("PCA", {"model": "pca"}))
    assert result["pairs"] == 6 and result["mean_b"] == pytest.approx(0.6)
    assert result["p_value"] == pytest.approx(stats.wilcoxon(a - 0.6).pvalue)
    both = pd.concat([table, pd.DataFrame(reporting.result_rows({"f1": 0.7}, dataset="toy", model="ocsvm",
                                                                threshold_rule="r"))])  # fmt: skip
    alone = reporting.wilcoxon_test(both, "f1", ("PCA", {"model": "pca"}), ("OCSVM", {"model": "ocsvm"}))
    assert alone["pairs"] == 1 and np.isnan(alone["p_value"])


def test_rank_test_orders_detectors_and_its_cd_is_demsars():
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, 30)
    matrix = pd.DataFrame({"good": base + 0.3, "mid": base + 0.15 + rng.normal(0, 0.01, 30), "bad": base,
                           "noise": rng.uniform(0, 1, 30)})  # fmt: skip
    result = reporting.rank_test(matrix)
    assert result["ranks"].index[0] == "good" and result["ranks"]["mid"] < result["ranks"]["bad"]
    assert result["ranks"]["good"] == pytest.approx(1.0, abs=0.3)
    assert result["friedman_p"] < 1e-6
    # Demšar 2006, Table 5: q_0.05 for k = 4 is 2.569
    assert result["critical_difference"] == pytest.approx(2.569 * np.sqrt(4 * 5 / (6 * 30)), abs=1e-3)
    assert result["nemenyi"].loc["good", "bad"] < 0.05
    with pytest.raises(InputError, match="at least 3 detectors"):
        reporting.rank_test(matrix[["good", "bad"]])


def test_mann_whitney_test_is_scipys_unpaired_test_on_the_runs():
    from scipy import stats as scipy_stats

    rows = pd.DataFrame([{"model": m, "seed": s, "metric": "f2", "value": v}
                         for m, values in {"a": [0.61, 0.66, 0.58, 0.70, 0.64], "b": [0.55, 0.57, 0.60, 0.52]}.items()
                         for s, v in enumerate(values)])  # fmt: skip
    result = reporting.mann_whitney_test(rows, "f2", ("a", {"model": "a"}), ("b", {"model": "b"}))
    expected = scipy_stats.mannwhitneyu([0.61, 0.66, 0.58, 0.70, 0.64], [0.55, 0.57, 0.60, 0.52])
    assert result["p_value"] == pytest.approx(expected.pvalue) and result["paired_on"] == "unpaired"
    assert (result["runs_a"], result["runs_b"], result["pairs"]) == (5, 4, 4)
    # a seed of one model is no partner of the same seed of the other: shuffling one model's seeds changes nothing
    shuffled = rows.assign(seed=rows["seed"].where(rows["model"] == "a", rows["seed"][::-1].to_numpy()))
    assert reporting.mann_whitney_test(shuffled, "f2", ("a", {"model": "a"}), ("b", {"model": "b"}))["p_value"] == \
        result["p_value"]
    copied = pd.concat([rows, rows[rows["model"] == "b"]])  # a later table repeating b's runs counts them once
    assert reporting.mann_whitney_test(copied, "f2", ("a", {"model": "a"}), ("b", {"model": "b"}))["runs_b"] == 4
    same = rows.assign(value=0.5)
    assert reporting.mann_whitney_test(same, "f2", ("a", {"model": "a"}), ("b", {"model": "b"}))["p_value"] == 1.0
