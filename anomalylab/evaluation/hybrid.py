"""The hybrid K-Means + autoencoder's tuning grid on validation rows, and where its score wins or loses."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from anomalylab import runner
from anomalylab.errors import InputError
from anomalylab.evaluation.tables import TabularSplits
from anomalylab.metrics import cluster_quality, pr_auc, roc_auc
from anomalylab.models.hybrid import HybridKMeansAutoencoder


def tune_hybrid(
    splits: TabularSplits,
    *,
    latent_dims: Sequence[int],
    n_clusters: Sequence[int],
    seed: int = 0,
    sample_size: int = 5000,
    progress: bool = True,
    **hybrid_params,
) -> pd.DataFrame:
    """Grid of :class:`HybridKMeansAutoencoder` settings judged on **validation** data only.

    One autoencoder per code size (``latent_dims``); K-Means is refitted on
    its codes for every number of clusters. Per grid point: cluster quality of
    the training codes (silhouette on a seeded ``sample_size`` rows,
    Davies-Bouldin, Calinski-Harabasz) and detection quality on the labelled
    validation split (ROC-AUC, PR-AUC). The test split is never read.
    """
    if not latent_dims or not n_clusters or min(n_clusters) < 2:
        raise InputError("give at least one code size and numbers of clusters of at least 2.")
    tasks = [runner.Task(f"code size {dim}", _tune_task, {"dim": dim, "n_clusters": list(n_clusters), "seed": seed,
                         "sample_size": sample_size, "hybrid_params": hybrid_params}) for dim in latent_dims]
    results = runner.run(tasks, shared={"splits": splits}, desc="code sizes", progress=progress)
    return pd.DataFrame([row for rows in results for row in rows])


def _tune_task(dim: int, n_clusters: list, seed: int, sample_size: int, hybrid_params: dict,
               splits: TabularSplits) -> list[dict]:
    """One code size of :func:`tune_hybrid`: one autoencoder, K-Means refitted for every number of clusters."""
    val_inliers = splits.X_val[splits.y_val == 0]
    start = time.perf_counter()
    base = HybridKMeansAutoencoder(n_clusters=n_clusters[0], latent_dim=dim, seed=seed, **hybrid_params)
    base.fit(splits.X_train, val_inliers)
    ae_seconds = time.perf_counter() - start
    codes = base.encode(splits.X_train)
    rows = []
    for k in n_clusters:
        start = time.perf_counter()
        model = base if k == n_clusters[0] else base.recluster(splits.X_train, k, val_inliers)
        val_scores = model.score_samples(splits.X_val)
        rows.append({
            "latent_dim": dim, "n_clusters": k,
            **cluster_quality(codes, model.train_clusters_, sample_size=sample_size, seed=seed),
            "val_roc_auc": roc_auc(splits.y_val, val_scores), "val_pr_auc": pr_auc(splits.y_val, val_scores),
            "smallest_cluster_share": np.bincount(model.train_clusters_, minlength=k).min() / len(codes),
            "autoencoder_seconds": ae_seconds, "kmeans_seconds": time.perf_counter() - start,
        })  # fmt: skip
    return rows


def hybrid_diagnosis(model: HybridKMeansAutoencoder, X, y, X_ref, q: float = 0.95) -> dict:
    """Where a fitted hybrid's score wins or loses: ROC-AUC of each part of the score on labelled rows
    (``X``, ``y``), recall at the global ``q`` quantile of the reference rows' scores, and the cluster
    that holds most of the missed anomalies with its training rows and its error spread (IQR) relative
    to the median cluster's."""
    y = np.asarray(y).astype(int).ravel()
    parts = model.score_components(X)
    score = parts["score"]
    missed = (y == 1) & (score < np.quantile(model.score_components(X_ref)["score"], q))
    counts = np.bincount(parts["cluster"][missed], minlength=model.n_clusters)
    worst = int(counts.argmax())
    spread = model.error_stats_[1]
    return {
        "recall": 1 - missed.sum() / max(y.sum(), 1),
        "roc_auc_error": roc_auc(y, parts["error"]), "roc_auc_error_z": roc_auc(y, parts["error_z"]),
        "roc_auc_distance_z": roc_auc(y, parts["distance_z"]), "roc_auc_score": roc_auc(y, score),
        "worst_cluster": worst, "missed_there": int(counts[worst]), "missed": int(missed.sum()),
        "worst_cluster_train_rows": int(np.sum(model.train_clusters_ == worst)),
        "worst_cluster_error_iqr_vs_median": float(spread[worst] / np.median(spread)),
    }  # fmt: skip


def tidy_grid(grid: pd.DataFrame, *, dataset: str, protocol: str, model: str = "hybrid") -> pd.DataFrame:
    """:func:`tune_hybrid`'s grid as tidy score-table rows: one model name per grid point
    (``<model>_d<latent_dim>_k<n_clusters>``), validation ROC-/PR-AUC as ``roc_auc``/``pr_auc``,
    the cluster metrics under their own names, and the autoencoder + K-Means time as ``fit_seconds``."""
    wide = grid.assign(
        model=[f"{model}_d{d}_k{k}" for d, k in zip(grid["latent_dim"], grid["n_clusters"])],
        fit_seconds=grid["autoencoder_seconds"] + grid["kmeans_seconds"],
    ).rename(columns={"val_roc_auc": "roc_auc", "val_pr_auc": "pr_auc"})
    metrics = ["silhouette", "davies_bouldin", "calinski_harabasz", "roc_auc", "pr_auc", "fit_seconds"]
    rows = wide.melt(id_vars=["model"], value_vars=metrics, var_name="metric", value_name="value")
    return rows.assign(dataset=dataset, protocol=protocol, series="", seed=np.nan, threshold_rule="", kind="ours")
