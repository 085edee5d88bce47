"""The results explorer: its entries match the score files, and the page, opened in headless Chromium, shows the
metrics that anomalylab.metrics computes at the threshold its slider is moved to."""

import os
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from anomalylab import explorer, reporting
from anomalylab.errors import InputError
from anomalylab.explorer import browser as browser_module
from anomalylab.metrics import point_metrics


def _score_files(folder):
    rng = np.random.default_rng(0)
    n = 600
    labels = (rng.random(n) < 0.04).astype(int)
    split = np.where(np.arange(n) < 200, "val", "test")
    stamps = pd.date_range("2024-07-01", periods=n, freq="h")
    values = 100 + 30 * np.sin(np.arange(n) * 2 * np.pi / 24) + 60 * labels
    points = reporting.point_rows(labels, split, dataset="mixtiles", value=values, timestamp=stamps,
                                  positions=np.arange(1000, 1000 + n))
    scores = pd.concat([
        reporting.score_rows(rng.random(n) * 0.5 + labels * rng.random(n), dataset="mixtiles", model=m, seed=0,
                             positions=np.arange(1000, 1000 + n), threshold=0.45, threshold_rule="trainval_best_f2")
        for m in ("deepant", "deepant_streaming")])
    reporting.write_scores(points, scores, "02_mixtiles", scores_dir=folder)
    m = 3000
    labels = (rng.random(m) < 0.7).astype(int)
    category = np.where(labels == 1, rng.choice(["dos", "probe", "r2l"], m), "normal")
    points = reporting.point_rows(labels, np.array(["test"] * m), dataset="kdd_k2", category=category)
    scores = pd.concat([
        reporting.score_rows(np.exp(rng.normal(0, 1, m) + k * labels), dataset="kdd_k2", model=name, seed=0,
                             threshold=3.0, threshold_rule="val_q99")
        for name, k in (("neutral_ad", 2.0), ("pca", 1.0))])
    reporting.write_scores(points, scores, "04_kdd_k2", scores_dir=folder)


def test_entries_hold_the_stored_test_scores_with_their_own_thresholds_and_curves(tmp_path):
    _score_files(tmp_path)
    points, scores = reporting.read_scores(tmp_path)
    entries = {e["key"]: e for e in explorer.entries(points, scores)}
    assert set(entries) == {"mixtiles", "kdd_k2"}
    mix = entries["mixtiles"]
    assert mix["kind"] == "series" and len(mix["labels"]) == 400  # test rows only
    assert mix["summary_title"] == next(s.title for s in reporting.SUMMARIES if s.key == "mixtiles")
    stored = scores.query("model == 'deepant'").set_index("position")["score"]
    np.testing.assert_array_equal(mix["models"]["deepant"]["score"], stored.loc[1200:].to_numpy())
    assert mix["models"]["deepant"]["threshold"] == pytest.approx(0.45) and mix["models"]["deepant"]["kind"] == "ours"
    k2 = entries["kdd_k2"]["models"]["neutral_ad"]
    fpr, tpr = (np.asarray(v) for v in k2["roc"])
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc_score(entries["kdd_k2"]["labels"], k2["score"]), abs=2e-3)
    assert set(k2["hist"]["counts"]) == {"normal", "dos", "probe", "r2l"}
    assert sum(map(sum, k2["hist"]["counts"].values())) == 3000


def test_building_needs_score_files(tmp_path):
    with pytest.raises(InputError, match="no score files"):
        explorer.build_explorer(tmp_path, tmp_path, tmp_path / "index.html")
    assert not (tmp_path / "index.html").exists()


def test_command_line_refuses_an_unknown_screenshot_entry_before_opening_a_browser(tmp_path, capsys):
    from anomalylab.explorer.__main__ import main

    _score_files(tmp_path)
    code = main(["--scores", str(tmp_path), "--tables", str(tmp_path), "--out", str(tmp_path / "index.html"),
                 "--screenshot", str(tmp_path / "shot.png"), "--dataset", "nab/no_such_series"])
    assert code == 2 and not (tmp_path / "shot.png").exists()
    err = capsys.readouterr().err
    assert "'nab/no_such_series' is not an entry" in err and "mixtiles" in err and "kdd_k2" in err


def _browser():
    try:
        return browser_module.chromium_driver()
    except InputError as err:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test: {err} (.ci/run installs them)")
        pytest.skip(str(err))


def _shown(text):
    numbers = {k: float(v) for k, v in re.findall(r'id="(\w+)">([-0-9.e+]+)<', text)}
    assert {"precision", "recall", "f1", "f2", "tp", "fp", "fn", "tn"} <= set(numbers), text
    return numbers


def test_the_page_shows_the_packages_metrics_at_the_slider_threshold(tmp_path):
    _score_files(tmp_path / "scores")
    built = explorer.build_explorer(tmp_path / "scores", tmp_path / "no_tables", tmp_path / "index.html")
    assert built["bytes"] < 5 * 2**20
    points, scores = reporting.read_scores(tmp_path / "scores")
    browser = _browser()
    try:
        first = _shown(browser_module.open_page(browser, tmp_path / "index.html"))
        model = browser_module.MODEL
        test_rows = points.query("dataset == 'mixtiles' and split == 'test'")["position"]
        own = scores.query("model == 'deepant'").set_index("position")["score"].loc[test_rows].to_numpy()
        labels = points.query("dataset == 'mixtiles' and split == 'test'")["label"].to_numpy()
        expected = point_metrics(labels, own >= 0.45)
        assert first["f2"] == pytest.approx(expected["f2"], abs=5e-5)  # starts at the model's own threshold

        browser.execute_script(f"{model}('dataset').value = 'kdd_k2'")
        browser.execute_script(f"{model}('models').value = ['pca', 'neutral_ad']")
        browser.execute_script(f"{model}('focus').value = 'neutral_ad'")
        k2 = scores.query("dataset == 'kdd_k2' and model == 'neutral_ad'").sort_values("position")
        y = points.query("dataset == 'kdd_k2'").sort_values("position")["label"].to_numpy()
        s = k2["score"].to_numpy()
        thresholds = np.unique(np.r_[s, k2["threshold"].iloc[0]])
        k = int(np.searchsorted(thresholds, np.quantile(s, 0.6)))  # a threshold of our choosing
        browser.execute_script(f"{model}('threshold').value = {k}")
        text = browser.execute_script(f"return {model}('metrics').text")  # BokehJS runs the callbacks at once
        shown = _shown(text)
        flags = s >= thresholds[k]
        expected = point_metrics(y, flags)
        for name in ("precision", "recall", "f1", "f2"):
            assert shown[name] == pytest.approx(expected[name], abs=5e-5), name
        assert shown["tp"] == np.sum(flags & (y == 1)) and shown["fp"] == np.sum(flags & (y == 0))
        assert shown["fn"] == np.sum(~flags & (y == 1)) and shown["tn"] == np.sum(~flags & (y == 0))
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == []
        shot = tmp_path / "explorer.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
    finally:
        browser.quit()


HOSTILE = '<img src=x onerror="window.__ran = (window.__ran || 0) + 1">'


def test_a_page_built_from_hostile_names_runs_no_script(tmp_path):
    """A model name, a series name and a rule holding HTML are shown as text: the page opens, the hostile model
    is listed and chosen in every widget, and no script of theirs runs (issue 28)."""
    rng = np.random.default_rng(1)
    n = 400
    labels = (rng.random(n) < 0.05).astype(int)
    stamps = pd.date_range("2024-07-01", periods=n, freq="h")
    points = reporting.point_rows(labels, np.where(np.arange(n) < 100, "val", "test"), dataset="nab",
                                  series=f"realTweets/{HOSTILE}", value=rng.random(n), timestamp=stamps)
    scores = pd.concat([reporting.score_rows(rng.random(n) + labels, dataset="nab", model=m, seed=0,
                                             series=f"realTweets/{HOSTILE}", threshold=0.9, threshold_rule=HOSTILE)
                        for m in (f"evil {HOSTILE}", "plain")])  # fmt: skip
    reporting.write_scores(points, scores, "02_nab", scores_dir=tmp_path / "scores")
    explorer.build_explorer(tmp_path / "scores", tmp_path / "no_tables", tmp_path / "index.html")
    browser = _browser()
    try:
        browser_module.open_page(browser, tmp_path / "index.html")
        model = browser_module.MODEL
        evil = f"evil {HOSTILE}"
        browser.execute_script(f"{model}('models').value = arguments[0]", [evil, "plain"])
        browser.execute_script(f"{model}('focus').value = arguments[0]", evil)
        browser.execute_script(f"{model}('threshold').value = 3")
        walk = ("const roots = [document]; const all = [];"
                "while (roots.length) { const r = roots.pop(); for (const e of r.querySelectorAll('*')) {"
                "all.push(e); if (e.shadowRoot) roots.push(e.shadowRoot); } }")  # every element, shadow DOMs too
        text = browser.execute_script(walk + "return all.map((e) => e.childElementCount ? '' : e.textContent)"
                                      ".join(' ')")  # fmt: skip
        assert "onerror" in text  # the names are on the page, as text
        assert browser.execute_script(walk + "return all.filter((e) => e.tagName === 'IMG').length") == 0
        assert browser.execute_script("return window.__ran || 0") == 0
    finally:
        browser.quit()


def _k2_with_many_models(folder, n_models=13):
    rng = np.random.default_rng(2)
    m = 2000
    labels = (rng.random(m) < 0.3).astype(int)
    points = reporting.point_rows(labels, np.array(["test"] * m), dataset="kdd_k2")
    names = [f"model_{i:02d}" for i in range(n_models)]
    scores = pd.concat([reporting.score_rows(rng.random(m) + 0.1 * i * labels, dataset="kdd_k2", model=name, seed=0,
                                             threshold=0.9, threshold_rule="val_q99") for i, name in enumerate(names)])
    reporting.write_scores(points, scores, "04_kdd_k2", scores_dir=folder)
    return names


def test_many_models_get_distinct_colours_and_a_legend_beside_the_plot(tmp_path):
    """With 13 models (04's K2) every curve has its own colour and the legend sits right of the PR plot, outside
    the plotting area, where it covers no curve; the dataset list is grouped by benchmark."""
    names = _k2_with_many_models(tmp_path / "scores")
    _score_files(tmp_path / "more")
    for path in (tmp_path / "more").iterdir():
        if path.name.startswith("02_"):
            path.rename(tmp_path / "scores" / path.name)
    explorer.build_explorer(tmp_path / "scores", tmp_path / "no_tables", tmp_path / "index.html")
    browser = _browser()
    try:
        browser_module.open_page(browser, tmp_path / "index.html")
        model = browser_module.MODEL
        browser.execute_script(f"{model}('dataset').value = 'kdd_k2'")
        browser.execute_script(f"{model}('models').value = arguments[0]", names)
        colours = browser.execute_script(f"return {model}('pr_fig').renderers[0].data_source.data.colour")
        assert len(colours) == 13 and len(set(colours)) == 13
        placed = browser.execute_script(
            f"const f = {model}('pr_fig'); return [f.right.map((r) => r.type), f.center.map((r) => r.type)]")
        assert "Legend" in placed[0] and "Legend" not in placed[1]  # outside the frame, not over the curves
        items = browser.execute_script(f"return {model}('pr_fig').right.find((r) => r.type === 'Legend').items"
                                       ".length")  # fmt: skip
        height = browser.execute_script(f"return {model}('pr_fig').height")
        assert items == 1 and height >= 13 * 14 + 60  # one item per model (legend_field); room for 13 rows of 14 px
        groups = browser.execute_script(f"return Object.keys({model}('dataset').options)")
        assert groups == ["Mixtiles", "KDD Cup 99"]
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        browser.quit()


def test_a_users_own_detect_output_opens_as_a_page_that_counts_flags(tmp_path):
    from anomalylab import cli

    n = 500
    values = 10 + np.sin(np.arange(n) / 6) + np.random.default_rng(3).normal(0, 0.05, n)
    values[450] += 4
    data = tmp_path / f"load {HOSTILE}.csv"
    pd.DataFrame({"time": pd.date_range("2025-01-01", periods=n, freq="h"), "load": values}).to_csv(data, index=False)
    page = tmp_path / "page.html"
    assert cli.main(["detect", str(data), "--model", "rolling_zscore", "--lookback", "24", "--out",
                     str(tmp_path / "o.csv"), "--explorer", str(page), "--quiet"]) == 0  # fmt: skip
    out = pd.read_csv(tmp_path / "o.csv")
    scored = out["score"].notna()
    browser = _browser()
    try:
        text = browser_module.open_page(browser, page)
        shown = {k: float(v) for k, v in re.findall(r'id="(\w+)">([-0-9.e+]+)<', text)}
        assert shown["flagged"] == out["flag"].sum() and shown["rows"] == scored.sum()
        model = browser_module.MODEL
        browser.execute_script(f"{model}('threshold').value = 0")  # the lowest score: every scored row flagged
        text = browser.execute_script(f"return {model}('metrics').text")
        assert re.search(r'id="flagged">(\d+)<', text).group(1) == str(int(scored.sum()))
        assert not browser.execute_script(f"return {model}('pr_fig').visible")  # no labels, no curves
        assert browser.execute_script("return window.__ran || 0") == 0  # the file's name is shown as text
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        browser.quit()
    # the detector is named and described from the registry (the same sentence as --list-models)
    from anomalylab.models import RollingZScore
    from anomalylab.models.registry import describe

    assert f"rolling_zscore is a RollingZScore: {describe(RollingZScore)}." in page.read_text()
