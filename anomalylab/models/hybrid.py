"""Hybrid detector: K-Means on an autoencoder's latent codes, errors judged per cluster.

After the seed "Anomaly Detection in Network Traffic". An autoencoder learns
a code of normal rows; K-Means groups the codes. A row's score combines

- its reconstruction error, standardised **within its cluster** (median and
  interquartile range of the training rows' errors in that cluster: what is a
  large error for one kind of traffic is normal for another), and
- its distance to its centroid, standardised the same way,

as ``score = error_z + distance_weight * distance_z``. Per-cluster
("dynamic") thresholds come from :meth:`HybridKMeansAutoencoder.fit_thresholds`,
a quantile of the scores of training or validation rows of each cluster,
never of test rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from anomalylab.errors import InputError
from anomalylab.models.autoencoders import DenseAutoencoder
from anomalylab.preprocessing import as_samples


def _robust_stats(values: np.ndarray, clusters: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster median and interquartile range (IQR floored at a tiny positive value)."""
    centre, spread = np.zeros(k), np.ones(k)
    for c in range(k):
        v = values[clusters == c]
        if len(v):
            q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75])
            centre[c], spread[c] = med, max(q3 - q1, 1e-9)
    return centre, spread


class HybridKMeansAutoencoder:
    """Autoencoder + K-Means with per-cluster normalised scores; see the module docstring."""

    def __init__(
        self,
        n_clusters: int = 8,
        latent_dim: int = 8,
        hidden: Sequence[int] = (64, 32),
        distance_weight: float = 0.5,
        epochs: int = 10,
        batch_size: int = 1024,
        seed: int = 0,
        name: str = "hybrid_kmeans_ae",
    ):
        if n_clusters < 1:
            raise InputError(f"n_clusters must be at least 1, got {n_clusters}.")
        if distance_weight < 0:
            raise InputError(f"distance_weight must be non-negative, got {distance_weight}.")
        self.n_clusters, self.latent_dim, self.hidden = n_clusters, latent_dim, tuple(hidden)
        self.distance_weight, self.epochs, self.batch_size, self.seed, self.name = (
            distance_weight, epochs, batch_size, seed, name,
        )  # fmt: skip

    def fit(self, X_train, X_val=None) -> HybridKMeansAutoencoder:
        """Fit the autoencoder (``X_val`` for early stopping), K-Means on the training codes, and the
        per-cluster statistics of errors and distances on the training rows."""
        from sklearn.cluster import KMeans

        X = as_samples(X_train, 2, "X_train")
        if len(X) < self.n_clusters:
            raise InputError(f"{len(X)} training rows cannot fill {self.n_clusters} clusters.")
        self.autoencoder_ = DenseAutoencoder(
            hidden=self.hidden, latent_dim=self.latent_dim, epochs=self.epochs, batch_size=self.batch_size,
            seed=self.seed, name=f"{self.name}_ae",
        ).fit(X, X_val)  # fmt: skip
        codes = self.autoencoder_.encode(X)
        self.kmeans_ = KMeans(n_clusters=self.n_clusters, n_init=10, random_state=self.seed).fit(codes)
        clusters, error, distance = self._parts(X, codes)
        self.error_stats_ = _robust_stats(error, clusters, self.n_clusters)
        self.distance_stats_ = _robust_stats(distance, clusters, self.n_clusters)
        self.train_clusters_ = clusters
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
        """``cluster``, raw ``error`` and ``distance``, and their per-cluster z-scores, per row."""
        clusters, error, distance = self._parts(self._check(X))
        (e_mid, e_iqr), (d_mid, d_iqr) = self.error_stats_, self.distance_stats_
        return {
            "cluster": clusters, "error": error, "distance": distance,
            "error_z": (error - e_mid[clusters]) / e_iqr[clusters],
            "distance_z": (distance - d_mid[clusters]) / d_iqr[clusters],
        }  # fmt: skip

    def _scores(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, clusters)`` of every row."""
        parts = self.score_components(X)
        return parts["error_z"] + self.distance_weight * parts["distance_z"], parts["cluster"]

    def score_samples(self, X) -> np.ndarray:
        """``error_z + distance_weight * distance_z`` (higher = more anomalous)."""
        return self._scores(X)[0]

    def fit_thresholds(self, X_ref, q: float = 0.99) -> np.ndarray:
        """Per-cluster thresholds: the ``q`` quantile of the scores of ``X_ref`` (training or validation
        rows, never test rows) in each cluster; a cluster without reference rows gets the global quantile."""
        if not 0 < q <= 1:
            raise InputError(f"q must lie in (0, 1], got {q}.")
        scores, clusters = self._scores(X_ref)
        thresholds = np.full(self.n_clusters, np.quantile(scores, q))
        for c in range(self.n_clusters):
            in_c = scores[clusters == c]
            if len(in_c):
                thresholds[c] = np.quantile(in_c, q)
        self.thresholds_ = thresholds
        return thresholds

    def flag(self, X) -> np.ndarray:
        """0/1 flags with the per-cluster thresholds of :meth:`fit_thresholds`."""
        if not hasattr(self, "thresholds_"):
            raise InputError("no per-cluster thresholds yet; call .fit_thresholds(X_val) first.")
        scores, clusters = self._scores(X)
        return (scores >= self.thresholds_[clusters]).astype("int8")
