"""KDD Cup 99's experiment grids and threshold rules.

Notebook 05's hybrid study: K-Means on a dense autoencoder's code (:class:`~anomalylab.models.HybridKMeansAutoencoder`)
against one autoencoder, K-Means distance, Isolation Forest and a random score, on protocol K1 with a seeded sample of
the normal connections to fit on; its code size and number of clusters are chosen on validation rows first
(:data:`Chosen` placeholders ``latent_dim`` and ``n_clusters``), and the semi-supervised variants learn from labelled
attacks set aside from validation (``labelled``).
"""

from __future__ import annotations

from anomalylab.config import RunConfig
from anomalylab.evaluation import (
    Chosen,
    Experiment,
    detector,
    table_rule_fixed,
    table_rule_val_best_fbeta,
    table_rule_val_quantile,
)
from anomalylab.models.autoencoders import DenseAutoencoder
from anomalylab.models.classical import IsolationForestDetector, KMeansDistance, RandomScore
from anomalylab.models.hybrid import HybridKMeansAutoencoder, SemiSupervisedHybrid

VAL_Q99 = table_rule_val_quantile(0.99)  # label-free: about 1 % false alarms on the validation inliers
VAL_Q95 = table_rule_val_quantile(0.95)
VAL_BEST_F1 = table_rule_val_best_fbeta(1)  # tuned on the labelled validation rows
VAL_BEST_F2 = table_rule_val_best_fbeta(2)
RULES = (VAL_Q99, VAL_Q95, VAL_BEST_F1, VAL_BEST_F2)
# scores that carry their own threshold: the per-cluster margin (0 = at the cluster's quantile), the log-odds
PER_CLUSTER_Q95 = table_rule_fixed(0.0, name="per_cluster_q95")
PER_CLUSTER_Q99 = table_rule_fixed(0.0, name="per_cluster_q99")
P_05 = table_rule_fixed(0.0, name="p_0.5")  # the logistic layer's probability 0.5

HYBRID_SEEDS = 5  # seeds per model
HYBRID_EPOCHS = 10  # autoencoder epochs (early stopping on validation inliers)
HYBRID_TRAIN_ROWS = 30_000  # normal connections the models fit on (a seeded sample of the 77,823 available)
LATENT_DIMS = (4, 8, 16)  # tuning grid: code sizes
N_CLUSTERS = (2, 4, 8, 12, 16)  # tuning grid: numbers of clusters
DISTANCE_WEIGHT = 0.5  # score = error_z + DISTANCE_WEIGHT * distance_z
BATCH_SIZE = 1024
N_LABELLED = 100  # labelled attacks set aside from validation for the semi-supervised variant

LATENT_DIM = Chosen("latent_dim", "the code size of the best validation PR-AUC in the tuning grid")
CLUSTERS = Chosen("n_clusters", "the number of clusters of the best validation PR-AUC in the tuning grid")
LABELLED = Chosen("labelled", f"{N_LABELLED} labelled attacks set aside from the validation rows")


def hybrid_params(cfg: RunConfig) -> dict:
    """The hybrid's arguments, with the tuned code size and number of clusters as placeholders."""
    return {"n_clusters": CLUSTERS, "latent_dim": LATENT_DIM, "distance_weight": DISTANCE_WEIGHT,
            "epochs": cfg.epochs, "batch_size": BATCH_SIZE}  # fmt: skip


def hybrid_experiments(cfg: RunConfig) -> tuple[Experiment, ...]:
    """Notebook 05's comparison on K1: the hybrid under the global rules and under its per-cluster thresholds (q95,
    q99), one autoencoder of the same code size, K-Means distance, Isolation Forest and a random score."""
    hybrid = detector(HybridKMeansAutoencoder, **hybrid_params(cfg))
    seeds = cfg.seeds
    return (
        Experiment("autoencoder", detector(DenseAutoencoder, latent_dim=LATENT_DIM, epochs=cfg.epochs,
                                           batch_size=BATCH_SIZE), seeds, RULES),
        Experiment("hybrid", hybrid, seeds, RULES),
        Experiment("hybrid_per_cluster_q95", hybrid.with_params(dynamic_q=0.95), seeds, (PER_CLUSTER_Q95,)),
        Experiment("hybrid_per_cluster_q99", hybrid.with_params(dynamic_q=0.99), seeds, (PER_CLUSTER_Q99,)),
        Experiment("kmeans_distance", detector(KMeansDistance, n_clusters=CLUSTERS), seeds, RULES),
        Experiment("isolation_forest", detector(IsolationForestDetector, n_estimators=200), seeds, RULES),
        Experiment("random", detector(RandomScore), seeds, RULES),
    )  # fmt: skip


def semi_supervised_experiments(cfg: RunConfig) -> tuple[Experiment, ...]:
    """Notebook 05: the hybrid with a logistic layer on labelled attacks, without and with oversampling them."""
    rules = (*RULES, P_05)
    return tuple(
        Experiment(name, detector(SemiSupervisedHybrid, labelled=LABELLED, oversample=oversample,
                                  **hybrid_params(cfg)), cfg.seeds, rules)
        for name, oversample in [("hybrid_semi_supervised", False), ("hybrid_semi_supervised_oversampled", True)]
    )  # fmt: skip


__all__ = [
    "BATCH_SIZE", "CLUSTERS", "DISTANCE_WEIGHT", "HYBRID_EPOCHS", "hybrid_experiments", "hybrid_params",
    "HYBRID_SEEDS", "HYBRID_TRAIN_ROWS", "LABELLED", "LATENT_DIM", "LATENT_DIMS", "N_CLUSTERS", "N_LABELLED", "P_05",
    "PER_CLUSTER_Q95", "PER_CLUSTER_Q99", "RULES", "semi_supervised_experiments", "VAL_BEST_F1", "VAL_BEST_F2",
    "VAL_Q95", "VAL_Q99",
]
