import json

import numpy as np
import pandas as pd
import pytest

from anomalylab import config, reporting
from anomalylab.errors import InputError


def test_quick_config_is_small_and_writes_under_build_quick():
    quick, full = config.RunConfig.create(True), config.RunConfig.create(False)
    assert len(quick.seeds) < len(full.seeds) == 5 and quick.epochs <= 2
    assert "build/quick" in quick.figures_dir.as_posix() and "build" not in full.figures_dir.as_posix()
    assert quick.processed_dir != full.processed_dir


def test_seed_budget_is_the_default_unless_the_setting_asks_for_more(monkeypatch):
    monkeypatch.delenv(config.SEEDS_ENV, raising=False)
    assert config.seed_budget(6) == 6
    monkeypatch.setenv(config.SEEDS_ENV, " 10 ")
    assert config.seed_budget(6) == 10
    for bad in ("0", "ten", "-3", "2.5"):
        monkeypatch.setenv(config.SEEDS_ENV, bad)
        with pytest.raises(InputError, match=f"ANOMALYLAB_SEEDS={bad!r} is not a number of seeds"):
            config.seed_budget(6)


def test_set_seed_makes_numpy_and_keras_repeatable():
    import keras

    def draw():
        layer = keras.layers.Dense(3)
        layer.build((None, 4))
        return np.random.random(3), np.asarray(layer.kernel)  # noqa: NPY002

    config.set_seed(7)
    a = draw()
    config.set_seed(7)
    b = draw()
    config.set_seed(8)
    c = draw()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def _table():
    rows = []
    for seed in range(3):
        rows += reporting.result_rows(
            {"f1": 0.5 + 0.1 * seed, "roc_auc": 0.9}, dataset="toy", model="ae", seed=seed, threshold_rule="q99"
        )
    rows += reporting.result_rows({"f1": 0.4}, dataset="toy", model="pca", threshold_rule="q99")
    return pd.DataFrame(rows)


def test_write_table_writes_csv_md_and_provenance(tmp_path):
    out = reporting.write_table(_table(), "99_toy", tables_dir=tmp_path, config=config.RunConfig.create(True))
    back = pd.read_csv(out["csv"])
    assert list(back.columns[:9]) == reporting.TABLE_COLUMNS and len(back) == 7
    md = out["md"].read_text()
    assert "0.600 ± 0.248" in md  # 95 % t-interval of 0.5, 0.6, 0.7 and "0.400" in md
    prov = json.loads(out["provenance"].read_text())
    assert prov["config"]["quick"] is True and "numpy" in prov["packages"]
    hw = prov["hardware"]
    assert 1 <= hw["usable_cores"] <= hw["logical_cores"] and set(hw["isa_flags"]) == {"avx2", "avx512f", "fma"}
    assert hw["tensorflow_settings"] == config.TF_SETTINGS  # what anomalylab fixed before TensorFlow started
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_failed_write_leaves_the_old_table_untouched(tmp_path, monkeypatch):
    reporting.write_table(_table(), "99_toy", tables_dir=tmp_path)
    before = (tmp_path / "99_toy.csv").read_text()

    def boom(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError):
        reporting.write_table(_table().assign(value=0.0), "99_toy", tables_dir=tmp_path)
    assert (tmp_path / "99_toy.csv").read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_unknown_metric_names_are_refused():
    with pytest.raises(InputError, match="unknown metric"):
        reporting.result_rows({"F1-score": 0.5}, dataset="toy", model="ae")


def _summary_rows():
    rows = []
    for seed, (a, b) in enumerate([(0.9, 0.5), (0.8, 0.7)]):
        for model, value in [("alpha", a), ("beta", b)]:
            rows += [dict(dataset="d", protocol="ours", series=None, model=model, seed=seed, threshold_rule="r",
                          kind="ours", metric="f1", value=value),
                     dict(dataset="d", protocol="ours", series=None, model=model, seed=seed, threshold_rule="",
                          kind="ours", metric="fit_seconds", value=10.0 + seed)]
        # the protocol's own rule reads the test scores: shown apart, never ranked, even when it scores best
        rows.append(dict(dataset="d", protocol="ours", series=None, model="alpha", seed=seed,
                         threshold_rule="test_q80 (protocol)", kind="protocol", metric="f1", value=0.95))
    rows.append(dict(dataset="d", protocol="seed paper, other split", series=None, model="paper", seed=None,
                     threshold_rule="test_tuned", kind="published", metric="f1", value=0.99))
    rows.append(dict(dataset="d", protocol="ours", series=None, model="alpha", seed=0, threshold_rule="other",
                     kind="ours", metric="f1", value=0.1))
    rows.append(dict(dataset="d", protocol="ours", series=None, model="gamma", seed=0, threshold_rule="r",
                     kind="ours", metric="f1", value=0.99))  # one seed of a seeded model: shown, not ranked
    first = pd.DataFrame(rows).assign(table="01_first")
    copy = first[first["model"] == "alpha"].assign(table="02_copy")  # a later notebook repeats alpha's rows
    return pd.concat([first, copy], ignore_index=True)


def test_summary_ranks_our_rows_only_counts_each_run_once_and_keeps_protocol_and_published_rows_apart():
    spec = reporting.SummarySpec("k", "title", ("01_first", "02_copy"), r"^ours$", ("r",), ("f1",),
                                 published=r"^seed paper", min_runs=2)  # fmt: skip
    stats = reporting.summary_stats(_summary_rows(), spec)
    assert list(stats["model"]) == ["alpha", "beta", "gamma", "alpha", "paper"]
    assert list(stats["source"]) == ["ours", "ours", "ours", "protocol", "published"]
    assert list(stats["rank"].fillna(0)) == [1, 2, 0, 0, 0]  # gamma (1 seed), protocol and published: no rank
    assert list(stats["runs"]) == [2, 2, 1, 2, 1]  # alpha's copied rows are not counted twice
    assert stats.loc[0, "f1_mean"] == pytest.approx(0.85) and stats.loc[0, "f1_std"] == pytest.approx(np.std([0.9, 0.8],
                                                                                                          ddof=1))
    assert stats.loc[0, "fit_seconds"] == pytest.approx(10.5)
    assert "other" not in set(stats["threshold_rule"])  # only the spec's rules
    assert list(stats["label"]) == ["alpha · r", "beta · r", "gamma · r", "alpha · test_q80 (protocol)",
                                    "paper · test_tuned"]  # fmt: skip
    assert "reads the test scores" in stats.loc[3, "reason"]
    assert stats.loc[3, "fit_seconds"] == pytest.approx(10.5)  # the same runs' fit time, shown beside every block
    table = reporting.summary_table(_summary_rows(), spec)
    assert table.loc[0, "f1"] == "0.850 ± 0.635" and table.loc[4, "protocol"] == "seed paper, other split"
    assert list(table["kind"]) == ["ours", "ours", "ours", "protocol", "published"]
    assert "not ranked" in table.loc[2, "runs"] and "reads the test" in table.loc[3, "protocol"]
    best = reporting.ranked_rows(stats)
    assert list(best["model"]) == ["alpha", "beta"]  # ranked ours rows only, one per model
    with pytest.raises(InputError, match="no 'ours' rows"):
        reporting.summary_stats(_summary_rows(), reporting.SummarySpec("x", "t", ("03_none",), "ours", ("r",), ("f1",)))
    typo = reporting.SummarySpec("k", "title", ("01_first",), r"^ours$", ("r", "val_q59"), ("f1",))  # a typo: no row
    with pytest.raises(InputError, match=r"rule\(s\) \['val_q59'\] select no 'ours' row.*there: \['other', 'r', "):
        reporting.summary_stats(_summary_rows(), typo)
    alone = _summary_rows().drop(columns="table")  # one notebook's own rows: the other tables' rules may be absent
    assert set(reporting.summary_stats(alone, typo)["threshold_rule"]) >= {"r"}


def test_rows_whose_rule_reads_the_test_split_are_never_ours():
    row = reporting.result_rows({"f1": 0.9}, dataset="d", model="m", threshold_rule="test_q80 (protocol)")
    assert row[0]["kind"] == "protocol"  # the rule's name decides, whatever the caller said
    table = pd.DataFrame(row).assign(kind="ours")
    with pytest.raises(InputError, match="cannot be kind 'ours'"):
        reporting.check_table(table)
    with pytest.raises(InputError, match="kind"):
        reporting.check_table(pd.DataFrame(row).drop(columns="kind"))
    with pytest.raises(InputError, match="unknown kind"):
        reporting.check_table(pd.DataFrame(row).assign(kind="mine"))
    with pytest.raises(InputError, match="kind must be"):
        reporting.result_rows({"f1": 0.9}, dataset="d", model="m", kind="later")


def test_post_hoc_rows_are_their_own_kind_and_never_ranked():
    from anomalylab import evaluation

    rows = [*reporting.result_rows({"f1": 0.9}, dataset="d", model="v (post hoc)", threshold_rule="r", seed=0),
            *reporting.result_rows({"f1": 0.8}, dataset="d", model="v (post hoc)", threshold_rule="test_q80 (protocol)",
                                   seed=0)]  # fmt: skip
    with pytest.raises(InputError, match="named post hoc but have kind 'ours'"):
        reporting.check_table(pd.DataFrame(rows))
    marked = evaluation.post_hoc(pd.DataFrame(rows))
    assert list(marked["kind"]) == ["post hoc", "post hoc"]  # the protocol rule's row too: never compared
    reporting.check_table(marked)
    good = reporting.result_rows({"f1": 0.5}, dataset="d", model="m", threshold_rule="r", seed=0, protocol="p")
    good += reporting.result_rows({"f1": 0.6}, dataset="d", model="m", threshold_rule="r", seed=1, protocol="p")
    table = pd.concat([pd.DataFrame(good), marked.assign(protocol="p")], ignore_index=True).assign(table="t")
    spec = reporting.SummarySpec("k", "K", ("t",), r"^p$", ("r",), ("f1",), min_runs=1)
    stats = reporting.summary_stats(table, spec)
    assert list(stats["model"]) == ["m"]  # the post hoc variant scored higher, and is not in the summary
    with pytest.raises(InputError, match="no 'kind' column"):
        evaluation.post_hoc(pd.DataFrame({"model": ["m"]}))


def test_no_committed_row_that_reads_test_data_is_ours():
    from anomalylab import evaluation

    tables = reporting.read_tables()
    assert set(tables["kind"]) <= set(evaluation.KINDS)
    ours = tables[tables["kind"] == "ours"]
    assert not ours["threshold_rule"].isin(list(evaluation.PROTOCOL_RULES)).any()
    # every rule name a committed ours row uses is one this repository defines without the test split
    assert set(ours["threshold_rule"].fillna("")) <= OURS_RULES, set(ours["threshold_rule"].fillna("")) - OURS_RULES


# Threshold rules of the committed tables that read only training/validation data (or none): a new rule name
# must be added here after checking that it never reads test scores or labels.
OURS_RULES = {
    "", "relative_0.40", "val_mean_3sd", "trainval_best_f2", "company_flags", "train_mean_3sd", "nab_dev_optimised",
    "val_q95", "val_q99", "val_best_f1", "val_best_f2", "per_cluster_q95", "per_cluster_q99", "p_0.5",
}


def test_update_readme_rewrites_only_the_generated_parts(tmp_path):
    tables = tmp_path / "tables"
    tables.mkdir()
    _summary_rows().drop(columns="table").to_csv(tables / "01_first.csv", index=False)
    readme = tmp_path / "README.md"
    readme.write_text(f"# top\n\n{reporting.README_START}\nstale\n{reporting.README_END}\n\nbottom\n")
    spec = reporting.SummarySpec("mixtiles", "A title: more", ("01_first",), r"^ours$", ("r",), ("f1",), min_runs=2)
    assert reporting.update_readme(readme, tables, specs=(spec,)) is True
    text = readme.read_text()
    assert text.startswith("# top\n") and text.endswith("bottom\n") and "stale" not in text
    assert "| A title | a | alpha | r | f1 | 0.850 ± 0.635 (2) |" in text  # 2 runs each: alpha and beta tie
    results = (tmp_path / "RESULTS.md").read_text()
    assert "#### A title" in results and "0.850 ± 0.635" in results
    assert reporting.update_readme(readme, tables, specs=(spec,)) is False  # already up to date
    readme.write_text("no markers here")
    with pytest.raises(InputError, match="markers"):
        reporting.update_readme(readme, tables)


def test_the_committed_readme_and_results_match_the_committed_tables():
    from anomalylab import paths

    tables = reporting.read_tables()
    text = (paths.ROOT / "README.md").read_text()
    section = text.split(reporting.README_START, 1)[1].split(reporting.README_END, 1)[0].strip()
    stale = "is stale: run `make readme` (python -m anomalylab.reporting)."
    expected = reporting.readme_markdown(tables, ledger=reporting.read_ledger()).strip()
    assert section == expected, f"README.md's results table {stale}"
    results = (paths.ROOT / reporting.RESULTS_FILE).read_text()
    assert reporting.results_markdown(tables).strip() in results, f"RESULTS.md {stale}"


def test_pareto_front_keeps_the_points_nothing_beats():
    cost = [1, 2, 3, 4, 2, np.nan]
    quality = [0.5, 0.7, 0.6, 0.9, 0.7, 1.0]
    # (3, 0.6) is beaten by (2, 0.7); the two (2, 0.7) tie and both stay; NaN cost is never on the front
    assert list(reporting.pareto_front(cost, quality)) == [True, True, False, True, True, False]
    with pytest.raises(InputError, match="shape"):
        reporting.pareto_front([1, 2], [1])


def test_git_sha_is_dirty_for_changed_code_but_not_for_new_notebook_outputs(tmp_path):
    import json
    import subprocess

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    def notebook(source, outputs=()):
        cell = {"cell_type": "code", "source": source, "outputs": list(outputs), "metadata": {},
                "execution_count": None}  # fmt: skip
        return json.dumps({"cells": [cell, {"cell_type": "markdown", "source": "# t", "metadata": {}}]})

    (tmp_path / "anomalylab").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "anomalylab" / "m.py").write_text("x = 1\n")
    (tmp_path / "notebooks" / "01_a.ipynb").write_text(notebook("print(1)"))
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "init", "--allow-empty")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "files")
    clean = reporting.git_sha(tmp_path)
    assert len(clean) == 12 and not clean.endswith("-dirty")
    (tmp_path / "notebooks" / "01_a.ipynb").write_text(notebook("print(1)", [{"output_type": "stream", "text": "1"}]))
    (tmp_path / "figures.png").write_text("untracked output")
    assert reporting.git_sha(tmp_path) == clean  # an executed copy of the same notebook is still clean
    (tmp_path / "notebooks" / "01_a.ipynb").write_text(notebook("print(2)"))
    assert reporting.git_sha(tmp_path) == f"{clean}-dirty"  # changed code in a notebook
    git("checkout", "-q", "--", "notebooks")
    (tmp_path / "anomalylab" / "m.py").write_text("x = 2\n")
    assert reporting.git_sha(tmp_path) == f"{clean}-dirty"  # changed package
    assert reporting.git_sha(tmp_path / "no-such-dir") == "unknown"


def test_summary_bars_grey_out_protocol_rows_and_the_pareto_front_holds_ranked_ours_rows_only():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from anomalylab import plotting

    spec = reporting.SummarySpec("k", "title", ("01_first", "02_copy"), r"^ours$", ("r",), ("f1",),
                                 published=r"^seed paper", min_runs=2)  # fmt: skip
    stats = reporting.summary_stats(_summary_rows(), spec)
    fig, ax = plt.subplots()
    plotting.plot_summary_bars(ax, stats, "f1")
    from matplotlib.container import BarContainer

    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    colours = {c.get_label(): tuple(np.round(c.patches[0].get_facecolor(), 3)) for c in bars}
    labels = [c.get_label() for c in bars]
    assert labels == ["ours (ranked)", "ours, too few seeds (not ranked)",
                      "protocol: reads the test split (not ranked)", "published (own protocol)"]  # fmt: skip
    assert colours["ours (ranked)"] != colours["protocol: reads the test split (not ranked)"]
    assert colours["ours, too few seeds (not ranked)"][3] < 1  # paler than the ranked rows
    fig, ax = plt.subplots()
    plotting.plot_quality_cost(ax, stats, "f1")
    named = [t.get_text() for t in ax.get_legend().get_texts()][1:]  # after "Pareto front": "1. <label>", ...
    assert [t.get_text() for t in ax.texts] == [str(i) for i in range(1, len(named) + 1)]  # one number per point
    assert {n.split(". ", 1)[1] for n in named} <= {"alpha · r", "beta · r"} and "1. alpha · r" in named  # gamma
    # (one seed) and the protocol row: not on the front
    plt.close("all")


def test_metric_text_quotes_the_table_and_refuses_an_empty_selection():
    table = _summary_rows()
    first = table[table["table"] == "01_first"]
    assert reporting.metric_text(first, "f1", model="alpha", threshold_rule="r") == "0.850 ± 0.635"
    assert reporting.metric_text(table, "f1", model="paper") == "0.990"
    with pytest.raises(InputError, match="no 'f1' rows"):
        reporting.metric_text(table, "f1", model="nobody")


def test_roc_pr_legends_sit_below_the_curves_and_name_every_model():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from anomalylab import plotting

    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.2
    scores = {f"model_{i}": y * i / 4 + rng.normal(size=500) for i in range(12)}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    plotting.plot_roc_pr(axes, y, scores, title="T:")
    fig.tight_layout()
    fig.canvas.draw()
    for ax in axes:
        legend, box = ax.get_legend(), ax.get_window_extent()
        assert 0 <= legend.get_window_extent().y0 and legend.get_window_extent().y1 < box.y0  # below, not clipped
        names = [t.get_text().split(" (")[0] for t in legend.get_texts()]
        assert names[:12] == list(scores)
    styles = [line.get_linestyle() for line in axes[0].get_lines()[:12]]
    assert styles[:10] == ["-"] * 10 and styles[10:] == ["--", "--"]  # the 11th model does not repeat the 1st
    plt.close("all")


def test_a_sparse_alarm_is_named_and_left_out_of_threshold_free_rankings_only():
    rng = np.random.default_rng(0)
    dense, sparse = rng.random(1000), np.zeros(1000)
    sparse[:5] = 1.0
    assert reporting.sparse_alarm(dense) is None and reporting.sparse_alarm([]) is None
    assert reporting.sparse_alarm(np.r_[sparse, np.nan]) == ("scores 0 on 99.5% of its rows (a sparse alarm): a "
                                                             "threshold-free metric cannot rank it")  # fmt: skip
    assert reporting.sparse_alarm(np.r_[np.zeros(980), rng.random(20)]) is None  # 98 %: still ranked
    series = ["a/s1", "a/s2", "a/s3"]
    rows = pd.DataFrame([
        {"protocol": "nab_v1.1_per_series", "series": s, "model": m, "seed": np.nan, "metric": metric, "value": v}
        for s in series for m in ("dense (NAB)", "alarm (NAB)") for metric, v in (("vus_pr", 0.3), ("nab_standard", 5))
    ])  # fmt: skip
    split = pd.Series("eval", index=series)
    matrices = reporting.nab_series_matrices(rows, split, 3, sparse={"alarm (NAB)": "a sparse alarm"})
    assert list(matrices["VUS-PR, every series with a window"].columns) == ["dense (NAB)"]
    assert list(matrices["NAB standard score per series, evaluation half"].columns) == ["alarm (NAB)", "dense (NAB)"]
    kinds = rows.assign(kind=np.where(rows["model"] == "alarm (NAB)", "published", "ours"))
    mine = pd.concat([kinds, kinds.assign(model="mine", kind="ours")])
    sparse = {"alarm (NAB)": "a sparse alarm", "mine": "a sparse alarm"}
    kept = reporting.without_sparse(mine, sparse)
    assert set(kept.query("metric == 'vus_pr'")["model"]) == {"dense (NAB)"}
    assert len(kept.query("metric == 'nab_standard'")) == len(mine.query("metric == 'nab_standard'"))
    shipped = reporting.without_sparse(mine, sparse, keep_published=True)  # NAB's own rows as shipped
    assert set(shipped.query("metric == 'vus_pr'")["model"]) == {"dense (NAB)", "alarm (NAB)"}
    assert reporting.without_sparse(mine, {}) is mine
