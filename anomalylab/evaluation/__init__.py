"""Run detectors over splits, seeds and corpora, and turn what they score into tidy rows with their ``kind``.

One module per concern:

- ``rows``: the tidy schema's columns, the four kinds of rows (``ours``, ``protocol``, ``published``, ``post hoc``),
  the named threshold-rule type and the one function that decides a row's kind;
- ``experiments``: experiments as data (a detector spec of a registered class and its arguments, with seeds and
  rules), which every ``evaluate_*_grid`` and ``nab_runs`` take;
- ``series``: a detector over seeds and threshold rules on a chronological split (rules see non-test rows);
- ``selection``: rolling-origin folds on the training + validation rows to choose a variant and a rule;
- ``nab``: the NAB protocol (probationary fit, scores in [0, 1], development/evaluation halves);
- ``tables``: the KDD Cup 99 protocols K1 and K2, their threshold rules, recall per attack type;
- ``hybrid``: the hybrid detector's tuning grid on validation rows;
- ``search``: a validation-only hyperparameter search of tabular detectors, confirmed on a second draw;
- ``ceilings``: what a detector of feature vectors can reach when attack rows copy normal rows.

Everything is importable from ``anomalylab.evaluation`` directly.
"""

from anomalylab.evaluation.ceilings import own_ceiling, twin_ceilings
from anomalylab.evaluation.experiments import (
    Chosen,
    DetectorSpec,
    Experiment,
    bind,
    detector,
    experiment_models,
    find,
    listing,
)
from anomalylab.evaluation.hybrid import hybrid_diagnosis, tidy_grid, tune_hybrid
from anomalylab.evaluation.nab import (
    BLENDS,
    CORPUS_OPTIMISED,
    DEV_OPTIMISED,
    EVAL_HALF,
    NAB_RESULT_COLUMNS,
    RESCALES,
    SERIES_PROTOCOL,
    SHIPPED,
    export_nab_results,
    nab_blend,
    nab_detector_rows,
    nab_half_score,
    nab_rescale,
    nab_rows,
    nab_run,
    nab_runs,
    nab_series_rows,
    unit_interval,
)
from anomalylab.evaluation.rows import (
    KINDS,
    ORACLE_F2,
    PROTOCOL_MODELS,
    PROTOCOL_RULES,
    SPLITS,
    TABLE_COLUMNS,
    Rule,
    post_hoc,
    protocol_reason,
    result_rows,
    row_kind,
)
from anomalylab.evaluation.search import (
    chosen_configs,
    fit_and_score_validation,
    search_check,
    search_table,
    tidy_search,
)
from anomalylab.evaluation.selection import rolling_origin_folds, select_variant, selected
from anomalylab.evaluation.series import (
    ThresholdRule,
    evaluate_scores,
    evaluate_series,
    evaluate_series_grid,
    fit_and_score,
    fit_inputs,
    history_length,
    oracle_rows,
    rule_fixed,
    rule_train_mean_k_sigma,
    rule_trainval_best_fbeta,
    rule_val_mean_k_sigma,
    rule_val_quantile,
    score_series,
)
from anomalylab.evaluation.tables import (
    TABLE_METRICS,
    TableRule,
    TabularSplits,
    evaluate_table,
    evaluate_table_draws,
    evaluate_table_grid,
    fit_and_score_table,
    hold_out_labelled,
    kdd_protocol_k1,
    kdd_protocol_k2,
    recall_by,
    table_rule_fixed,
    table_rule_test_quantile,
    table_rule_val_best_fbeta,
    table_rule_val_quantile,
    table_splits,
)
from anomalylab.metrics import detection_report

__all__ = [
    "CORPUS_OPTIMISED", "DEV_OPTIMISED", "EVAL_HALF", "ORACLE_F2", "SHIPPED", "bind", "Chosen", "DetectorSpec",
    "detector", "Experiment",
    "experiment_models", "find", "listing",
    "chosen_configs", "detection_report", "evaluate_scores", "evaluate_series", "evaluate_series_grid",
    "evaluate_table", "evaluate_table_draws", "evaluate_table_grid", "export_nab_results", "fit_and_score",
    "fit_and_score_table", "fit_and_score_validation", "fit_inputs", "history_length", "hold_out_labelled",
    "hybrid_diagnosis", "kdd_protocol_k1", "kdd_protocol_k2", "KINDS", "nab_detector_rows", "nab_half_score",
    "nab_blend", "nab_rescale", "NAB_RESULT_COLUMNS", "nab_rows", "nab_run", "nab_runs", "nab_series_rows",
    "oracle_rows", "BLENDS", "own_ceiling", "post_hoc", "PROTOCOL_MODELS", "PROTOCOL_RULES", "protocol_reason",
    "recall_by", "RESCALES", "result_rows",
    "rolling_origin_folds", "row_kind", "Rule", "rule_fixed", "rule_train_mean_k_sigma", "rule_trainval_best_fbeta",
    "rule_val_mean_k_sigma", "rule_val_quantile", "score_series", "search_check", "search_table", "select_variant",
    "selected", "SERIES_PROTOCOL", "SPLITS", "TABLE_COLUMNS", "TABLE_METRICS", "table_rule_fixed",
    "table_rule_test_quantile", "table_rule_val_best_fbeta", "table_rule_val_quantile", "table_splits", "TableRule",
    "TabularSplits", "ThresholdRule", "tidy_grid", "tidy_search", "tune_hybrid", "twin_ceilings", "unit_interval",
]  # fmt: skip
