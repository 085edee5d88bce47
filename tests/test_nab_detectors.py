"""NAB's own detectors, scored from their shipped result files by anomalylab's NAB scorer."""

import numpy as np
import pandas as pd
import pytest

from anomalylab import datasets, metrics
from anomalylab.errors import DataError, InputError
from anomalylab.evaluation import SERIES_PROTOCOL, nab_detector_rows, nab_series_rows
from anomalylab.evaluation.nab import _nab_parts


@pytest.fixture(scope="module")
def windows():
    return datasets.nab_windows_frame()


@pytest.mark.parametrize("detector", datasets.NAB_DETECTORS)
def test_nab_score_reproduces_final_results_json_at_the_shipped_thresholds(detector, windows):
    published = datasets.nab_published_scores().loc[detector]
    thresholds = datasets.nab_detector_thresholds().loc[detector]
    parts = _nab_parts(datasets.load_nab_detector_results(detector), windows)
    for profile in metrics.NAB_PROFILES:
        ours = metrics.nab_score(parts, profile, threshold=thresholds[profile])["score"]
        assert ours == pytest.approx(published[profile], abs=0.01), (detector, profile)


def test_detector_rows_are_published_per_series_and_agree_with_the_corpus_scores():
    names = datasets.nab_series_names("realKnownCause")
    table = pd.DataFrame(nab_detector_rows(names))
    assert set(table["model"]) == {f"{d} (NAB)" for d in datasets.NAB_DETECTORS}
    assert (table["kind"] == "published").all() and (table["threshold_rule"] == "nab_shipped").all()
    per_series = table[table["protocol"] == SERIES_PROTOCOL]
    # every realKnownCause series has windows: one row per detector, series and metric
    assert per_series.groupby(["model", "metric"]).size().eq(len(names)).all()
    assert {"vus_pr", "vus_roc", "range_f1", "nab_standard", "nab_low_fp", "nab_low_fn"} <= set(per_series["metric"])
    # a one-series corpus score equals that series' per-series score at the same threshold
    one = names[0]
    run = datasets.load_nab_detector_results("ARTime", [one])
    threshold = datasets.nab_detector_thresholds().loc["ARTime", "standard"]
    alone = metrics.nab_score(_nab_parts(run, datasets.nab_windows_frame([one])), threshold=threshold)["score"]
    row = per_series[(per_series["model"] == "ARTime (NAB)") & (per_series["series"] == one)
                     & (per_series["metric"] == "nab_standard")]  # fmt: skip
    assert row["value"].item() == pytest.approx(alone)


def test_series_without_windows_get_no_per_series_rows_and_thresholds_are_checked():
    names = datasets.nab_series_names("artificialNoAnomaly")[:1] + datasets.nab_series_names("realKnownCause")[:1]
    run = datasets.load_nab_detector_results("numenta", names)
    windows = datasets.nab_windows_frame(names)
    rows = pd.DataFrame(nab_series_rows(run, windows, dict.fromkeys(metrics.NAB_PROFILES, 0.5), model="numenta"))
    assert set(rows["series"]) == {names[1]}
    assert np.isfinite(rows["value"]).all()
    with pytest.raises(InputError, match="lacks profile"):
        nab_series_rows(run, windows, {"standard": 0.5}, model="numenta")


def test_unknown_detector_and_a_truncated_result_file_are_refused(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no shipped results"):
        datasets.load_nab_detector_results("HTM")
    name = datasets.nab_series_names("realKnownCause")[0]
    real = datasets.fetch(f"nab/results/ARTime/realKnownCause/ARTime_{name.split('/')[1]}.csv")
    short = tmp_path / "short.csv"
    short.write_text("".join(real.read_text().splitlines(keepends=True)[:100]))
    original = datasets.nab.fetch
    monkeypatch.setattr(datasets.nab, "fetch", lambda n, **kw: short if n.startswith("nab/results/") else original(n))
    with pytest.raises(DataError, match="has 99 rows where NAB series"):
        datasets.load_nab_detector_results("ARTime", [name])
