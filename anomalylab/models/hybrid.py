"""Hybrid detector: K-Means on an autoencoder's latent codes, errors judged per cluster.

After the seed "Anomaly Detection in Network Traffic". An autoencoder learns
a code of normal rows; K-Means groups the codes. A row's score combines

- its reconstruction error, standardised **within its cluster** (median and
  interquartile range of the training rows' errors in that cluster: what is a
  large error for one kind of traffic is normal for another; a cluster of
  fewer than ``min_cluster_rows`` training rows uses all rows' statistics), and
- its distance to its centroid, standardised the same way,

as ``score = error_z + distance_weight * distance_z``. Per-cluster
("dynamic") thresholds come from :meth:`HybridKMeansAutoencoder.fit_thresholds`,
a quantile of the scores of training or validation rows of each cluster,
never of test rows. With ``dynamic_q`` set, ``fit`` fits them on the
validation rows (label-free) and ``score_samples`` returns the margin above
the row's own cluster threshold, so one global threshold of 0 is the
per-cluster rule and the scores plug into any evaluation loop.

:class:`SemiSupervisedHybrid` adds a few labelled anomalies: a logistic
regression on the hybrid's per-cluster scores, with or without oversampling
of the labelled anomalies (the seed's remedy for class imbalance, legitimate
only here, where labelled anomalies exist, and never in the training rows of
the autoencoder).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from anomalylab.errors import InputError
from anomalylab.models.autoencoders import DenseAutoencoder
from anomalylab.models.base import Detector
from anomalylab.preprocessing import as_samples


def _per_cluster(values: np.ndarray, clusters: np.ndarray, k: int, min_rows: int, stat) -> np.ndarray:
    """``stat`` of each cluster's values, one row per cluster; a cluster with fewer than ``min_rows`` rows
    (an empty one included) gets ``stat`` of all values (a handful of rows gives no stable statistic)."""
    overall = stat(values)
    return np.array([
        stat(v) if len(v := values[clusters == c]) >= max(min_rows, 1) else overall for c in range(k)
    ], dtype=float)  # fmt: skip


def _robust_stats(values: np.ndarray, clusters: np.ndarray, k: int, min_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster median and interquartile range (IQR floored at a tiny positive value: a tiny spread would
    make every row of that cluster look anomalous), with :func:`_per_cluster`'s fallback for small clusters."""

    def stats(v: np.ndarray) -> tuple[float, float]:
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
        return med, max(q3 - q1, 1e-9)

    out = _per_cluster(values, clusters, k, min_rows, stats)
    return out[:, 0], out[:, 1]


class HybridKMeansAutoencoder(Detector):
    """Autoencoder + K-Means with per-cluster normalised scores; see the module docstring."""

    def __init__(
        self,
        n_clusters: int = 8,
        latent_dim: int = 8,
        hidden: Sequence[int] = (64, 32),
        distance_weight: float = 0.5,
        epochs: int = 10,
        batch_size: int = 1024,
        dynamic_q: float | None = None,
        min_cluster_rows: int = 50,
        seed: int = 0,
        name: str = "hybrid_kmeans_ae",
    ):
        if n_clusters < 1:
            raise InputError(f"n_clusters must be at least 1, got {n_clusters}.")
        if distance_weight < 0:
            raise InputError(f"distance_weight must be non-negative, got {distance_weight}.")
        if dynamic_q is not None and not 0 < dynamic_q <= 1:
            raise InputError(f"dynamic_q must lie in (0, 1] or be None, got {dynamic_q}.")
        self.n_clusters, self.latent_dim, self.hidden = n_clusters, latent_dim, tuple(hidden)
        self.min_cluster_rows = min_cluster_rows
        self.distance_weight, self.epochs, self.batch_size, self.dynamic_q, self.seed, self.name = (
            distance_weight, epochs, batch_size, dynamic_q, seed, name,
        )  # fmt: skip

    def fit(self, X_train, X_val=None) -> HybridKMeansAutoencoder:
        """Fit the autoencoder (``X_val`` for early stopping), K-Means on the training codes, and the
        per-cluster statistics of errors and distances on the training rows; with ``dynamic_q``, the
        per-cluster thresholds on ``X_val`` (on ``X_train`` when there is no ``X_val``)."""
        X = self._check_train(X_train)
        self.autoencoder_ = DenseAutoencoder(
            hidden=self.hidden, latent_dim=self.latent_dim, epochs=self.epochs, batch_size=self.batch_size,
            seed=self.seed, name=f"{self.name}_ae",
        ).fit(X, X_val)  # fmt: skip
        return self._fit_clusters(X, X_val)

    def recluster(self, X_train, n_clusters: int, X_val=None) -> HybridKMeansAutoencoder:
        """A new hybrid with ``n_clusters`` clusters that shares this one's fitted autoencoder (a
        tuning grid over the number of clusters then trains one autoencoder per code size)."""
        if not hasattr(self, "autoencoder_"):
            raise InputError(f"{self.name} is not fitted; call .fit(X_train) first.")
        other = copy.copy(self)
        other.n_clusters = n_clusters
        other.__dict__.pop("thresholds_", None)
        return other._fit_clusters(other._check_train(X_train), X_val)

    def _check_train(self, X_train) -> np.ndarray:
        X = as_samples(X_train, 2, "X_train")
        if self.n_clusters < 1 or len(X) < self.n_clusters:
            raise InputError(f"{len(X)} training rows cannot fill {self.n_clusters} clusters.")
        return X

    def _fit_clusters(self, X: np.ndarray, X_val) -> HybridKMeansAutoencoder:
        from sklearn.cluster import KMeans

        codes = self.autoencoder_.encode(X)
        self.kmeans_ = KMeans(n_clusters=self.n_clusters, n_init=10, random_state=self.seed).fit(codes)
        clusters, error, distance = self._parts(X, codes)
        self.error_stats_ = _robust_stats(error, clusters, self.n_clusters, self.min_cluster_rows)
        self.distance_stats_ = _robust_stats(distance, clusters, self.n_clusters, self.min_cluster_rows)
        self.train_clusters_ = clusters
        if self.dynamic_q is not None:
            self.fit_thresholds(X if X_val is None else X_val, self.dynamic_q)
        return self

    def _parts(self, X: np.ndarray, codes: np.ndarray | None = None):
        codes = self.autoencoder_.encode(X) if codes is None else codes
        clusters = self.kmeans_.predict(codes)
        error = self.autoencoder_.score_samples(X)
        distance = np.linalg.norm(codes - self.kmeans_.cluster_centers_[clusters], axis=1)
        return clusters, error, distance

    def _check(self, X) -> np.ndarray:
        if not hasattr(self, "kmeans_"):
            raise InputError(f"{self.name} is not fitted; call .fit(X_train) first.")
        return as_samples(X, 2)

    def encode(self, X) -> np.ndarray:
        """The autoencoder's latent code of every row."""
        return self.autoencoder_.encode(self._check(X))

    def predict_cluster(self, X) -> np.ndarray:
        """The K-Means cluster of every row's code."""
        return self.kmeans_.predict(self.encode(X))

    def score_components(self, X) -> dict[str, np.ndarray]:
        """``cluster``, raw ``error`` and ``distance``, their per-cluster z-scores, and ``score``
        (``error_z + distance_weight * distance_z``, before any per-cluster threshold), per row."""
        clusters, error, distance = self._parts(self._check(X))
        (e_mid, e_iqr), (d_mid, d_iqr) = self.error_stats_, self.distance_stats_
        error_z = (error - e_mid[clusters]) / e_iqr[clusters]
        distance_z = (distance - d_mid[clusters]) / d_iqr[clusters]
        return {
            "cluster": clusters, "error": error, "distance": distance, "error_z": error_z, "distance_z": distance_z,
            "score": error_z + self.distance_weight * distance_z,
        }  # fmt: skip

    def _scores(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, clusters)`` of every row."""
        parts = self.score_components(X)
        return parts["score"], parts["cluster"]

    def score_samples(self, X) -> np.ndarray:
        """``error_z + distance_weight * distance_z`` (higher = more anomalous); with ``dynamic_q``,
        that minus the row's cluster threshold (flag where it is at least 0)."""
        scores, clusters = self._scores(X)
        if self.dynamic_q is None:
            return scores
        return scores - self.thresholds_[clusters]

    def fit_thresholds(self, X_ref, q: float = 0.99) -> np.ndarray:
        """Per-cluster thresholds: the ``q`` quantile of the scores of ``X_ref`` (training or validation
        rows, never test rows) in each cluster; a cluster with fewer than ``min_cluster_rows`` reference
        rows gets the quantile of all reference rows."""
        if not 0 < q <= 1:
            raise InputError(f"q must lie in (0, 1], got {q}.")
        scores, clusters = self._scores(X_ref)
        self.thresholds_ = _per_cluster(scores, clusters, self.n_clusters, self.min_cluster_rows,
                                        lambda v: np.quantile(v, q))  # fmt: skip
        return self.thresholds_

    def flag(self, X) -> np.ndarray:
        """0/1 flags with the per-cluster thresholds of :meth:`fit_thresholds`."""
        if not hasattr(self, "thresholds_"):
            raise InputError("no per-cluster thresholds yet; call .fit_thresholds(X_val) first.")
        scores, clusters = self._scores(X)
        return (scores >= self.thresholds_[clusters]).astype("int8")


class SemiSupervisedHybrid(Detector):
    """The hybrid, plus a logistic regression fitted on a few labelled anomalies.

    The autoencoder and K-Means see the training inliers only. The classifier
    reads each row's ``arcsinh(error_z)``, ``arcsinh(distance_z)`` and one-hot
    cluster, and learns from (at most ``max_inliers``) training inliers,
    labelled 0, and the ``labelled`` anomalies, labelled 1. ``oversample=True``
    draws the anomalies with replacement until both classes are the same size
    (the seed's remedy for imbalance). The score is the classifier's log-odds,
    so 0 is its own 0.5-probability boundary.
    """

    def __init__(self, labelled, oversample: bool = True, max_inliers: int = 20_000, seed: int = 0,
                 name: str = "hybrid_semi_supervised", **hybrid_params):  # fmt: skip
        self.labelled = as_samples(labelled, 2, "labelled")
        if len(self.labelled) < 1:
            raise InputError("labelled holds no anomalies; pass at least one labelled anomalous row.")
        self.oversample, self.max_inliers, self.seed, self.name = oversample, max_inliers, seed, name
        self.hybrid_params = hybrid_params

    def fit(self, X_train, X_val=None) -> SemiSupervisedHybrid:
        """Fit the hybrid on ``X_train`` (inliers), then the classifier on inliers and labelled anomalies."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.utils import resample

        X = as_samples(X_train, 2, "X_train")
        if X.shape[1] != self.labelled.shape[1]:
            raise InputError(f"labelled has {self.labelled.shape[1]} features, X_train {X.shape[1]}.")
        self.hybrid_ = HybridKMeansAutoencoder(seed=self.seed, name=f"{self.name}_hybrid",
                                               **self.hybrid_params).fit(X, X_val)  # fmt: skip
        rng = np.random.default_rng(self.seed)
        inliers = X if len(X) <= self.max_inliers else X[np.sort(rng.choice(len(X), self.max_inliers, replace=False))]
        anomalies = self.labelled
        if self.oversample:
            anomalies = resample(anomalies, n_samples=len(inliers), replace=True, random_state=self.seed)
        features = self._features(np.vstack([inliers, anomalies]))
        target = np.r_[np.zeros(len(inliers)), np.ones(len(anomalies))]
        self.class_counts_ = {"inliers": len(inliers), "anomalies": len(anomalies)}
        self.classifier_ = LogisticRegression(max_iter=1000).fit(features, target)
        return self

    def _features(self, X) -> np.ndarray:
        parts = self.hybrid_.score_components(X)
        onehot = np.eye(self.hybrid_.n_clusters)[parts["cluster"]]
        return np.column_stack([np.arcsinh(parts["error_z"]), np.arcsinh(parts["distance_z"]), onehot])

    def score_samples(self, X) -> np.ndarray:
        """Log-odds of "anomaly" (higher = more anomalous; 0 = probability 0.5)."""
        if not hasattr(self, "classifier_"):
            raise InputError(f"{self.name} is not fitted; call .fit(X_train) first.")
        return self.classifier_.decision_function(self._features(X))
