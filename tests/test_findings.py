"""The rooms' findings: prose generated from the tables quotes the rows it names, with the tests that compare them, and
refuses a table that lacks a row it describes."""

from pathlib import Path

import pandas as pd
import pytest

from anomalylab import evaluation, reporting
from anomalylab.errors import InputError
from anomalylab.suites.kdd.findings import hybrid_findings
from anomalylab.suites.mixtiles.findings import attention_findings

TABLES = Path(__file__).resolve().parent.parent / "figures" / "tables"
ENTROPY = {"deepant_additive_attention": 1.234, "deepant_self_attention": 4.071}
NEWEST = {"deepant_additive_attention": 0.716, "deepant_self_attention": 0.068}


@pytest.fixture(scope="module")
def tables():
    return pd.read_csv(TABLES / "03_mixtiles_attention.csv"), pd.read_csv(TABLES / "03_nab_attention.csv")


def test_the_attention_findings_quote_the_tables_and_their_tests(tables):
    ablation, nab_table = tables
    text = attention_findings(ablation, nab_table, entropy=ENTROPY, newest=NEWEST, seeds=5, nab_seeds=1)
    frozen = ["deepant", "deepant_self_attention", "deepant_additive_attention"]
    for model in [*frozen, "deepant_self_attention_streaming"]:
        assert reporting.metric_text(ablation, "f2", model=model, threshold_rule="relative_0.40") in text
    for model in frozen:
        assert reporting.metric_text(ablation, "f2", model=model, threshold_rule="val_mean_3sd") in text
    eval_half = {"series": "", "protocol": evaluation.EVAL_HALF, "threshold_rule": evaluation.DEV_OPTIMISED}
    assert reporting.metric_text(nab_table, "nab_standard", decimals=1, model="deepant_self_attention",
                                 **eval_half) in text  # fmt: skip
    test = reporting.mann_whitney_test(ablation, "f2", ("a", {"model": "deepant", "threshold_rule": "relative_0.40"}),
                                       ("b", {"model": "deepant_self_attention", "threshold_rule": "relative_0.40"}))
    assert f"p = {test['p_value']:.3f}" in text and f"{test['runs_a']}\n  and {test['runs_b']} seeds" in text
    assert "72% of its weight" in text and "entropy 1.23" in text and "over 5 seeds" in text


def test_the_attention_findings_refuse_a_table_without_a_row_they_quote(tables):
    ablation, nab_table = tables
    without = ablation[ablation["model"] != "deepant_additive_attention"]
    with pytest.raises(InputError):
        attention_findings(without, nab_table, entropy=ENTROPY, newest=NEWEST, seeds=5, nab_seeds=1)


def _grid(tuning: pd.DataFrame, draw: str) -> pd.DataFrame:
    """The tuning grid of one draw, as ``evaluation.tune_hybrid`` returns it, back from ``05_tuning.csv``."""
    rows = tuning[tuning["protocol"].str.contains(draw, regex=False)]
    grid = rows.pivot_table(index="model", columns="metric", values="value").rename(
        columns={"roc_auc": "val_roc_auc", "pr_auc": "val_pr_auc"})
    sizes = grid.index.str.extract(r"hybrid_d(\d+)_k(\d+)").astype(int).to_numpy()
    return grid.assign(latent_dim=sizes[:, 0], n_clusters=sizes[:, 1]).reset_index(drop=True)


def test_the_hybrid_findings_quote_the_tables_and_their_tests():
    comparison = pd.read_csv(TABLES / "05_comparison.csv")
    tuning = pd.read_csv(TABLES / "05_tuning.csv")
    grid, grid_second = _grid(tuning, "(seed 0;"), _grid(tuning, "(seed 1;")
    protocol = comparison["protocol"].iloc[0].removesuffix("_sample_8000_2000").removesuffix("_whole_file")
    sample = f"{protocol}_sample_8000_2000"
    recall = comparison.query("protocol == @sample and model == 'hybrid' and threshold_rule == 'val_q95' "
                              "and metric == 'recall'").set_index("seed")["value"]
    seeds = sorted({int(recall.idxmin()), int(recall.idxmax())})
    diagnosis = pd.DataFrame({seed: {"roc_auc_error": 0.9, "roc_auc_error_z": 0.8, "missed_there": 300, "missed": 400,
                                     "worst_cluster_train_rows": 1234, "worst_cluster_error_iqr_vs_median": 2.5}
                              for seed in seeds}).T  # fmt: skip
    by_category = pd.DataFrame({"train (normal)": [0.7, 0.3], "normal": [0.6, 0.4], "dos": [0.9, 0.1],
                                "r2l": [0.2, 0.8]})  # fmt: skip
    text = hybrid_findings(comparison, grid, grid_second, diagnosis, by_category, protocol=protocol, train_rows=30_000,
                           seeds=5)  # fmt: skip
    best = grid.loc[grid["val_pr_auc"].idxmax()]
    assert f"**code size\n{int(best['latent_dim'])} with {int(best['n_clusters'])} clusters**" in text
    assert f"(validation PR-AUC {best['val_pr_auc']:.3f}" in text
    for model in ["isolation_forest", "hybrid", "autoencoder"]:
        assert reporting.metric_text(comparison, "f1", model=model, protocol=sample, threshold_rule="val_q95") in text
    test = reporting.wilcoxon_test(comparison, "f1", ("h", {"model": "hybrid", "protocol": sample,
                                                            "threshold_rule": "val_q95"}),
                                   ("a", {"model": "autoencoder", "protocol": sample, "threshold_rule": "val_q95"}))
    assert f"p = {test['p_value']:.3f}" in text
    assert "A broad cluster hides the attacks' large errors" in text  # the diagnosis above: 2.5 times the median
    assert "Cluster 0 holds\n70% of the training" in text and "cluster 1 holds\n80% of the r2l rows" in text
