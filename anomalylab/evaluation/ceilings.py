"""How high a detector of feature vectors can score on a test file where some attack rows are exact copies of
normal rows (KDD Cup 99's ``corrected``: see :func:`anomalylab.datasets.kdd_twin_rows`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomalylab.errors import InputError
from anomalylab.metrics import pr_auc, roc_auc


def _check(y, twins: pd.DataFrame) -> np.ndarray:
    y = np.asarray(y).astype(int).ravel()
    if len(y) != len(twins):
        raise InputError(f"y has {len(y)} rows but twins {len(twins)}; pass kdd_twin_rows() of the same test file.")
    return y


def twin_ceilings(y, twins: pd.DataFrame) -> pd.DataFrame:
    """ROC-AUC and PR-AUC of ideal scorings of the test rows, one row each:

    - ``oracle``: every row scored by its feature vector's attack rate in the test file, the best any detector
      that reads only the features can do;
    - ``twins lowest`` / ``twins median`` / ``twins top``: a detector that ranks every attack without a normal
      twin above every normal row, and the twin vectors (twin attack rows tied with their normal copies, as
      they must be) below every other normal row, in the middle of them, or above them all.
    """
    y = _check(y, twins)
    rate = pd.Series(y).groupby(twins["vector"].to_numpy()).transform("mean").to_numpy()
    twin_rows = (twins["twin_attack"] | twins["twin_normal"]).to_numpy()
    other_normal = (y == 0) & ~twin_rows
    base = np.where(y == 1, 3.0, 0.0)  # attacks without a twin above everything else
    base[other_normal] = np.linspace(0.0, 1.0, int(other_normal.sum()))  # the other normal rows in some order
    rows = [{"scoring": "oracle", "roc_auc": roc_auc(y, rate), "pr_auc": pr_auc(y, rate)}]
    for name, place in (("twins lowest", -1.0), ("twins median", 0.5), ("twins top", 2.0)):
        scores = np.where(twin_rows, place, base)
        rows.append({"scoring": name, "roc_auc": roc_auc(y, scores), "pr_auc": pr_auc(y, scores)})
    return pd.DataFrame(rows).set_index("scoring")


def own_ceiling(y, scores, twins: pd.DataFrame) -> dict:
    """A detector's own ceiling: its ROC-AUC and PR-AUC if every attack row without a normal twin were ranked
    first, the twin rows (and every normal row) keeping the detector's own scores."""
    y = _check(y, twins)
    scores = np.asarray(scores, dtype=float).ravel()
    if len(scores) != len(y):
        raise InputError(f"scores has {len(scores)} rows but y {len(y)}.")
    lifted = np.where((y == 1) & ~twins["twin_attack"].to_numpy(), np.nanmax(scores) + 1.0, scores)
    return {"roc_auc": roc_auc(y, lifted), "pr_auc": pr_auc(y, lifted)}
