"""The rooms' findings: prose generated from the tables quotes the rows it names, with the tests that compare them, and
refuses a table that lacks a row it describes."""

from pathlib import Path

import pandas as pd
import pytest

from anomalylab import evaluation, reporting
from anomalylab.errors import InputError
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
