"""Tidy result rows: the schema's columns, the three kinds of rows, the threshold-rule type, and the one function
that decides a row's kind (:func:`row_kind`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from anomalylab.errors import InputError
from anomalylab.metrics import METRICS
from anomalylab.models.classical import TRANSDUCTIVE_REASON

SPLITS = ("train", "val", "test")
TABLE_COLUMNS = ["dataset", "protocol", "series", "model", "seed", "threshold_rule", "kind", "metric", "value"]
# What a row is: ``ours`` (threshold label-free or tuned on training/validation data only, model chosen on
# validation only), ``protocol`` (a rule that reads test scores or test labels, kept only to compare with papers),
# ``published`` (a paper's or seed project's number under its own protocol) or ``post hoc`` (a variant designed after
# reading test results: a diagnosis, never a result). Only ``ours`` rows are ranked.
KINDS = ("ours", "protocol", "published", "post hoc")
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
ORACLE_F2 = "test_best_f2 (oracle)"  # the name of the oracle rule's rows (evaluation.oracle_rows)
# Models whose scores read the test rows themselves (whatever the threshold rule): their rows are ``protocol``.
# A detector at hand says so itself (``Detector.transductive``); the names serve rows written without one.
PROTOCOL_MODELS = {"ecod": TRANSDUCTIVE_REASON}


@dataclass(frozen=True)
class Rule:
    """A threshold rule, for series and tables alike: called with what its protocol hands it (a series: the
    non-test scores, labels and split; a table: the validation scores and labels and the test scores of a
    subset), it returns the threshold. ``name`` is what its rows say in the ``threshold_rule`` column (the rule
    constructors of :mod:`~anomalylab.evaluation.series` and :mod:`~anomalylab.evaluation.tables` name their rules,
    so that a notebook quotes ``rule.name`` rather than typing it); ``reads_test`` is None for a rule that reads no
    test data, else why it does: its rows are then ``protocol`` (:func:`row_kind`). Two rules are equal when their
    names and ``reads_test`` are: a name stands for one rule in a table."""

    threshold: Callable[..., float] = field(compare=False)
    reads_test: str | None = None
    name: str = ""

    def __call__(self, *args) -> float:
        return self.threshold(*args)


def row_kind(rule: Rule | None = None, *, transductive: str | None = None, rule_name: str = "",
             model: str = "") -> str:  # fmt: skip
    """The one place that decides whether a row of ours is ``ours`` or ``protocol``: ``protocol`` when its rule
    reads test data (``rule.reads_test``, or a rule name of :data:`PROTOCOL_RULES` for rows made without a
    :class:`Rule`, such as NAB's corpus-optimised threshold) or when its detector scores the test rows with each
    other (``transductive``, from ``Detector.transductive``, or a model name of :data:`PROTOCOL_MODELS`)."""
    reads = getattr(rule, "reads_test", None) or transductive
    return "protocol" if reads or rule_name in PROTOCOL_RULES or model in PROTOCOL_MODELS else "ours"


def protocol_reason(rule_name: str = "", model: str = "") -> str:
    """Why a ``protocol`` row reads the test split, for the tables' readers."""
    return PROTOCOL_RULES.get(rule_name) or PROTOCOL_MODELS.get(model, "reads the test split")


def post_hoc(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every row marked ``post hoc``: for variants designed after reading test results (a diagnosis
    of a gap to a paper, say), which are never ranked, recommended or compared in a summary, whatever their rule
    (a row under a rule that reads the test split is post hoc too)."""
    if "kind" not in table:
        raise InputError("the table has no 'kind' column; make it with result_rows or an evaluate_* function.")
    return table.assign(kind="post hoc")


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

    ``kind`` says what the row is (:data:`KINDS`); a row given as ``ours`` is ``protocol`` where
    :func:`row_kind` says so from its rule's and model's names.
    """
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise InputError(f"unknown metric name(s) {unknown}; the fixed names are {list(METRICS)}.")
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}.")
    if kind == "ours":
        kind = row_kind(rule_name=threshold_rule, model=model)
    base = {
        "dataset": dataset, "protocol": protocol, "series": series, "model": model,
        "seed": pd.NA if seed is None else int(seed), "threshold_rule": threshold_rule, "kind": kind, **extra,
    }  # fmt: skip
    return [{**base, "metric": k, "value": float(v) if v is not None else np.nan} for k, v in metrics.items()]


# A threshold rule maps the non-test part of (scores, labels, split) to a threshold.
