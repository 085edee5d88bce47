"""Hybrid K-Means + autoencoder detector and cluster-quality metrics."""

import numpy as np
import pytest
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from anomalylab.errors import InputError
from anomalylab.metrics import cluster_quality, roc_auc
from anomalylab.models.hybrid import HybridKMeansAutoencoder


def blobs(n: int, seed: int) -> np.ndarray:
    """Normal rows from three tight clusters in 6-D."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(42).normal(0, 4, size=(3, 6))
    return (centres[rng.integers(0, 3, n)] + 0.3 * rng.normal(size=(n, 6))).astype("float32")


def off_cluster(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-8, 8, size=(n, 6)).astype("float32")


@pytest.fixture(scope="module")
def hybrid():
    return HybridKMeansAutoencoder(n_clusters=3, latent_dim=3, hidden=(16,), epochs=60, batch_size=64,
                                   seed=0).fit(blobs(1500, 0), blobs(300, 1))  # fmt: skip


def test_hybrid_flags_off_cluster_anomalies(hybrid):
    test = np.vstack([blobs(300, 2), off_cluster(60, 3)])
    labels = np.r_[np.zeros(300), np.ones(60)]
    assert roc_auc(labels, hybrid.score_samples(test)) > 0.95
    assert len(np.unique(hybrid.train_clusters_)) == 3


def test_per_cluster_thresholds_come_from_the_reference_rows_only(hybrid):
    ref = blobs(600, 4)
    thresholds = hybrid.fit_thresholds(ref, q=0.95)
    parts = hybrid.score_components(ref)
    scores = parts["error_z"] + hybrid.distance_weight * parts["distance_z"]
    for c in range(3):
        assert thresholds[c] == pytest.approx(np.quantile(scores[parts["cluster"] == c], 0.95))
    before = thresholds.copy()
    flags = hybrid.flag(np.vstack([blobs(300, 5), off_cluster(60, 6)]))  # flagging test rows changes nothing
    np.testing.assert_array_equal(hybrid.thresholds_, before)
    assert flags[300:].mean() > 0.8 and flags[:300].mean() < 0.15


def test_cluster_quality_agrees_with_scikit_learn():
    X = blobs(500, 7)
    labels = np.argmin(((X[:, None, :] - X[:3][None]) ** 2).sum(-1), axis=1)
    q = cluster_quality(X, labels, sample_size=None)
    assert q["silhouette"] == pytest.approx(silhouette_score(X, labels))
    assert q["davies_bouldin"] == pytest.approx(davies_bouldin_score(X, labels))
    assert q["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(X, labels))
    with pytest.raises(InputError, match="2 clusters"):
        cluster_quality(X, np.zeros(len(X)))


def test_hybrid_refuses_bad_input():
    with pytest.raises(InputError, match="n_clusters"):
        HybridKMeansAutoencoder(n_clusters=0)
    with pytest.raises(InputError, match="not fitted"):
        HybridKMeansAutoencoder().score_samples(blobs(5, 0))
    with pytest.raises(InputError, match="cannot fill"):
        HybridKMeansAutoencoder(n_clusters=10, epochs=1).fit(blobs(5, 0))
