import numpy as np
import pandas as pd
import pytest

from anomalylab import reporting
from anomalylab.errors import InputError
from anomalylab.reporting import scores as scores_module


def _pair(n=50, seed=0):
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.2).astype(int)
    split = np.where(np.arange(n) < 20, "val", "test")
    points = reporting.point_rows(labels, split, dataset="toy", series="a", positions=np.arange(100, 100 + n),
                                  value=rng.normal(size=n), timestamp=pd.date_range("2024-01-01", periods=n, freq="h"))
    scores = pd.concat([
        reporting.score_rows(rng.random(n) + labels, dataset="toy", series="a", model=m, seed=0,
                             positions=np.arange(100, 100 + n), threshold=0.9, threshold_rule="val_q99")
        for m in ("m1", "m2")])
    return points, scores


def test_score_files_round_trip_in_compact_types(tmp_path):
    points, scores = _pair()
    out = reporting.write_scores(points, scores, "02_toy", scores_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["02_toy.points.parquet", "02_toy.scores.parquet"]
    assert set(out) == {"points", "scores"}
    read_points, read_scores = reporting.read_scores(tmp_path)
    assert read_scores["score"].dtype == np.float64 and read_points["label"].dtype == np.int8
    assert set(read_scores["file"]) == {"02_toy"} and len(read_scores) == 100 and len(read_points) == 50
    np.testing.assert_array_equal(read_scores["score"], scores["score"])
    np.testing.assert_array_equal(read_points["timestamp"], points["timestamp"])
    assert read_scores.query("model == 'm1'")["threshold"].iloc[0] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda p, s: (p.drop(columns="label"), s), "lacks column"),
        (lambda p, s: (p.assign(label=2), s), "0/1"),
        (lambda p, s: (p.assign(split="train"), s), "keep only"),
        (lambda p, s: (pd.concat([p, p.head(1)]), s), "twice in the points"),
        (lambda p, s: (p, s.assign(position=s["position"] + 1000)), "missing from the points"),
        (lambda p, s: (p, s.assign(score=np.nan)), "NaN or infinite"),
        (lambda p, s: (p, pd.concat([s, s.query("model == 'm1'").assign(seed=1)])), "one seed per model"),
        (lambda p, s: (p, s.assign(kind="mine")), "kind must be"),
        (lambda p, s: (p.head(0), s), "no rows"),
    ],
)
def test_bad_score_frames_are_refused_and_nothing_is_written(tmp_path, change, match):
    points, scores = change(*_pair())
    with pytest.raises(InputError, match=match):
        reporting.write_scores(points, scores, "02_toy", scores_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_size_budget_is_enforced_with_nothing_left_behind(tmp_path, monkeypatch):
    points, scores = _pair()
    reporting.write_scores(points, scores, "02_small", scores_dir=tmp_path)
    monkeypatch.setattr(scores_module, "SCORES_BUDGET", sum(p.stat().st_size for p in tmp_path.iterdir()) + 10)
    with pytest.raises(InputError, match="over the budget"):
        reporting.write_scores(points, scores, "03_more", scores_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["02_small.points.parquet", "02_small.scores.parquet"]


def test_sample_positions_are_seeded_sorted_and_whole_when_small():
    a, b = reporting.sample_positions(1000, 50, seed=1), reporting.sample_positions(1000, 50, seed=1)
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 50 and np.all(np.diff(a) > 0) and a.max() < 1000
    assert not np.array_equal(a, reporting.sample_positions(1000, 50, seed=2))
    np.testing.assert_array_equal(reporting.sample_positions(30, 50), np.arange(30))
    with pytest.raises(InputError):
        reporting.sample_positions(10, 0)


def test_reading_an_empty_folder_says_what_to_do(tmp_path):
    with pytest.raises(InputError, match="run the notebooks"):
        reporting.read_scores(tmp_path)


def test_series_scores_keep_validation_and_test_rows_with_each_models_own_threshold(tmp_path):
    from anomalylab import evaluation
    from anomalylab.models.classical import RandomScore, SeasonalNaive

    n = 24 * 20
    t = np.arange(n)
    values = 100 + 30 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 1, n)
    labels = np.zeros(n, dtype=int)
    labels[[300, 400]] = 1
    values[[300, 400]] *= 2
    split = np.array(["train"] * 240 + ["val"] * 96 + ["test"] * (n - 336))
    frame = pd.DataFrame({"value": values, "is_anomaly": labels, "split": split},
                         index=pd.date_range("2024-01-01", periods=n, freq="h"))
    rules = {"fixed": evaluation.rule_fixed(0.4), "q99": evaluation.rule_val_quantile(0.99)}
    table, scores = evaluation.evaluate_series_grid(
        {"naive": (lambda s: SeasonalNaive((24,)), [None], rules), "random": (lambda s: RandomScore(s), [0, 1], rules)},
        frame, dataset="toy", progress=False)
    chosen = {"naive": "fixed", "random": "q99"}
    points, kept = reporting.series_scores(frame, scores, table, dataset="toy", rules=chosen)
    assert len(points) == n - 240 and set(points["split"]) == {"val", "test"}
    assert points["position"].min() == 240 and points["timestamp"].iloc[0] == frame.index[240]
    naive = kept[kept["model"] == "naive"]
    assert naive["seed"].isna().all() and naive["threshold"].iloc[0] == 0.4
    random = kept[kept["model"] == "random"]
    assert set(random["seed"]) == {0} and random["threshold_rule"].iloc[0] == "q99"
    expected = table.query("model == 'random' and seed == 0 and threshold_rule == 'q99'")["threshold"].iloc[0]
    assert random["threshold"].iloc[0] == pytest.approx(expected)
    np.testing.assert_allclose(random["score"], scores["random"][0].to_numpy()[240:])
    reporting.write_scores(points, kept, "02_toy", scores_dir=tmp_path)  # the pair passes the checks
    with pytest.raises(InputError, match="no scores for"):
        reporting.series_scores(frame, scores, table, dataset="toy", rules={"other": "fixed"})
    with pytest.raises(InputError, match="one threshold for"):
        reporting.series_scores(frame, scores, table, dataset="toy", rules={"naive": "nope"})


def test_nab_scores_keep_the_rows_after_probation_once_with_each_models_threshold(tmp_path):
    frames = []
    for name, n in (("a/one", 40), ("b/two", 30)):
        stamps = pd.date_range("2024-01-01", periods=n, freq="5min")
        frames.append(pd.DataFrame({"series": name, "timestamp": stamps, "value": np.arange(n, dtype=float),
                                    "in_window": np.arange(n) >= n - 5, "probationary": np.arange(n) < 10}))
    corpus = pd.concat(frames, ignore_index=True)
    runs = {"ours": corpus.assign(anomaly_score=np.linspace(0, 1, len(corpus))),
            "theirs (NAB)": corpus.assign(anomaly_score=0.5)}
    thresholds = {"ours": {"threshold": 0.7, "threshold_rule": "nab_dev_optimised", "kind": "ours", "seed": 0},
                  "theirs (NAB)": {"threshold": 0.4, "threshold_rule": "nab_shipped", "kind": "published"}}
    points, kept = reporting.nab_scores(runs, thresholds)
    assert len(points) == 50 and set(points["series"]) == {"a/one", "b/two"} and points["label"].sum() == 10
    assert points.query("series == 'a/one'")["position"].tolist() == list(range(10, 40))
    ours = kept.query("model == 'ours'")
    np.testing.assert_allclose(ours["score"], runs["ours"].loc[~corpus["probationary"], "anomaly_score"])
    assert set(kept.query("model == 'theirs (NAB)'")["kind"]) == {"published"} and ours["seed"].iloc[0] == 0
    reporting.write_scores(points, kept, "02_nab", scores_dir=tmp_path)
    with pytest.raises(InputError, match="other rows"):
        reporting.nab_scores({**runs, "short": runs["ours"].iloc[:-1]}, {**thresholds, "short": thresholds["ours"]})
    with pytest.raises(InputError, match="no threshold"):
        reporting.nab_scores(runs, {"ours": thresholds["ours"]})


def test_table_threshold_finds_exactly_one():
    table = pd.DataFrame({"model": ["m", "m", "m"], "seed": [0, 0, np.nan], "threshold_rule": ["r", "r", "r"],
                          "metric": ["f1", "f2", "f2"], "threshold": [0.5, 0.5, 0.9], "kind": "ours"})
    assert reporting.table_threshold(table, model="m", seed=0, threshold_rule="r") == (0.5, "ours")
    assert reporting.table_threshold(table, model="m", seed=None, threshold_rule="r") == (0.9, "ours")
    with pytest.raises(InputError, match="found 2"):
        reporting.table_threshold(table, model="m", threshold_rule="r")


def test_table_scores_keep_a_seeded_sample_of_the_first_draw_with_its_thresholds(tmp_path):
    from anomalylab import evaluation
    from anomalylab.models.classical import PCAReconstruction, RandomScore

    def draw(seed):
        rng = np.random.default_rng(seed)
        X_test = np.r_[rng.normal(size=(300, 4)), rng.normal(4, 1, size=(100, 4))]
        y_test = np.r_[np.zeros(300, int), np.ones(100, int)]
        return evaluation.table_splits(rng.normal(size=(500, 4)), X_test, y_test, seed=seed, protocol="toy")

    rules = {"val_q95": evaluation.table_rule_val_quantile(0.95)}
    models = {"pca": (lambda s: PCAReconstruction(n_components=2), rules), "random": (lambda s: RandomScore(s), rules)}
    table, scores, splits = evaluation.evaluate_table_draws(models, draw, [0, 1], dataset="toy", progress=False)
    points, kept = reporting.table_scores(scores, splits, table, dataset="kdd_k2", rule="val_q95",
                                          protocol=table["protocol"].iloc[0], size=150)
    assert len(points) == 150 and set(points["category"]) == {"normal", "anomaly"}
    np.testing.assert_array_equal(points["position"], reporting.sample_positions(400, 150))
    np.testing.assert_array_equal(points["label"], splits.y_test[points["position"]])
    pca = kept[kept["model"] == "pca"]
    np.testing.assert_allclose(pca["score"], scores["pca"].iloc[:, 0].to_numpy()[points["position"]])
    expected = table.query("model == 'pca' and seed == 0 and threshold_rule == 'val_q95'")["threshold"].iloc[0]
    assert pca["threshold"].iloc[0] == pytest.approx(expected) and set(kept["seed"]) == {0}
    reporting.write_scores(points, kept, "04_toy", scores_dir=tmp_path)


def test_the_committed_score_files_pass_the_checks_and_fit_the_budget():
    folder = scores_module.scores_dir_of()
    files = sorted(folder.glob("*.parquet"))
    assert files, "figures/scores holds no score files: run the notebooks (make reproduce) and commit them"
    assert sum(p.stat().st_size for p in files) <= reporting.SCORES_BUDGET
    points, scores = reporting.read_scores()  # every pair passes check_scores
    assert set(scores["kind"]) <= {"ours", "protocol", "published"} and scores["threshold"].notna().all()
    # a model kept as protocol (ECOD: PyOD scores new rows with the rows being scored) is protocol in its tables too
    table_kinds = reporting.read_tables().groupby(["model", "threshold_rule"])["kind"].agg(set)
    kept = scores.drop_duplicates(["dataset", "model", "threshold_rule", "kind"])
    assert set(kept.loc[kept["kind"] == "protocol", "model"]) == {"ecod"}
    for _, row in kept[kept["kind"] != "published"].iterrows():
        kinds = table_kinds.get((row["model"], row["threshold_rule"]), set())
        assert (kinds == {"protocol"}) if row["kind"] == "protocol" else ("protocol" not in kinds), row.to_dict()
    assert {"mixtiles", "nab", "spike_series"} <= set(points["dataset"])


def test_metrics_recomputed_from_the_score_files_equal_the_tables(tmp_path):
    """Scores near 1 that differ in a run (as NAB's likelihoods do) stay apart in the files: the NAB score at the
    table's threshold and the ROC-AUC recomputed from the files equal those of the run (float32 made them 1.0)."""
    from sklearn.metrics import roc_auc_score

    from anomalylab.evaluation.nab import _nab_parts
    from anomalylab.metrics import nab_score

    frames = []
    for name, n in (("a/one", 400), ("b/two", 300)):
        stamps = pd.date_range("2024-01-01", periods=n, freq="5min")
        frames.append(pd.DataFrame({"series": name, "timestamp": stamps, "value": np.arange(n, dtype=float),
                                    "in_window": (np.arange(n) >= n - 40) & (np.arange(n) < n - 20),
                                    "probationary": np.arange(n) < 60}))
    corpus = pd.concat(frames, ignore_index=True)
    rng = np.random.default_rng(0)
    score = 1 - 1e-9 * rng.integers(1, 1000, len(corpus)) * np.where(corpus["in_window"], 0.5, 1.0)
    run = corpus.assign(anomaly_score=score)
    threshold = float(np.quantile(score, 0.9))
    points, kept = reporting.nab_scores({"ours": run}, {"ours": {"threshold": threshold, "threshold_rule": "r",
                                                                 "kind": "ours", "seed": 0}})  # fmt: skip
    reporting.write_scores(points, kept, "02_nab", scores_dir=tmp_path)
    read_points, read = reporting.read_scores(tmp_path)
    assert read["threshold"].iloc[0] == threshold
    windows = pd.DataFrame([(name, g["timestamp"][g["in_window"]].min(), g["timestamp"][g["in_window"]].max())
                            for name, g in corpus.groupby("series")], columns=["series", "start", "end"])
    stored = run.copy()
    after = ~stored["probationary"].to_numpy()
    stored.loc[after, "anomaly_score"] = read["score"].to_numpy()  # same rows, same order
    expected = nab_score(_nab_parts(run, windows), threshold=threshold)["score"]
    assert nab_score(_nab_parts(stored, windows), threshold=threshold)["score"] == expected
    labels = read_points["label"].to_numpy()
    assert roc_auc_score(labels, read["score"]) == roc_auc_score(labels, score[after])
    assert len(np.unique(read["score"])) == len(np.unique(score[after]))


def test_score_files_of_an_older_anomalylab_are_read_with_a_warning(tmp_path):
    points, scores = _pair()
    reporting.write_scores(points, scores, "02_toy", scores_dir=tmp_path)
    old = pd.read_parquet(tmp_path / "02_toy.scores.parquet")
    old[["score", "threshold"]] = old[["score", "threshold"]].astype("float32")
    old.to_parquet(tmp_path / "02_toy.scores.parquet", index=False)
    with pytest.warns(UserWarning, match="stored as float32"):
        reporting.read_scores(tmp_path)
