"""Score tables and what is made from them, one module per concern:

- ``tables``: the tidy schema (with ``kind``), atomic writes with provenance, summaries, quotes for prose;
- ``provenance``: git sha, hardware and TensorFlow settings, package versions, run configuration;
- ``summaries``: ranked summaries across notebooks (``SUMMARIES``), the Pareto front;
- ``readme``: README.md's short table and RESULTS.md (``python -m anomalylab.reporting``);
- ``ledger``: the ledger of held-out reads (``docs/held_out_ledger.csv``), counted for the README;
- ``ranking``: the NAB detectors' per-series matrices that the critical-difference diagrams rank;
- ``scores``: per-point scores kept beside the tables (``figures/scores/``), for ROC/PR overlays and the explorer.

Everything is importable from ``anomalylab.reporting`` directly.
"""

from anomalylab.evaluation import KINDS, PROTOCOL_RULES, TABLE_COLUMNS, result_rows
from anomalylab.reporting.groups import above_all, group_text, ranked_groups, ranked_rows, tied_with_best
from anomalylab.reporting.ledger import LEDGER_FILE, ledger_counts, ledger_sentence, read_ledger
from anomalylab.reporting.provenance import PROVENANCE_PACKAGES, SOURCE_PATHS, git_sha, hardware, provenance
from anomalylab.reporting.ranking import (
    NAB_RANKINGS,
    nab_series_matrices,
    nab_sparse_alarms,
    sparse_alarm,
    without_sparse,
)
from anomalylab.reporting.readme import (
    README_END,
    README_START,
    RESULTS_FILE,
    readme_markdown,
    results_markdown,
    update_readme,
)
from anomalylab.reporting.scores import (
    SCORES_BUDGET,
    check_scores,
    nab_scores,
    point_rows,
    read_scores,
    sample_positions,
    score_rows,
    series_scores,
    table_scores,
    table_threshold,
    write_scores,
)
from anomalylab.reporting.stats import (
    mann_whitney_test,
    mean_ci,
    paired_values,
    rank_test,
    t_half_width,
    wilcoxon_test,
)
from anomalylab.reporting.summaries import (
    SUMMARIES,
    SummarySpec,
    pareto_front,
    stats_text,
    summary_stats,
    summary_table,
)
from anomalylab.reporting.tables import (
    check_table,
    metric_stats,
    metric_text,
    read_tables,
    summarize,
    write_table,
    write_text_atomic,
)

__all__ = [
    "check_scores", "check_table", "git_sha", "hardware", "KINDS", "LEDGER_FILE",
    "mann_whitney_test", "ledger_counts", "ledger_sentence", "mean_ci", "metric_stats", "read_ledger", "NAB_RANKINGS",
    "nab_series_matrices", "nab_sparse_alarms", "sparse_alarm", "metric_text", "nab_scores", "paired_values",
    "pareto_front", "point_rows", "PROTOCOL_RULES", "provenance", "PROVENANCE_PACKAGES", "rank_test", "read_scores",
    "read_tables", "README_END", "readme_markdown", "README_START", "result_rows", "RESULTS_FILE", "results_markdown",
    "sample_positions", "score_rows", "SCORES_BUDGET", "series_scores", "SOURCE_PATHS", "stats_text", "SUMMARIES",
    "summarize", "summary_stats", "summary_table", "SummarySpec", "t_half_width", "TABLE_COLUMNS", "table_scores",
    "table_threshold", "update_readme", "above_all", "group_text", "ranked_groups", "ranked_rows", "tied_with_best",
    "without_sparse", "wilcoxon_test", "write_scores", "write_table", "write_text_atomic",
]  # fmt: skip
