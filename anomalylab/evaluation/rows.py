"""Tidy result rows: the schema's columns, the three kinds of rows, and the rules that read the test split."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from anomalylab.errors import InputError
from anomalylab.metrics import METRICS
from anomalylab.models.classical import TRANSDUCTIVE_REASON

SPLITS = ("train", "val", "test")
TABLE_COLUMNS = ["dataset", "protocol", "series", "model", "seed", "threshold_rule", "kind", "metric", "value"]
# What a row is: ``ours`` (threshold label-free or tuned on training/validation data only, model chosen on
# validation only), ``protocol`` (a rule that reads test scores or test labels, kept only to compare with papers)
# or ``published`` (a paper's or seed project's number under its own protocol). Only ``ours`` rows are ranked.
KINDS = ("ours", "protocol", "published")
# Threshold rules that read the test split, with the one-line reason shown beside their rows. A row under one of
# these names is never ``ours`` (``reporting.check_table`` refuses it).
PROTOCOL_RULES = {
    "test_q80 (protocol)": "flags the top 20 % of the test scores (DAGMM/ALAD protocol): reads the test scores and "
    "assumes the test outlier share is known",
    "nab_corpus_optimised": "threshold that maximises the score of the very series it scores (NAB's runner): "
    "tuned on the test labels",
    "test_best_f2 (oracle)": "the threshold with the best F2 on the test labels themselves: the ceiling of a model's "
    "scores, not a result",
}
# Models whose scores read the test rows themselves (whatever the threshold rule): their rows are ``protocol``.
PROTOCOL_MODELS = {"ecod": TRANSDUCTIVE_REASON}

def result_rows(
    metrics: Mapping[str, float],
    *,
    dataset: str,
    model: str,
    protocol: str = "",
    series: str = "",
    seed: int | None = None,
    threshold_rule: str = "",
    kind: str = "ours",
    **extra,
) -> list[dict]:
    """Tidy rows (one per metric) of one measurement; ``extra`` becomes extra columns.

    ``kind`` says what the row is (:data:`KINDS`); a rule in :data:`PROTOCOL_RULES` reads the test split, so
    its rows are ``protocol`` whatever ``kind`` says.
    """
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise InputError(f"unknown metric name(s) {unknown}; the fixed names are {list(METRICS)}.")
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}.")
    if kind == "ours" and (threshold_rule in PROTOCOL_RULES or model in PROTOCOL_MODELS):
        kind = "protocol"
    base = {
        "dataset": dataset, "protocol": protocol, "series": series, "model": model,
        "seed": pd.NA if seed is None else int(seed), "threshold_rule": threshold_rule, "kind": kind, **extra,
    }  # fmt: skip
    return [{**base, "metric": k, "value": float(v) if v is not None else np.nan} for k, v in metrics.items()]


# A threshold rule maps the non-test part of (scores, labels, split) to a threshold.
