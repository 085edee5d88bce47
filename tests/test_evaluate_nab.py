"""``anomalylab evaluate nab``: NAB's shipped ARTime files, copied as if a newcomer had made them, get the project's
whole treatment and the numbers NAB's own scoreboard gives them; broken result folders are refused by name."""

import re
import shutil

import pandas as pd
import pytest

from anomalylab import cli, datasets
from anomalylab.cli.evaluate import evaluate_nab


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory):
    root = tmp_path_factory.mktemp("results") / "ARTime"
    for key in datasets.nab_series_names():
        category, stem = key.split("/", 1)
        target = root / category / f"ARTime_{stem}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(datasets.fetch(f"nab/results/ARTime/{category}/ARTime_{stem}.csv"), target)
    thresholds = root.parent / "thresholds.json"
    shutil.copy(datasets.fetch(datasets.NAB_THRESHOLDS_FILE), thresholds)
    return root, thresholds


def test_a_newcomers_results_get_nabs_scores_and_a_place_in_the_ranking(newcomer, tmp_path, capsys):
    root, thresholds = newcomer
    assert cli.main(["evaluate", "nab", str(root), "--thresholds", str(thresholds), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "corpus, the given threshold: 74.85" in printed  # NAB's final_results.json: 74.85
    assert "eval, the development half's optimum (ours): 67.37" in printed
    assert "eval, the given threshold: 67.46" in printed
    # the ranking holds the tables' detectors (the quick tables when a quick run wrote them): ARTime is near the top
    place = re.search(r"NAB standard score per series, evaluation half: (\d+)(?:st|nd|rd|th) of (\d+)", printed)
    assert place and int(place[1]) <= 3 and int(place[2]) >= 10, printed
    assert "left out of the VUS-PR ranking" in printed
    rows = pd.read_csv(tmp_path / "ARTime_nab.csv")
    ours = rows.query("protocol == 'nab_v1.1_eval_half' and threshold_rule == 'nab_dev_optimised' "
                      "and metric == 'nab_standard' and series.isna()")  # fmt: skip
    assert ours["kind"].tolist() == ["ours"] and round(ours["value"].iloc[0], 2) == 67.37
    assert set(rows.loc[rows["threshold_rule"].isin(["given_thresholds", "nab_corpus_optimised"]), "kind"]) == {
        "protocol"}  # thresholds tuned on every series read the evaluation half's labels
    ranks = pd.read_csv(tmp_path / "ARTime_nab_ranks.csv", index_col="model")
    assert "ARTime" in ranks.index and "ARTime (NAB)" in ranks.index
    assert (tmp_path / "ARTime_nab_ranks.png").read_bytes()[:4] == b"\x89PNG"


def test_the_ranking_is_06s_when_the_newcomer_is_left_out(newcomer):
    """The matrices the command ranks are notebook 06's, plus one column: the newcomer's."""
    from anomalylab import reporting

    result = evaluate_nab(newcomer[0])
    sparse = reporting.nab_sparse_alarms()
    base = reporting.nab_series_matrices(reporting.read_tables(), datasets.nab_split(), 3, sparse=sparse)
    for title, r in result["rankings"].items():
        assert set(r["ranks"].index) == set(base[title].columns) | {"ARTime"}
    # ARTime's scores are a sparse alarm: no VUS-PR ranking, for NAB's copy of it or for the newcomer's
    assert "ARTime (NAB)" in sparse and result["sparse"].startswith("scores 0 on 99.9% of its rows")
    assert "ARTime (NAB)" not in base["VUS-PR, every series with a window"].columns
    assert list(result["rankings"]) == ["NAB standard score per series, evaluation half"]


def _broken(root, tmp_path, how):
    broken = tmp_path / "mine"
    shutil.copytree(root, broken)
    first = broken / "realKnownCause" / "mine_nyc_taxi.csv"
    for path in broken.rglob("ARTime_*.csv"):
        path.rename(path.with_name(path.name.replace("ARTime_", "mine_", 1)))
    if how == "missing":
        first.unlink()
    elif how == "short":
        first.write_text("".join(first.read_text().splitlines(keepends=True)[:50]))
    elif how == "text":
        frame = pd.read_csv(first).astype({"anomaly_score": object})
        frame.loc[3, "anomaly_score"] = "high"
        frame.to_csv(first, index=False)
    elif how == "no column":
        pd.read_csv(first).drop(columns="anomaly_score").to_csv(first, index=False)
    return broken


@pytest.mark.parametrize("how, message", [
    ("missing", r"lacks 1 of the 58 result files, e.g. \['realKnownCause/mine_nyc_taxi.csv'\]"),
    ("short", "has 49 rows where NAB series realKnownCause/nyc_taxi has 10,320"),
    ("text", "anomaly_score holds 1 value"),
    ("no column", "lacks a column NAB's results layout has"),
])  # fmt: skip
def test_a_broken_results_folder_is_refused_by_name(how, message, newcomer, tmp_path, capsys):
    broken = _broken(newcomer[0], tmp_path, how)
    assert cli.main(["evaluate", "nab", str(broken), "--out", str(tmp_path / "out")]) == 2
    import re

    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content, message", [
    ("[1, 2]", "has no entry for 'ARTime'"),
    ('{"ARTime": {"standard": {"threshold": "0.5"}}}', "has no entry for 'ARTime' with the profiles"),
    ("not json", "is not JSON"),
    ('{"ARTime": {"standard": {"threshold": Infinity}, "reward_low_FP_rate": {"threshold": 0.5}, '
     '"reward_low_FN_rate": {"threshold": 0.5}}}', "must be a finite number, got inf"),
])  # fmt: skip
def test_a_bad_thresholds_file_is_refused(content, message, newcomer, tmp_path, capsys):
    bad = tmp_path / "t.json"
    bad.write_text(content)
    assert cli.main(["evaluate", "nab", str(newcomer[0]), "--thresholds", str(bad)]) == 2
    assert message in capsys.readouterr().err


def test_a_folder_without_a_detector_is_refused(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    assert cli.main(["evaluate", "nab", str(tmp_path)]) == 2
    assert "holds no detector folder(s)" in capsys.readouterr().err
