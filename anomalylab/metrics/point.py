"""Point-wise and threshold-free metrics, all scikit-learn's."""

from __future__ import annotations

from sklearn.metrics import average_precision_score, fbeta_score, precision_recall_fscore_support, roc_auc_score

from anomalylab.metrics._checks import binary, finite_scores, pair


def point_metrics(y_true, y_pred) -> dict[str, float]:
    """Point-wise precision, recall, F1 and F2 of 0/1 flags (0 where undefined)."""
    y, p = pair(y_true, y_pred, "y_pred")
    p = binary(p, "y_pred")
    precision, recall, f1, _ = precision_recall_fscore_support(y, p, average="binary", zero_division=0)
    f2 = fbeta_score(y, p, beta=2, zero_division=0)
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1), "f2": float(f2)}


def roc_auc(y_true, scores) -> float:
    """ROC-AUC of scores (higher = more anomalous); NaN when only one class is present."""
    y, s = finite_scores(y_true, scores)
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, s))


def pr_auc(y_true, scores) -> float:
    """Area under the precision-recall curve (average precision); NaN without positives."""
    y, s = finite_scores(y_true, scores)
    if y.sum() == 0:
        return float("nan")
    return float(average_precision_score(y, s))
