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


def test_dynamic_q_scores_are_margins_over_the_validation_thresholds():
    val = blobs(400, 8)
    model = HybridKMeansAutoencoder(n_clusters=3, latent_dim=3, hidden=(16,), epochs=30, batch_size=64,
                                    dynamic_q=0.9, seed=0).fit(blobs(1000, 0), val)  # fmt: skip
    test = np.vstack([blobs(200, 9), off_cluster(40, 10)])
    fitted = model.thresholds_.copy()
    np.testing.assert_array_equal(fitted, model.fit_thresholds(val, 0.9))  # they came from X_val
    np.testing.assert_array_equal(model.score_samples(test) >= 0, model.flag(test).astype(bool))
    assert np.mean(model.score_samples(val) >= 0) == pytest.approx(0.1, abs=0.03)


def test_recluster_shares_the_autoencoder_and_leaves_the_original_alone(hybrid):
    X = blobs(1500, 0)
    before = hybrid.kmeans_.cluster_centers_.copy()
    other = hybrid.recluster(X, 5)
    assert other.autoencoder_ is hybrid.autoencoder_
    assert other.kmeans_.cluster_centers_.shape[0] == 5 and len(np.unique(other.train_clusters_)) == 5
    np.testing.assert_array_equal(hybrid.kmeans_.cluster_centers_, before)
    assert hybrid.n_clusters == 3


def test_kmeans_distance_is_the_distance_to_the_nearest_centroid():
    from anomalylab.models.classical import KMeansDistance

    model = KMeansDistance(n_clusters=3, seed=0).fit(blobs(900, 0))
    test = np.vstack([blobs(200, 1), off_cluster(40, 2)])
    centres = model.model_.cluster_centers_
    by_hand = np.sqrt(((test[:, None, :] - centres[None]) ** 2).sum(-1)).min(axis=1)
    np.testing.assert_allclose(model.score_samples(test), by_hand, rtol=1e-5)
    assert roc_auc(np.r_[np.zeros(200), np.ones(40)], model.score_samples(test)) > 0.95


def test_semi_supervised_hybrid_learns_from_labelled_anomalies_with_and_without_oversampling():
    from anomalylab.models.hybrid import SemiSupervisedHybrid

    params = {"n_clusters": 3, "latent_dim": 3, "hidden": (16,), "epochs": 30, "batch_size": 64}
    labelled = off_cluster(15, 11)
    test = np.vstack([blobs(300, 12), off_cluster(60, 13)])
    labels = np.r_[np.zeros(300), np.ones(60)]
    plain = SemiSupervisedHybrid(labelled, oversample=False, **params).fit(blobs(1500, 0))
    over = SemiSupervisedHybrid(labelled, oversample=True, **params).fit(blobs(1500, 0))
    for model in (plain, over):
        assert roc_auc(labels, model.score_samples(test)) > 0.95
    assert plain.class_counts_ == {"inliers": 1500, "anomalies": 15}
    assert over.class_counts_ == {"inliers": 1500, "anomalies": 1500}  # drawn with replacement
    small = SemiSupervisedHybrid(labelled, max_inliers=400, **params).fit(blobs(1500, 0))
    assert small.class_counts_ == {"inliers": 400, "anomalies": 400}
    with pytest.raises(InputError, match="features"):
        SemiSupervisedHybrid(labelled[:, :4], **params).fit(blobs(200, 0))


def test_hold_out_labelled_and_tune_hybrid_read_validation_rows_only():
    from anomalylab.evaluation import TabularSplits, hold_out_labelled, tune_hybrid

    val = np.vstack([blobs(300, 14), off_cluster(60, 15)])
    splits = TabularSplits(
        protocol="toy", X_train=blobs(1200, 0), X_val=val, y_val=np.r_[np.zeros(300), np.ones(60)],
        X_test=np.full((10, 6), np.nan, dtype="float32"), y_test=np.zeros(10), test_rows=None, subsets=(),
        encoder=None, unseen_in_test={},
    )  # fmt: skip
    rest, taken = hold_out_labelled(splits, 20, seed=0)
    assert len(taken) == 20 and len(rest.y_val) == 340 and rest.y_val.sum() == 40
    assert not any((row == rest.X_val).all(axis=1).any() for row in taken)  # taken rows leave validation
    with pytest.raises(InputError, match="validation outliers"):
        hold_out_labelled(splits, 61)
    grid = tune_hybrid(rest, latent_dims=(2, 3), n_clusters=(2, 3), hidden=(16,), epochs=60, batch_size=64,
                       progress=False)  # fmt: skip
    assert list(zip(grid["latent_dim"], grid["n_clusters"])) == [(2, 2), (2, 3), (3, 2), (3, 3)]
    assert {"silhouette", "davies_bouldin", "calinski_harabasz", "val_roc_auc", "val_pr_auc"} <= set(grid.columns)
    assert grid["val_roc_auc"].max() > 0.95


def test_tiny_clusters_fall_back_to_the_statistics_of_all_rows():
    from anomalylab.models.hybrid import _robust_stats

    values = np.r_[np.random.default_rng(0).normal(10, 2, 500), [0.1, 0.2, 0.3]]
    clusters = np.r_[np.zeros(500, dtype=int), [1, 1, 1]]
    centre, spread = _robust_stats(values, clusters, 3, min_rows=50)
    q1, med, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    assert centre[1] == pytest.approx(med) and spread[1] == pytest.approx(q3 - q1)  # 3 rows: all rows' stats
    assert centre[2] == pytest.approx(med)  # an empty cluster too
    assert centre[0] == pytest.approx(np.median(values[:500]))  # a full cluster keeps its own
    centre, _ = _robust_stats(values, clusters, 3, min_rows=1)
    assert centre[1] == pytest.approx(0.2)


def test_hybrid_diagnosis_reports_each_part_and_where_the_misses_are(hybrid):
    from anomalylab.evaluation import hybrid_diagnosis

    test = np.vstack([blobs(300, 16), off_cluster(60, 17)])
    labels = np.r_[np.zeros(300), np.ones(60)]
    d = hybrid_diagnosis(hybrid, test, labels, blobs(600, 18), q=0.95)
    parts = hybrid.score_components(test)
    assert d["roc_auc_error"] == pytest.approx(roc_auc(labels, parts["error"]))
    assert d["roc_auc_score"] == pytest.approx(roc_auc(labels, hybrid.score_samples(test)))
    assert d["recall"] > 0.8 and 0 <= d["missed_there"] <= d["missed"] == round((1 - d["recall"]) * 60)
    assert d["worst_cluster_train_rows"] == np.sum(hybrid.train_clusters_ == d["worst_cluster"])
