import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import fbeta_score

from anomalylab import evaluation as ev
from anomalylab.errors import InputError
from anomalylab.models.classical import PCAReconstruction, RandomScore, RollingZScore, SeasonalNaive, WindowedGaussian
from anomalylab.models.likelihood import RED_LOG_SCORE


def _hourly(n=24 * 30, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    values = 1000 + 300 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 10, n)
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=n, freq="h"), name="value")


def _frame(n=24 * 30, spikes=(200, 700)):
    series = _hourly(n)
    labels = np.zeros(n, dtype=int)
    for i in spikes:
        series.iloc[i] *= 2.0
        labels[i] = 1
    split = np.array(["train"] * int(0.6 * n) + ["val"] * int(0.2 * n))
    split = np.concatenate([split, ["test"] * (n - len(split))])
    return pd.DataFrame({"value": series, "is_anomaly": labels, "split": split})


def test_seasonal_naive_scores_the_relative_error_to_one_season_ago():
    series = _hourly(100)
    det = SeasonalNaive((24,)).fit(series)
    scores = det.score_samples(series)
    assert scores.index.equals(series.index) and scores.isna().sum() == 24  # the first season has no score
    assert scores.dropna().index.equals(det.forecast_index(series)) and len(det.forecast_index(series)) == 76
    expected = np.abs(series.to_numpy()[24:] - series.to_numpy()[:-24]) / series.to_numpy()[24:]
    np.testing.assert_allclose(scores.iloc[24:], expected)
    both = SeasonalNaive((24, 48)).fit(series).score_samples(series)
    other = np.abs(series.to_numpy()[48:] - series.to_numpy()[:-48]) / series.to_numpy()[48:]
    np.testing.assert_allclose(both.iloc[48:], np.minimum(expected[24:], other))


def test_rolling_zscore_uses_only_the_past():
    values = pd.Series(np.r_[np.tile([1.0, 2.0], 10), 100.0])
    det = RollingZScore(window=20).fit(values)
    z = det.score_samples(values)
    past = values.iloc[:20]
    assert z.iloc[-1] == pytest.approx((100 - past.mean()) / past.std()) and z.isna().sum() == 20
    g = WindowedGaussian(window=20, min_history=5).fit(values).score_samples(values).dropna()
    assert ((g >= 0) & (g <= 1)).all() and g.iloc[-1] == pytest.approx(1.0) and len(g) == len(values) - 5


def test_random_score_is_seeded():
    a, b, c = (RandomScore(s).fit(None).score_samples(np.zeros(50)) for s in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_evaluate_series_thresholds_never_see_the_test_split():
    frame = _frame()
    seen = {}

    def spy(scores, labels, split):
        seen["split"] = set(split)
        seen["n"] = len(scores)
        return 0.5

    table, scores = ev.evaluate_series(
        lambda seed: SeasonalNaive((24,)), frame, {"spy": spy, "fixed": ev.rule_fixed(0.4)},
        dataset="toy", model="sn", progress=False,
    )  # fmt: skip
    assert seen["split"] == {"train", "val"}
    assert seen["n"] == (frame["split"] != "test").sum() - 24  # the first 24 h have no score
    f1 = table.query("metric == 'f1' and threshold_rule == 'fixed'")["value"].item()
    assert f1 == 1.0  # the one test spike doubles the value: relative error 0.5 >= 0.4, nothing else moves
    assert set(table["metric"]) >= {"precision", "recall", "f2", "pr_auc", "event_recall", "fit_seconds"}
    assert scores["deterministic"].isna().sum() == 24


def test_evaluate_series_refuses_bad_frames_and_unscored_test_points():
    frame = _frame()
    with pytest.raises(InputError, match="lacks column"):
        ev.evaluate_series(lambda s: SeasonalNaive(), frame.drop(columns="split"), {}, dataset="d", model="m")
    bad = frame.assign(split="train")
    with pytest.raises(InputError, match="'train', 'val' and 'test'"):
        ev.evaluate_series(lambda s: SeasonalNaive(), bad, {}, dataset="d", model="m")
    scores = pd.Series(np.nan, index=frame.index)
    with pytest.raises(InputError, match="no score"):
        ev.evaluate_scores(scores, frame, {"fixed": ev.rule_fixed(1)}, dataset="d", model="m")


def test_oracle_rows_give_the_best_f2_any_threshold_reaches_on_the_test_rows():
    rng = np.random.default_rng(3)
    frame = _frame(spikes=())
    is_test = (frame["split"] == "test").to_numpy()
    labels = np.zeros(len(frame), dtype=int)
    labels[np.flatnonzero(is_test)[rng.choice(is_test.sum(), 12, replace=False)]] = 1
    frame["is_anomaly"] = labels
    scores = pd.DataFrame({0: rng.random(len(frame)) + labels * 0.3, 1: rng.random(len(frame))}, index=frame.index)
    scores.loc[~is_test, 0] = 99.0  # non-test scores do not matter to the oracle
    rows = pd.DataFrame(ev.oracle_rows(scores, frame, dataset="d", model="m", protocol="p"))
    assert set(rows["kind"]) == {"protocol"} and set(rows["threshold_rule"]) == {"test_best_f2 (oracle)"}
    y = labels[is_test]
    for seed in (0, 1):  # brute force with scikit-learn over every threshold the test scores offer
        s = scores[seed].to_numpy()[is_test]
        best = max(fbeta_score(y, s >= t, beta=2) for t in np.unique(s))
        f2 = rows.query("metric == 'f2' and seed == @seed")["value"].item()
        assert f2 == pytest.approx(best)
    assert rows.query("seed == 0 and metric == 'f2'")["value"].item() > rows.query("seed == 1 and metric == 'f2'")[
        "value"].item()  # the informative scores reach more
    with pytest.raises(InputError, match="no oracle rule"):
        ev.oracle_rows(scores, frame, beta=1.0, dataset="d", model="m")
    with pytest.raises(InputError, match="no score"):
        ev.oracle_rows(pd.DataFrame({0: np.nan}, index=frame.index), frame, dataset="d", model="m")


def test_unit_interval_is_monotone_and_bounded():
    s = np.array([0.0, 1.0, 5.0, 1e9, np.nan])
    u = ev.unit_interval(s, reference=np.linspace(0, 1, 101))
    assert u[0] == 0 and u[-1] == 0 and np.all(np.diff(u[:4]) > 0) and u.max() < 1
    assert u[1] == pytest.approx(0.5, abs=0.01)  # the reference's 99th percentile is 0.99
    with pytest.raises(InputError, match="non-negative"):
        ev.unit_interval(np.array([-1.0]), np.ones(3))


def _nab_corpus():
    frames = []
    for k, name in enumerate(["catA/one", "catB/two"]):
        n = 1000
        ts = pd.date_range("2024-01-01", periods=n, freq="5min")
        values = np.sin(np.arange(n) / 10) + np.random.default_rng(k).normal(0, 0.05, n)
        values[800] += 5
        frames.append(pd.DataFrame({
            "series": name, "category": name.split("/")[0], "timestamp": ts, "value": values,
            "in_window": (np.arange(n) >= 790) & (np.arange(n) <= 810),
        }))  # fmt: skip
    corpus = pd.concat(frames, ignore_index=True)
    windows = pd.DataFrame({
        "series": ["catA/one", "catB/two"],
        "start": [corpus["timestamp"][790]] * 2, "end": [corpus["timestamp"][810]] * 2,
    })  # fmt: skip
    return corpus, windows


def test_nab_run_scores_every_row_and_export_writes_nab_layout(tmp_path):
    corpus, windows = _nab_corpus()
    run = ev.nab_run(lambda seed: WindowedGaussian(window=500), corpus, rescale=None, progress=False)
    assert len(run) == len(corpus) and run["anomaly_score"].between(0, 1).all()
    rows = pd.DataFrame(ev.nab_rows(run, windows, model="wg"))
    whole = rows.query("series == '' and metric == 'nab_standard'")["value"].item()
    assert whole > 90  # the spike sits in both windows and is by far the most unusual row
    assert set(rows["series"]) == {"", "catA/*", "catB/*"}
    files = ev.export_nab_results(run, "wg", tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in files) == ["wg/catA/wg_one.csv", "wg/catB/wg_two.csv"]
    written = pd.read_csv(files[0])
    assert list(written.columns) == ["timestamp", "value", "anomaly_score", "label"]
    assert len(written) == 1000 and written["label"].sum() == 21
    with pytest.raises(InputError, match="bare name"):
        ev.export_nab_results(run, "a/b", tmp_path)
    with pytest.raises(InputError, match="'windowedgaussian'"):
        ev.export_nab_results(run, "windowed_gaussian", tmp_path)


def test_nab_run_rolling_rescale_maps_raw_scores_to_unit_interval():
    corpus, windows = _nab_corpus()
    run = ev.nab_run(lambda seed: RollingZScore(window=50), corpus, rescale="rolling", window=300, progress=False)
    assert run["anomaly_score"].between(0, 1).all()
    one = run[run["series"] == "catA/one"].reset_index(drop=True)
    assert int(one["anomaly_score"].idxmax()) == 800
    with pytest.raises(InputError, match="rescale must be"):
        ev.nab_run(lambda seed: RollingZScore(window=50), corpus, rescale="minmax", progress=False)


# --------------------------------------------------------------------------- tables (KDD protocols)


def fake_kdd(n: int, attack_share: float, seed: int = 0, labels=("smurf", "neptune")) -> pd.DataFrame:
    """Rows shaped like datasets.load_kdd's: attacks have large src_bytes, normal rows small."""
    from anomalylab.preprocessing import KDD_LOG_FEATURES

    rng = np.random.default_rng(seed)
    is_attack = (rng.random(n) < attack_share).astype("int8")
    frame = pd.DataFrame({c: rng.poisson(3, n).astype(float) for c in KDD_LOG_FEATURES})
    frame["src_bytes"] = np.where(is_attack == 1, 1e5, 1e2) * rng.uniform(0.5, 1.5, n)
    frame["protocol_type"], frame["service"], frame["flag"] = "tcp", rng.choice(["http", "smtp"], n), "SF"
    frame["label"] = np.where(is_attack == 1, rng.choice(list(labels), n), "normal")
    frame["attack_category"] = np.where(is_attack == 1, "dos", "normal")
    frame["is_attack"] = is_attack
    return frame


def test_k2_fits_on_attack_rows_of_one_half_and_makes_normal_traffic_the_outlier_class():
    frame = fake_kdd(2000, attack_share=0.8)
    k2 = ev.kdd_protocol_k2(frame, seed=0, val_fraction=0.1)
    assert len(k2.X_test) == 1000
    assert k2.y_test.mean() == pytest.approx((k2.test_rows["label"] == "normal").mean())
    assert len(k2.X_train) + len(k2.X_val) == pytest.approx(0.8 * 1000, rel=0.1)
    assert (k2.y_val == 0).all()
    # the encoder was fitted on attack rows only: their src_bytes column is centred, the test normals are far off
    col = k2.encoder.feature_names_.index("src_bytes")
    assert abs(k2.X_train[:, col].mean()) < 0.05
    assert k2.X_test[k2.y_test == 1, col].mean() < -3


def test_deduplicated_k2_drops_exact_copies_before_the_split():
    frame = fake_kdd(600, attack_share=0.8)
    copies = pd.concat([frame, frame.iloc[:400], frame.iloc[:400]], ignore_index=True)  # 1,400 rows, 600 distinct
    k2 = ev.kdd_protocol_k2(copies, seed=0, deduplicate=True)
    assert k2.protocol == "K2_dedup" and len(k2.X_test) == 300
    train_rows = {tuple(r) for r in np.round(k2.X_train, 9)}
    assert not any(tuple(r) in train_rows for r in np.round(k2.X_test, 9))  # no test row copies a training row
    plain = ev.kdd_protocol_k2(copies, seed=0)
    assert plain.protocol == "K2" and len(plain.X_test) == 700
    plain_train = {tuple(r) for r in np.round(plain.X_train, 9)}
    assert any(tuple(r) in plain_train for r in np.round(plain.X_test, 9))


def test_k1_counts_every_test_attack_as_outlier_and_samples_the_seed_subset():
    train, test = fake_kdd(3000, 0.5, seed=1), fake_kdd(3000, 0.5, seed=2, labels=("smurf", "novel"))
    k1 = ev.kdd_protocol_k1(train, test, seed=0, n_inliers=400, n_outliers=100)
    np.testing.assert_array_equal(k1.y_test, test["is_attack"].to_numpy())
    sample = k1.test_rows["sample_400_100"]
    assert sample.sum() == 500 and k1.y_test[sample.to_numpy()].sum() == 100
    assert k1.test_rows.loc[k1.test_rows["label"] == "novel", "test_only"].all()
    assert k1.y_val.sum() == len(k1.y_val[k1.y_val == 0]) // 4


def test_k1_twin_attacks_copy_a_normal_row_of_either_file_and_leave_the_without_twins_subset():
    from anomalylab.datasets import kdd_twin_rows

    train, test = fake_kdd(600, 0.5, seed=1), fake_kdd(600, 0.5, seed=2)
    features = [c for c in test.columns if c not in ("label", "attack_category", "is_attack")]
    attacks, normals = np.flatnonzero(test["is_attack"] == 1), np.flatnonzero(test["is_attack"] == 0)
    train_normal = np.flatnonzero(train["is_attack"] == 0)[0]
    test.loc[attacks[:5], features] = test.loc[normals[0], features].to_numpy()  # 5 copies of a normal test row
    test.loc[attacks[5:8], features] = train.loc[train_normal, features].to_numpy()  # 3 of a normal training row
    test.loc[normals[1], features] = test.loc[attacks[9], features].to_numpy()  # a normal copy of an attack row
    twins = kdd_twin_rows(test, train)
    assert set(np.flatnonzero(twins["twin_attack"])) == {*attacks[:8], attacks[9]}
    assert set(np.flatnonzero(twins["twin_of_train"])) == set(attacks[5:8])
    assert set(np.flatnonzero(twins["twin_normal"])) == {normals[0], normals[1]}
    k1 = ev.kdd_protocol_k1(train, test, seed=0, n_inliers=100, n_outliers=25)
    np.testing.assert_array_equal(k1.test_rows["without_twins"], ~twins["twin_attack"].to_numpy())
    with pytest.raises(InputError, match="is_attack"):
        kdd_twin_rows(test.drop(columns="is_attack"), train)


def test_twin_ceilings_and_a_models_own_ceiling_by_hand():
    # normal rows N1 N2 (own vectors), N3 N4 (vector v); attacks A1 (vector v, a twin), A2 A3 (own vectors)
    y = np.array([0, 0, 0, 0, 1, 1, 1])
    twins = pd.DataFrame({"vector": [1, 2, 9, 9, 9, 3, 4], "twin_attack": [0, 0, 0, 0, 1, 0, 0],
                          "twin_normal": [0, 0, 1, 1, 0, 0, 0]}).astype({"twin_attack": bool, "twin_normal": bool})
    got = ev.twin_ceilings(y, twins)["roc_auc"]
    # 12 attack-normal pairs; A2, A3 win all 8 of theirs; A1 ties N3 and N4 (1) and beats 0, 1 or 2 of N1, N2
    assert got.to_dict() == pytest.approx({"oracle": 11 / 12, "twins lowest": 9 / 12, "twins median": 10 / 12,
                                           "twins top": 11 / 12})
    scores = np.array([0.1, 0.5, 0.3, 0.3, 0.3, 0.2, 0.0])  # A2 and A3 badly ranked, A1 tied with its copies
    own = ev.own_ceiling(y, scores, twins)
    assert own["roc_auc"] == pytest.approx((8 + 1 + 1) / 12)  # A2, A3 lifted; A1 beats N1, ties N3 and N4
    with pytest.raises(InputError, match="rows"):
        ev.twin_ceilings(y[:-1], twins)


def test_evaluate_table_thresholds_come_from_validation_and_recall_by_groups_outliers():
    from anomalylab.models.classical import PCAReconstruction

    train, test = fake_kdd(3000, 0.5, seed=1), fake_kdd(3000, 0.5, seed=2, labels=("smurf", "novel"))
    k1 = ev.kdd_protocol_k1(train, test, seed=0, n_inliers=400, n_outliers=100)
    rules = {"val_q99": ev.table_rule_val_quantile(0.99)}
    table, scores = ev.evaluate_table(lambda s: PCAReconstruction(2), k1, rules, model="pca")
    model = PCAReconstruction(2).fit(k1.X_train)
    expected = np.quantile(model.score_samples(k1.X_val[k1.y_val == 0]), 0.99)
    assert table.query("threshold_rule == 'val_q99'")["threshold"].unique() == pytest.approx([expected])
    assert set(table["protocol"]) == {"K1_sample_400_100", "K1_whole_file", "K1_without_twins"}
    capped = ev.kdd_protocol_k1(train, test, seed=0, n_inliers=400, n_outliers=100, max_train_rows=500)
    assert capped.protocol == "K1_fit500" and len(capped.X_train) == 500  # a capped K1 says so in its name
    auc = table.query("metric == 'roc_auc' and protocol == 'K1_whole_file'")["value"].iloc[0]
    assert auc > 0.95
    flags = scores.iloc[:, 0].to_numpy() >= expected
    by_type = ev.recall_by(flags, k1.y_test, k1.test_rows)
    assert set(by_type.index) == {"smurf", "novel"}
    assert by_type["rows"].sum() == k1.y_test.sum()
    assert by_type.loc["novel", "test_only"] and not by_type.loc["smurf", "test_only"]


def test_the_k2_protocol_rule_flags_its_share_of_test_scores():
    rule = ev.table_rule_test_quantile(0.8)
    test_scores = np.arange(100.0)
    assert (test_scores >= rule(np.zeros(5), np.zeros(5), test_scores)).sum() == 20


def test_a_diverged_fit_is_reported_as_nan_with_a_warning():
    class Diverged:
        name = "diverged"

        def fit(self, X, X_val=None):
            return self

        def score_samples(self, X):
            return np.full(len(X), np.nan)

    train, test = fake_kdd(600, 0.5, seed=1), fake_kdd(600, 0.5, seed=2)
    k1 = ev.kdd_protocol_k1(train, test, seed=0, n_inliers=100, n_outliers=25)
    rules = {"val_q99": ev.table_rule_val_quantile(0.99)}
    with pytest.warns(UserWarning, match="diverged"):
        table, _ = ev.evaluate_table(lambda s: Diverged(), k1, rules, seeds=(0,), model="diverged")
    scored = table[table["threshold_rule"] == "val_q99"]
    assert scored["value"].isna().all() and len(scored) == 3 * 6  # three subsets, six metrics
    assert table.query("metric == 'fit_seconds'")["value"].notna().all()


def test_the_k2_protocol_rule_makes_protocol_rows_and_validation_rules_ours():
    from anomalylab.models.classical import PCAReconstruction

    k2 = ev.kdd_protocol_k2(fake_kdd(2000, 0.8), seed=0)
    rules = {"val_q99": ev.table_rule_val_quantile(0.99), "test_q80 (protocol)": ev.table_rule_test_quantile(0.8)}
    table, _ = ev.evaluate_table(lambda seed: PCAReconstruction(2), k2, rules, model="pca", progress=False)
    kinds = table.dropna(subset=["threshold"]).groupby("threshold_rule")["kind"].unique()
    assert list(kinds["val_q99"]) == ["ours"] and list(kinds["test_q80 (protocol)"]) == ["protocol"]


def test_nab_rows_split_the_corpus_into_a_development_and_an_evaluation_half():
    corpus, windows = _nab_corpus()
    run = ev.nab_run(lambda seed: WindowedGaussian(window=500), corpus, rescale=None, progress=False)
    split = pd.Series({"catA/one": "dev", "catB/two": "eval"})
    all_rows = pd.DataFrame(ev.nab_rows(run, windows, model="wg", split=split))
    per_category = all_rows.query("protocol == 'nab_v1.1_eval_half' and series != ''")
    assert set(per_category["series"]) == {"catB/*"} and set(per_category["kind"]) == {"ours"}  # eval half only
    rows = all_rows.query("series == ''")
    std = rows[rows["metric"] == "nab_standard"].set_index(["protocol", "threshold_rule"])
    assert set(std.index) == {("nab_v1.1", "nab_corpus_optimised"), ("nab_v1.1_eval_half", "nab_dev_optimised"),
                              ("nab_v1.1_eval_half", "nab_corpus_optimised"), ("nab_v1.1", "nab_dev_optimised")}
    assert std.loc[("nab_v1.1_eval_half", "nab_dev_optimised"), "kind"] == "ours"
    assert (std.loc[[("nab_v1.1", "nab_corpus_optimised"), ("nab_v1.1_eval_half", "nab_corpus_optimised")], "kind"]
            == "protocol").all()  # fmt: skip
    # the ours threshold is the development half's: scoring that half alone at its optimum gives the same threshold
    dev_only = pd.DataFrame(ev.nab_rows(run[run["series"] == "catA/one"], windows, model="wg"))
    dev_threshold = dev_only.query("series == '' and metric == 'nab_standard'")["threshold"].item()
    assert std.loc[("nab_v1.1_eval_half", "nab_dev_optimised"), "threshold"] == dev_threshold
    with pytest.raises(InputError, match="without a half"):
        ev.nab_rows(run, windows, model="wg", split=split.iloc[:1])


def test_nab_rescale_recomputes_scores_from_the_kept_raw_scores_without_refitting():
    corpus, _ = _nab_corpus()
    run = ev.nab_run(lambda seed: RollingZScore(window=50), corpus, rescale="rolling", window=300, progress=False)
    again = ev.nab_rescale(run, "rolling", 300)
    np.testing.assert_array_equal(again["anomaly_score"], run["anomaly_score"])
    other = ev.nab_rescale(run, "probation")
    assert other["anomaly_score"].between(0, 1).all() and not np.allclose(other["anomaly_score"], run["anomaly_score"])
    likelihood = ev.nab_rescale(run, "likelihood")
    for _, one in likelihood.groupby("series"):
        score = one["anomaly_score"].to_numpy()
        assert ((score >= 0) & (score <= 1)).all()
        start = score[:150]  # NAB's probation (150 rows): likelihood 0.5, or 1 where the range still grows
        np.testing.assert_allclose(start[start < 1], 0.0301029995664)
        assert (start < 1).sum() > 100
        assert score[800] == 1.0 and (score[150:800] < 1).all()  # the +5 jump is beyond the range seen so far


def test_the_committed_nab_split_is_the_seeded_stratified_one():
    from anomalylab import datasets

    split = datasets.nab_split()
    pd.testing.assert_series_equal(split, datasets.make_nab_split(datasets.NAB_SPLIT_SEED), check_names=False)
    assert len(split) == 58 and (split == "dev").sum() == 27
    per_category = split.groupby(split.index.str.split("/").str[0]).value_counts().unstack()
    assert ((per_category["eval"] - per_category["dev"]).between(0, 1)).all()


def test_rolling_origin_folds_expand_and_never_overlap_their_blocks():
    folds = ev.rolling_origin_folds(100, first=40, n_folds=3, val_fraction=0.25)
    blocks = [np.flatnonzero(f == "test") for f in folds]
    assert [(b[0], b[-1]) for b in blocks] == [(40, 59), (60, 79), (80, 99)]
    for f, b in zip(folds, blocks):
        fit = np.flatnonzero(np.isin(f, ["train", "val"]))
        assert fit[-1] == b[0] - 1 and (f[b[-1] + 1 :] == "unused").all()
        assert (f == "val").sum() == round(0.25 * b[0])
    with pytest.raises(InputError, match="first"):
        ev.rolling_origin_folds(100, first=100, n_folds=2)


def test_select_variant_never_reads_the_test_rows_and_picks_the_best_pooled_f2():
    frame = _frame(n=24 * 40, spikes=(300, 420, 540, 660, 900))  # 900 lies in the test rows
    seen = []

    def spy(scores, labels, split):
        seen.append(len(scores))
        return ev.rule_val_mean_k_sigma(3)(scores, labels, split)

    variants = {
        "naive_24h": (lambda seed: SeasonalNaive((24,)), [None], {"val_mean_3sd": spy}),
        "random": (lambda seed: RandomScore(seed), [0, 1], {"val_mean_3sd": ev.rule_val_mean_k_sigma(3)}),
    }
    changed = frame.copy()
    changed.loc[changed["split"] == "test", "value"] = -1.0  # test values that would wreck any fit reading them
    tables = [ev.select_variant(variants, f, first=200, n_folds=3, dataset="toy", progress=False)
              for f in (frame, changed)]  # fmt: skip
    pd.testing.assert_frame_equal(tables[0], tables[1])
    assert max(seen) < (frame["split"] != "test").sum()
    assert set(tables[0]["kind"]) == {"ours"} and set(tables[0]["metric"]) == {"precision", "recall", "f2"}
    assert ev.selected(tables[0]) == ("naive_24h", "val_mean_3sd")
    pooled = tables[0].query("model == 'naive_24h'").set_index("metric")["value"]
    assert pooled["recall"] == 1.0  # the four non-test spikes lie in the blocks and stand out against yesterday
    assert pooled["precision"] < 1.0  # a spike also echoes into the next day's error: seasonal naive's weakness
    random_f2 = tables[0].query("model == 'random' and metric == 'f2'")["value"]
    assert len(random_f2) == 2 and random_f2.max() < pooled["f2"]


def test_table_draws_give_every_model_every_seed_on_its_own_split():
    frame = fake_kdd(1500, attack_share=0.8)
    models = {
        "pca": (lambda seed: PCAReconstruction(n_components=2), {"val_q99": ev.table_rule_val_quantile(0.99)}),
        "random": (lambda seed: RandomScore(seed=seed), {"val_q99": ev.table_rule_val_quantile(0.99)}),
    }
    table, scores, splits = ev.evaluate_table_draws(models, lambda s: ev.kdd_protocol_k2(frame, seed=s), (0, 1, 2),
                                                    progress=False)  # fmt: skip
    f1 = table.query("metric == 'f1'").pivot_table(index="seed", columns="model", values="value")
    assert list(f1.index) == [0, 1, 2] and list(f1.columns) == ["pca", "random"]
    assert f1["pca"].nunique() > 1  # a deterministic detector varies with the draw of the split
    assert np.array_equal(splits.X_test, ev.kdd_protocol_k2(frame, seed=0).X_test)
    assert list(scores["pca"].columns) == [0]


def test_own_table_runs_through_the_tabular_grid_without_hand_built_splits():
    from anomalylab import evaluation
    from anomalylab.models import IsolationForestDetector, PCAReconstruction

    rng = np.random.default_rng(0)
    normal = rng.normal(size=(600, 5))
    test = np.r_[rng.normal(size=(90, 5)), rng.normal(6, 1, size=(10, 5))]
    splits = evaluation.table_splits(normal, test, np.r_[np.zeros(90), np.ones(10)], seed=1)
    assert (len(splits.X_train), len(splits.X_val), splits.y_val.sum()) == (540, 60, 0)  # 10 % held out, inliers
    models = {"iforest": (lambda s: IsolationForestDetector(seed=s), (0, 1),
                          {"val_q99": evaluation.table_rule_val_quantile(0.99)}),
              "pca": (lambda s: PCAReconstruction(2), (None,), {"val_q99": evaluation.table_rule_val_quantile(0.99)})}
    table, scores = evaluation.evaluate_table_grid(models, splits, dataset="mine", progress=False)
    auc = table[(table["metric"] == "roc_auc")].groupby("model")["value"].mean()
    assert auc["iforest"] > 0.95 and set(table["protocol"]) == {"own_table_all"} and set(table["kind"]) == {"ours"}
    with pytest.raises(InputError, match="same columns"):
        evaluation.table_splits(normal, test[:, :3], np.zeros(100))
    with pytest.raises(InputError, match="100 rows but y_test 99"):
        evaluation.table_splits(normal, test, np.zeros(99))


def test_k2_validation_outliers_come_from_the_first_half_and_change_nothing_else():
    frame = fake_kdd(2000, attack_share=0.8)
    plain, with_out = ev.kdd_protocol_k2(frame, seed=3), ev.kdd_protocol_k2(frame, seed=3, val_outliers=0.25)
    np.testing.assert_array_equal(plain.X_train, with_out.X_train)
    np.testing.assert_array_equal(plain.X_test, with_out.X_test)
    np.testing.assert_array_equal(plain.X_val, with_out.X_val[with_out.y_val == 0])
    n_in = len(plain.y_val)
    assert with_out.y_val.sum() == round(0.25 * n_in)
    test_rows = {tuple(r) for r in np.round(with_out.X_test, 9)}
    assert not any(tuple(r) in test_rows for r in np.round(with_out.X_val[with_out.y_val == 1], 9))
    with pytest.raises(InputError, match="val_outliers"):
        ev.kdd_protocol_k2(frame, val_outliers=-1)


def test_search_chooses_on_validation_only_and_checks_the_choice_on_a_second_draw():
    from dataclasses import replace

    frame = fake_kdd(2000, attack_share=0.8)
    draws = [ev.kdd_protocol_k2(frame, seed=s, val_outliers=0.25) for s in (0, 1)]
    draws = [replace(d, X_test=np.full_like(d.X_test, np.nan)) for d in draws]  # the search must not read test
    candidates = {"pca": {"random": lambda seed: RandomScore(seed=seed), "pca_2": lambda seed: PCAReconstruction(2)},
                  "random": {"a": lambda seed: RandomScore(seed=seed), "b": lambda seed: RandomScore(seed=seed + 9)}}
    search = ev.search_table(candidates, draws, max_fit_rows=300, progress=False)
    assert len(search) == 8 and set(search["fit_rows"]) == {300}
    assert ev.chosen_configs(search) == {"pca": "pca_2", "random": search.query(
        "model == 'random' and draw == 0").set_index("config")["val_pr_auc"].idxmax()}
    check = ev.search_check(search)
    assert check.loc["pca", "same_choice"] and check.loc["pca", "rank_on_draw_1"] == 1
    assert check.loc["pca", "val_pr_auc_draw_1"] > 0.9 and check.loc["pca", "spread_on_draw_1"] > 0.3
    tidy = ev.tidy_search(search)
    from anomalylab.reporting import check_table

    check_table(tidy)
    assert set(tidy["protocol"]) == {"K2_validation_draw0", "K2_validation_draw1"}
    assert len(tidy) == 8 * 3 and "pca (pca_2)" in set(tidy["model"])
    with pytest.raises(InputError, match="validation outliers"):
        ev.search_table(candidates, [ev.kdd_protocol_k2(frame, seed=0)], progress=False)
    with pytest.raises(InputError, match="draws 0 and 1"):
        ev.search_check(search[search["draw"] == 0])


def test_one_rule_type_and_one_function_decide_the_kind():
    from anomalylab.evaluation import Rule, row_kind
    from anomalylab.models.classical import PyODDetector

    series_rule, table_rule = ev.rule_val_quantile(0.99), ev.table_rule_val_quantile(0.99)
    test_rule = ev.table_rule_test_quantile(0.8)
    assert all(isinstance(r, Rule) for r in (series_rule, table_rule, test_rule, ev.rule_fixed(1)))
    assert row_kind(series_rule) == row_kind(table_rule) == "ours"
    assert row_kind(test_rule) == "protocol" and "top 20 % of the test scores" in test_rule.reads_test
    assert row_kind(table_rule, transductive=PyODDetector("ecod").transductive) == "protocol"
    assert PyODDetector("knn").transductive is None and row_kind(table_rule, transductive=None) == "ours"
    # rows made without a Rule (NAB's corpus-optimised threshold) or a detector at hand: by their names
    assert row_kind(rule_name="nab_corpus_optimised") == row_kind(model="ecod") == "protocol"
    assert row_kind(rule_name="nab_dev_optimised", model="deepant") == "ours"
    # a table evaluation marks the rows of a test-reading rule and of a transductive detector protocol
    rng = np.random.default_rng(0)
    splits = ev.table_splits(rng.normal(size=(200, 3)), rng.normal(size=(80, 3)), np.r_[np.zeros(70), np.ones(10)],
                             X_val=rng.normal(size=(60, 3)), y_val=np.r_[np.zeros(50), np.ones(10)])  # fmt: skip
    table, _ = ev.evaluate_table_grid(
        {"knn": (lambda seed: PyODDetector("knn", seed=seed), (0,), {"q": table_rule, "t": test_rule}),
         "ecod_here": (lambda seed: PyODDetector("ecod", seed=seed), (0,), {"q": table_rule})},
        splits, progress=False)  # fmt: skip
    kinds = table[table["threshold_rule"] != ""].groupby(["model", "threshold_rule"])["kind"].agg(set)
    assert kinds.to_dict() == {("ecod_here", "q"): {"protocol"}, ("knn", "q"): {"ours"}, ("knn", "t"): {"protocol"}}


def test_nab_rescale_variants_of_the_likelihood():
    """The two-sided likelihood scores a falling error level too; the quiet variant silences the rows after a
    red-zone alarm; both read the kept raw scores, no refit."""
    corpus, _ = _nab_corpus()
    run = ev.nab_run(lambda seed: RollingZScore(window=50), corpus, rescale="likelihood", progress=False)
    two_sided = ev.nab_rescale(run, "likelihood_two_sided")
    assert (two_sided["anomaly_score"] >= run["anomaly_score"] - 1e-12).all()
    assert (two_sided["anomaly_score"] > run["anomaly_score"] + 1e-6).any()
    quiet = ev.nab_rescale(run, "likelihood_quiet", 50)
    red = run["anomaly_score"].to_numpy() >= RED_LOG_SCORE
    assert (quiet["anomaly_score"].to_numpy()[red] == run["anomaly_score"].to_numpy()[red]).all()
    assert (quiet["anomaly_score"] <= run["anomaly_score"]).all()
    assert (quiet["anomaly_score"] < run["anomaly_score"]).any()
    np.testing.assert_array_equal(ev.nab_rescale(run, "likelihood_quiet", 0)["anomaly_score"], run["anomaly_score"])
    with pytest.raises(InputError, match="rescale must be one of"):
        ev.nab_rescale(run, "likelihood_both")


def test_nab_blend_combines_two_runs_on_one_scale():
    corpus, _ = _nab_corpus()
    run = ev.nab_run(lambda seed: RollingZScore(window=50), corpus, rescale="probation", progress=False)
    partner = ev.nab_run(lambda seed: RollingZScore(window=20), corpus, rescale="probation", progress=False)
    mean, high = ev.nab_blend(run, partner, "mean"), ev.nab_blend(run, partner, "max")
    units = []
    for one in (run, partner):  # each detector's raw scores against its own probationary rows
        groups = one.groupby("series", sort=False)["raw_score"]
        units.append(np.concatenate([ev.unit_interval(raw, raw.iloc[:150]) for _, raw in groups]))
    np.testing.assert_allclose(mean["raw_score"], (units[0] + units[1]) / 2)
    np.testing.assert_allclose(high["raw_score"], np.maximum(*units))
    pd.testing.assert_frame_equal(mean.drop(columns=["raw_score", "fit_seconds"]),
                                  run.drop(columns=["raw_score", "fit_seconds"]))
    np.testing.assert_allclose(mean["fit_seconds"], run["fit_seconds"] + partner["fit_seconds"])  # both are fitted
    assert ev.nab_rescale(mean, "likelihood")["anomaly_score"].between(0, 1).all()
    with pytest.raises(InputError, match="same series and rows"):
        ev.nab_blend(run, partner.iloc[::-1])
    with pytest.raises(InputError, match="how must be one of"):
        ev.nab_blend(run, partner, "median")
