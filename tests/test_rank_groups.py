"""Ties called ties: the letter groups of the summaries say what their corrected tests say, and nothing else."""

import inspect

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from anomalylab import reporting
from anomalylab.errors import InputError
from anomalylab.reporting import groups
from anomalylab.reporting.stats import select_rows


def _runs(values, seeds=None):
    return pd.Series(values, index=range(len(values)) if seeds is None else seeds, dtype=float)


def test_each_pairing_uses_its_test():
    a, b = _runs([0.90, 0.80, 0.85, 0.95, 0.70]), _runs([0.88, 0.79, 0.80, 0.91, 0.69])
    assert groups.pair_test(a, b, "seed") == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert groups.pair_test(a, b, "unpaired") == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert groups.pair_test(a, b, "series") == pytest.approx(stats.wilcoxon(a, b).pvalue)
    one = pd.Series([0.75], index=[np.nan])  # a deterministic detector's single run
    assert groups.pair_test(a, one, "unpaired") == pytest.approx(stats.ttest_1samp(a, 0.75).pvalue)
    assert groups.pair_test(one, pd.Series([0.75], index=[np.nan]), "unpaired") == 1.0
    assert groups.pair_test(one, pd.Series([0.70], index=[np.nan]), "unpaired") == 0.0
    assert np.isnan(groups.pair_test(a, _runs([0.5, 0.6], seeds=[7, 8]), "seed"))  # no shared seed: untestable
    with pytest.raises(InputError, match="pairing must be one of"):
        groups.pair_test(a, b, "by_hand")


def test_seeds_of_different_protocols_are_compared_unpaired():
    a = _runs([0.9, 0.8, 0.85, 0.95, 0.7])
    b = a - 0.01 + _runs([0.001, -0.001, 0.0, 0.002, -0.002])
    paired = groups.ranked_groups({"a": a, "b": b}, "seed")
    apart = groups.ranked_groups({"a": a, "b": b}, "seed", draws={"a": "K1", "b": "K1_fit30000"})
    assert list(paired["letters"]) == ["a", "b"]  # b is below a on every seed: the paired test separates them
    assert list(apart["letters"]) == ["a", "a"]  # unpaired, the seeds' spread hides the difference


def test_holm_is_statsmodels_and_an_untestable_pair_stays_untested():
    p = [0.01, 0.04, np.nan, 0.03]
    expected = multipletests([0.01, 0.04, 0.03], method="holm")[1]
    out = groups.holm(p)
    np.testing.assert_allclose(out[[0, 1, 3]], expected)
    assert np.isnan(out[2])


def test_a_tie_that_is_not_transitive_gets_two_letters():
    noise = np.random.default_rng(0).normal(0, 0.01, size=8)
    runs = {"top": _runs(0.90 + noise), "middle": _runs([0.75, 0.95] * 4), "bottom": _runs(0.80 + noise[::-1])}
    out = groups.ranked_groups(runs, "unpaired")
    assert not set(out.at["top", "letters"]) & set(out.at["bottom", "letters"])  # top beats bottom
    assert set(out.at["middle", "letters"]) >= set(out.at["top", "letters"]) | set(out.at["bottom", "letters"])
    assert out["tied"].all() and list(out["beaten_by"]) == [0, 0, 1]


def test_families_are_compared_within_themselves_only():
    runs = {("s1", "x"): _runs([1.0, 1.1, 0.9]), ("s1", "y"): _runs([0.0, 0.1, -0.1]),
            ("s2", "x"): _runs([5.0, 5.1, 4.9])}  # fmt: skip
    out = groups.ranked_groups(runs, "unpaired", families={k: k[0] for k in runs})
    assert out.at[("s2", "x"), "letters"] == "a" and not out.at[("s2", "x"), "tied"]


@pytest.fixture(scope="module")
def committed():
    tables = reporting.read_tables()
    return tables, {spec.key: (spec, reporting.summary_stats(tables, spec)) for spec in reporting.SUMMARIES}


def test_every_order_the_committed_summaries_state_rests_on_a_significant_corrected_test(committed):
    """Recomputed from the tables: two ranked rows share no letter exactly when their Holm-corrected test says
    they differ; ranked rows are `ours`, one per model, and never a `protocol`, `published` or `post hoc` row."""
    tables, summaries = committed
    checked = 0
    for key, (spec, summary) in summaries.items():
        ranked = summary[summary["rank"].notna()]
        assert set(ranked["source"]) == {"ours"}, key
        assert not ranked.duplicated(["series", "model"]).any(), key
        kinds = tables[tables["model"].isin(ranked["model"]) & tables["table"].isin(spec.tables)]
        assert "post hoc" not in set(kinds.loc[kinds["threshold_rule"].isin(ranked["threshold_rule"]), "kind"])
        rows = list(ranked.itertuples())
        pairs = [(a, b) for i, a in enumerate(rows) for b in rows[i + 1 :] if a.series == b.series]
        if not pairs:
            continue
        run = {}
        for r in rows:
            select = {"model": r.model, "threshold_rule": r.threshold_rule}
            if spec.pairing == "series":
                per = tables[tables["table"].isin(spec.tables) & (tables["protocol"] == "nab_v1.1_per_series")
                             & (tables["kind"] == "ours")]  # fmt: skip
                if spec.series_half:
                    per = per[per["series"].map(reporting_split()) == spec.series_half]
                values = select_rows(per, spec.metrics[0], select)
                run[r.Index] = values.drop_duplicates(["series", "seed"]).groupby("series")["value"].mean()
            else:
                values = select_rows(tables[tables["table"].isin(spec.tables)], spec.metrics[0],
                                               {**select, "protocol": r.protocol, "kind": "ours", "series": r.series})
                run[r.Index] = values.drop_duplicates(["seed"]).groupby("seed", dropna=False)["value"].mean()
        tests = [groups.pair_test(run[a.Index], run[b.Index],
                                  "unpaired" if spec.pairing == "seed" and a.protocol != b.protocol else spec.pairing)
                 for a, b in pairs]  # fmt: skip
        tested = np.isfinite(tests)
        corrected = np.ones(len(tests))
        corrected[tested] = multipletests(np.asarray(tests)[tested], method="holm")[1]
        for (a, b), p in zip(pairs, corrected):
            apart = not set(a.group) & set(b.group)
            assert apart == (p < 0.05), f"{key}: {a.model} ({a.group}) vs {b.model} ({b.group}): p = {p:.3g}"
            checked += 1
    assert checked > 200


def reporting_split():
    from anomalylab.datasets import nab_split

    return nab_split()


def test_the_readme_shows_the_summaries_letters(committed):
    from anomalylab import paths

    _, summaries = committed
    text = (paths.ROOT / "README.md").read_text().split(reporting.README_START, 1)[1].split(reporting.README_END)[0]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("| ")]
    shown_keys = inspect.signature(reporting.readme_markdown).parameters["keys"].default
    titles = {summaries[key][0].title.split(":")[0]: key for key in shown_keys}
    letters = {(key, r.model, r.threshold_rule): r.group for key, (_, s) in summaries.items()
               for r in s[s["rank"].notna()].itertuples()}  # fmt: skip
    checked, key = 0, None
    for dataset, group, model, rule, *_ in cells[1:]:
        key = titles.get(dataset, key) if dataset else key
        if group:  # a ranked row (published rows have none)
            assert letters.get((key, model, rule)) == group, (key, model, rule)
            checked += 1
    assert checked >= 12


def test_every_letter_group_in_notebook_06s_verdict_is_the_summaries(committed):
    """06's verdict quotes rows as ``model mean ± h [letters]``: each such quote is a ranked row of a summary with
    exactly those letters, so the verdict orders nothing its tests do not support."""
    import json
    import re

    from anomalylab import paths

    _, summaries = committed
    notebook = json.loads((paths.ROOT / "notebooks" / "06_final_comparison.ipynb").read_text())
    texts = ["".join(o.get("data", {}).get("text/markdown", "")) for c in notebook["cells"]
             for o in c.get("outputs", [])]  # fmt: skip
    verdict = "".join(t for t in texts if "## Verdict" in t)
    assert "## Verdict" in verdict
    letters = {(r.model, r.group) for _, s in summaries.values() for r in s[s["rank"].notna()].itertuples()}
    # "model 0.981 ± 0.001 [a]", or a label "model · rule [protocol] 0.9935 [a]"
    quoted = re.findall(r"([A-Za-z0-9_]+)(?: · [A-Za-z0-9_.]+(?: \[[A-Za-z0-9_]+\])?)? -?[\d.]+(?: ± [\d.]+)? "
                        r"\[([a-z]+)\]", verdict)
    assert len(quoted) >= 20
    assert not [q for q in quoted if q not in letters]
