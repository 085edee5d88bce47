import numpy as np
import pytest
from sklearn.metrics import fbeta_score

from anomalylab import thresholds as t


def test_label_free_rules():
    s = np.array([1.0, 2.0, 3.0, 4.0])
    assert t.mean_k_sigma(s, 2) == pytest.approx(2.5 + 2 * np.std(s))
    assert t.quantile_threshold(np.arange(101.0), 0.9) == pytest.approx(90.0)
    np.testing.assert_array_equal(t.apply_threshold([1, 2, 3], 2), [0, 1, 1])


def test_best_fbeta_is_the_best_over_all_cuts():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    s = rng.normal(size=400) + 1.5 * y
    for beta in (1.0, 2.0):
        thr, f = t.best_fbeta_threshold(s, y, beta)
        assert f == pytest.approx(fbeta_score(y, s >= thr, beta=beta))
        brute = max(fbeta_score(y, s >= c, beta=beta, zero_division=0) for c in np.unique(s))
        assert f == pytest.approx(brute)


def test_best_fbeta_refuses_labels_without_anomalies():
    with pytest.raises(ValueError, match="no anomaly"):
        t.best_fbeta_threshold([0.1, 0.2], [0, 0])
