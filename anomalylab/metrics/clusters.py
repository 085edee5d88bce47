"""Cluster quality (scikit-learn's scores), for the hybrid detector's clusters."""

from __future__ import annotations

import numpy as np

from anomalylab.errors import InputError


def cluster_quality(X, clusters, sample_size: int | None = 10_000, seed: int = 0) -> dict[str, float]:
    """Silhouette (on a seeded sample of at most ``sample_size`` rows: it is quadratic in rows),
    Davies-Bouldin and Calinski-Harabasz of a clustering, all scikit-learn's.

    Higher silhouette and Calinski-Harabasz, lower Davies-Bouldin are better.
    They measure how compact and separated the clusters are, not whether
    anomalies are found.
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    X = np.asarray(X, dtype=float)
    labels = np.asarray(clusters).ravel()
    if len(X) != len(labels):
        raise InputError(f"X and clusters differ in length: {len(X)} vs {len(labels)}.")
    if len(np.unique(labels)) < 2:
        raise InputError("cluster quality needs at least 2 clusters.")
    sample = None if sample_size is None or len(X) <= sample_size else sample_size
    return {
        "silhouette": float(silhouette_score(X, labels, sample_size=sample, random_state=seed)),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
    }
