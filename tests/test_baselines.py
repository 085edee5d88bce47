"""The classical baselines from maintained libraries: STL residual, matrix-profile discord, the spike rule, PyOD."""

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import NearestNeighbors

from anomalylab import datasets, reporting
from anomalylab.errors import InputError
from anomalylab.evaluation.series import score_series
from anomalylab.models.classical import PyODDetector
from anomalylab.models.series_baselines import MatrixProfileDiscord, RollingMedianResidual, STLResidual


def _seasonal(n=1200, period=24, seed=0):
    rng = np.random.default_rng(seed)
    return pd.Series(10 + 3 * np.sin(np.arange(n) * 2 * np.pi / period) + rng.normal(0, 0.2, n))


def test_stl_residual_finds_a_spike_and_reads_only_the_past():
    x = _seasonal()
    x[1000] += 4
    detector = STLResidual(24).fit(x[:800])
    scores = score_series(detector, x)
    assert scores.idxmax() == 1000 and scores.iloc[:24].isna().all() and scores.iloc[24:].notna().all()
    assert scores[1000] > 2 * scores.drop(1000).quantile(0.99)  # seasonal peaks are not anomalies
    changed = x.copy()
    changed[1100:] += 50
    # later values change nothing before them
    pd.testing.assert_series_equal(score_series(detector, changed)[:1100], scores[:1100])
    with pytest.raises(InputError, match="two periods"):
        STLResidual(24).fit(x[:40])


def _znorm_distance(a, b):
    za, zb = (a - a.mean()) / a.std(), (b - b.mean()) / b.std()
    return np.sqrt(np.sum((za - zb) ** 2))


def test_matrix_profile_is_the_nearest_training_subsequence_distance():
    x = _seasonal(n=300, seed=1)
    x[250] += 3
    m, n_train = 12, 150
    detector = MatrixProfileDiscord(m).fit(x[:n_train])
    scores = score_series(detector, x).to_numpy()
    values, train = x.to_numpy(), x.to_numpy()[:n_train]
    train_subs = [train[j : j + m] for j in range(n_train - m + 1)]
    for end in (200, 255, 299):  # subsequences after the training part: nearest training subsequence
        sub = values[end - m + 1 : end + 1]
        assert scores[end] == pytest.approx(min(_znorm_distance(sub, t) for t in train_subs), rel=1e-6)
    # inside the training part: the nearest other subsequence outside its trivial-match zone (stumpy: m / 4)
    start = 60
    zone = int(np.ceil(m / 4))
    others = [t for j, t in enumerate(train_subs) if abs(j - start) > zone]
    assert scores[start + m - 1] == pytest.approx(min(_znorm_distance(values[start : start + m], t) for t in others),
                                                  rel=1e-6)  # fmt: skip
    assert np.nanargmax(scores) in range(250, 250 + m)


def test_rolling_median_residual_is_the_spike_labelling_rule():
    values = _seasonal(n=500, seed=2)
    values[[100, 300]] += 8
    scores = RollingMedianResidual(11).fit(values[:300]).score_samples(values)
    labels = datasets.derive_spike_labels(values, window=11, n_spikes=2, min_gap_ratio=1.5)
    assert set(np.argsort(-scores)[:2]) == set(np.flatnonzero(labels))
    with pytest.raises(InputError, match="odd"):
        RollingMedianResidual(10)


def test_pyod_knn_is_the_distance_to_the_kth_neighbour_and_subsamples_by_seed():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(400, 5)), rng.normal(size=(50, 5))
    scores = PyODDetector("knn", n_neighbors=5, max_train_rows=None).fit(X).score_samples(Y)
    reference = NearestNeighbors(n_neighbors=5).fit(X).kneighbors(Y)[0][:, -1]
    np.testing.assert_allclose(scores, reference, rtol=1e-6)  # brute force vs tree: last bits differ
    a = PyODDetector("lof", max_train_rows=100, seed=0).fit(X).score_samples(Y)
    b = PyODDetector("lof", max_train_rows=100, seed=1).fit(X).score_samples(Y)
    assert not np.allclose(a, b)
    with pytest.raises(InputError, match="algorithm"):
        PyODDetector("iforest")


def test_ecod_reads_the_test_rows_so_its_rows_are_protocol():
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(300, 4)), rng.normal(size=(100, 4))
    ecod = PyODDetector("ecod").fit(X)
    alone = ecod.score_samples(Y[:10])
    with_others = ecod.score_samples(Y)[:10]
    assert not np.allclose(alone, with_others)  # the same rows score differently beside other test rows
    assert ecod.transductive
    rows = reporting.result_rows({"f1": 0.5}, dataset="toy", model="ecod", threshold_rule="val_q99")
    assert rows[0]["kind"] == "protocol"
    table = pd.DataFrame(rows).assign(kind="ours")
    with pytest.raises(InputError, match="other test rows"):
        reporting.check_table(table)
