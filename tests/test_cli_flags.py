"""What the command line gives a person to act on (issue 32): the top N rows or a contamination share, flagged
intervals, a warning when the scored part drifts from the calibration part, and the input options (separator,
missing values, UTC offsets, differencing, the columns a saved detector was fitted on)."""

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from anomalylab import cli
from anomalylab.cli import flags


def _run(*args):
    return cli.main(["detect", *map(str, args), "--quiet"])


def _spiky_csv(path, n=20_000, spikes=50, seed=1):
    """A noisy daily cycle on 5-minute rows with ``spikes`` single-row spikes spread over the whole file, one in each
    of ``spikes`` equal stretches (so no two share a 24-row window)."""
    rng = np.random.default_rng(seed)
    values = 10 + 2 * np.sin(2 * np.pi * np.arange(n) / 288) + rng.normal(0, 0.3, n)
    stretch = n // spikes
    where = np.arange(spikes) * stretch + rng.integers(50, stretch - 50, spikes)
    values[where] += rng.choice([-1, 1], spikes) * rng.uniform(4, 8, spikes)
    times = pd.date_range("2025-01-01", periods=n, freq="5min")
    pd.DataFrame({"time": times, "value": values}).to_csv(path, index=False)
    return path, times[where]


@pytest.mark.parametrize("how", [["--top", "50"], ["--contamination", str(50 / 20_000)]])
def test_top_and_contamination_return_the_injected_spikes_as_intervals(how, tmp_path, capsys):
    data, spikes = _spiky_csv(tmp_path / "spiky.csv")
    args = ["--model", "rolling_zscore", "--lookback", "24", "--intervals", tmp_path / "iv.csv"]
    assert _run(data, "--out", tmp_path / "o.csv", *args, *how) == 0
    found = pd.read_csv(tmp_path / "iv.csv", parse_dates=["start", "end", "peak_time"])
    assert len(found) == 50 and (found["rows"] == 1).all()
    assert set(found["peak_time"]) == set(spikes)
    assert pd.read_csv(tmp_path / "o.csv")["flag"].sum() == 50
    err = capsys.readouterr().err
    assert "50 rows of 20,000 flagged" in err and "top 50 rows of the file" in err and "in 50 intervals" in err
    assert found["severity"].is_monotonic_decreasing  # most severe first


def test_intervals_join_runs_merge_nearby_ones_and_measure_severity():
    index = pd.date_range("2025", periods=10, freq="h")
    scores = pd.Series([0, 5, 6, 0, 4, 0, 0, 0, 9, 1], index=index, dtype=float)
    flagged = (scores >= 4).astype("int8")
    part = np.array(["fit"] * 3 + ["scored"] * 7, dtype=object)
    reference = pd.Series([0.0, 1.0, 2.0])  # median 1: severity = (peak - 4) / (4 - 1)
    table = flags.intervals(scores, flagged, 4.0, part, reference)
    assert table[["rows", "peak_score", "part"]].values.tolist() == [[1, 9, "scored"], [2, 6, "fit"], [1, 4, "scored"]]
    np.testing.assert_allclose(table["severity"], [5 / 3, 2 / 3, 0])
    merged = flags.intervals(scores, flagged, 4.0, part, reference, merge=1)
    assert merged["rows"].tolist() == [1, 4] and merged["start"].iloc[1] == index[1]


def test_plural():
    assert [flags.plural(n, "flagged row") for n in (0, 1, 2)] == ["0 flagged rows", "1 flagged row",
                                                                    "2 flagged rows"]  # fmt: skip


@pytest.fixture(scope="module")
def co2(tmp_path_factory):
    """Weekly Mauna Loa CO2 (statsmodels): a trending series with 59 missing weeks."""
    frame = sm.datasets.co2.load_pandas().data.rename_axis("week").reset_index()
    path = tmp_path_factory.mktemp("co2") / "co2.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_trending_series_is_warned_about_and_differencing_removes_the_warning(co2, tmp_path, capsys):
    assert _run(co2, "--out", tmp_path / "o.csv", "--model", "isolation_forest") == 2
    assert "missing values {'co2': 59}" in capsys.readouterr().err  # said, and how to fix it
    assert _run(co2, "--out", tmp_path / "o.csv", "--model", "isolation_forest", "--fill", "interpolate") == 0
    err = capsys.readouterr().err
    assert "59 row(s) had a missing value, interpolated" in err and "left the calibration range" in err
    out = pd.read_csv(tmp_path / "o.csv")
    assert out["filled"].sum() == 59 and out["co2"].notna().all()
    assert _run(co2, "--out", tmp_path / "d.csv", "--model", "isolation_forest", "--fill", "interpolate",
                "--difference") == 0  # fmt: skip
    assert "left the calibration range" not in capsys.readouterr().err
    differenced = pd.read_csv(tmp_path / "d.csv")
    assert differenced["flag"].mean() < 0.1 and out["flag"].mean() > 0.45  # before: the whole scored half
    np.testing.assert_array_equal(differenced["co2"], out["co2"])  # the output keeps the values themselves


def test_a_stationary_series_is_not_warned_about(tmp_path, capsys):
    data, _ = _spiky_csv(tmp_path / "spiky.csv", n=5_000, spikes=5)
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "rolling_zscore") == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("fill, rows, filled", [("interpolate", 400, 3), ("ffill", 400, 3), ("drop", 397, 0)])
def test_missing_values_are_filled_only_when_asked_and_the_output_says_how(fill, rows, filled, tmp_path, capsys):
    data, _ = _spiky_csv(tmp_path / "s.csv", n=400, spikes=1)
    frame = pd.read_csv(data)
    frame.loc[[0, 200, 201], "value"] = np.nan  # the first row too: interpolation fills it from the nearest
    frame.to_csv(data, index=False)
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "rolling_zscore", "--fill", fill) == 0
    out = pd.read_csv(tmp_path / "o.csv")
    assert len(out) == rows and out["value"].notna().all()
    assert out.get("filled", pd.Series(0)).sum() == filled
    assert f"--fill {fill}" in capsys.readouterr().err
    if fill == "ffill":
        assert out.loc[200, "value"] == out.loc[199, "value"] and out.loc[0, "value"] == out.loc[1, "value"]


def test_a_semicolon_file_needs_sep_and_then_reads(tmp_path, capsys):
    data, _ = _spiky_csv(tmp_path / "s.csv", n=400, spikes=1)
    pd.read_csv(data).to_csv(tmp_path / "semi.csv", sep=";", index=False)
    assert _run(tmp_path / "semi.csv", "--out", tmp_path / "o.csv", "--model", "rolling_zscore") == 2
    assert "say so with --sep" in capsys.readouterr().err
    assert _run(tmp_path / "semi.csv", "--out", tmp_path / "o.csv", "--model", "rolling_zscore", "--sep", ";") == 0
    pd.read_csv(data).to_csv(tmp_path / "tab.csv", sep="\t", index=False)
    assert _run(tmp_path / "tab.csv", "--out", tmp_path / "t.csv", "--model", "rolling_zscore", "--sep", "tab") == 0
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "o.csv")["score"], pd.read_csv(tmp_path / "t.csv")["score"])


def test_times_across_a_daylight_saving_change_need_utc(tmp_path, capsys):
    local = pd.date_range("2025-03-29", periods=300, freq="h", tz="Europe/Paris")
    text = [t.isoformat() for t in local]  # +01:00, then +02:00 from 30 March 02:00
    pd.DataFrame({"time": text, "v": np.sin(np.arange(300) / 5)}).to_csv(tmp_path / "dst.csv", index=False)
    assert _run(tmp_path / "dst.csv", "--out", tmp_path / "o.csv", "--model", "rolling_zscore") == 2
    err = capsys.readouterr().err
    assert "mixes UTC offsets (+01:00, +02:00)" in err and "--utc" in err
    assert _run(tmp_path / "dst.csv", "--out", tmp_path / "o.csv", "--model", "rolling_zscore", "--utc") == 0
    times = pd.to_datetime(pd.read_csv(tmp_path / "o.csv")["time"])
    assert times.is_monotonic_increasing and str(times.dt.tz) == "UTC" and times.iloc[0].hour == 23


def test_a_saved_detector_names_the_columns_it_was_fitted_on(tmp_path, capsys):
    data, _ = _spiky_csv(tmp_path / "s.csv", n=600, spikes=2)
    frame = pd.read_csv(data).assign(other=1.0, note="x")
    frame.to_csv(data, index=False)
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "isolation_forest", "--columns", "value,other",
                "--lookback", "12", "--difference", "--save", tmp_path / "m") == 0  # fmt: skip
    saved = json.loads((tmp_path / "m" / cli.THRESHOLD_FILE).read_text())
    assert saved["columns"] == ["value", "other"] and saved["difference"] is True
    # no --columns: the fitted ones are read (the text column 'note' is no obstacle), differenced as when saved
    assert _run(data, "--out", tmp_path / "again.csv", "--load", tmp_path / "m") == 0
    assert "scores first differences" in capsys.readouterr().err
    again, first = (pd.read_csv(tmp_path / name)["score"] for name in ("again.csv", "o.csv"))
    np.testing.assert_array_equal(again, first)
    assert _run(data, "--out", tmp_path / "x.csv", "--load", tmp_path / "m", "--columns", "other,value") == 2
    assert "fitted on column(s) ['value', 'other'], in that order" in capsys.readouterr().err
    frame.rename(columns={"other": "load"}).to_csv(tmp_path / "renamed.csv", index=False)
    assert _run(tmp_path / "renamed.csv", "--out", tmp_path / "x.csv", "--load", tmp_path / "m") == 2
    assert "lacks ['other']" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("args, message", [
    (["--top", "5", "--threshold", "1"], "--threshold and --top each set the threshold"),
    (["--top", "0"], "--top must be a positive number"),
    (["--top", "100000"], "more rows than have a score"),
    (["--contamination", "0.7"], r"in \(0, 0.5\]"),
    (["--merge", "-1"], "--merge must be"),
    (["--sep", "::"], "--sep must be one character"),
    (["--intervals", "iv.txt"], "--intervals must name a .csv"),
    (["--intervals", "o.csv"], "--out and --intervals name the same file"),
])  # fmt: skip
def test_bad_flagging_options_are_refused_before_anything_is_written(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data, _ = _spiky_csv(tmp_path / "s.csv", n=400, spikes=1)
    assert _run(data, "--out", "o.csv", "--model", "rolling_zscore", *args) == 2
    import re

    assert re.search(message, capsys.readouterr().err)
    assert not (tmp_path / "o.csv").exists()


def test_the_plot_shows_the_parts_and_the_score(tmp_path):
    data, _ = _spiky_csv(tmp_path / "s.csv", n=2_000, spikes=3)
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "rolling_zscore", "--plot", tmp_path / "p.png") == 0
    import matplotlib.image

    image = matplotlib.image.imread(tmp_path / "p.png")
    assert image.shape[0] > 500 and image.shape[1] > 1200  # two panels (series, score) under the legend


def test_a_forecaster_attributes_each_flag_to_the_column_that_caused_it(tmp_path, capsys):
    """DeepAnT on two columns: a spike in one column is flagged and attributed to that column (top_column in the
    intervals, score_<column> in the output, whose mean is the score)."""
    n = 400
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"time": pd.date_range("2025-01-01", periods=n, freq="h"),
                          "a": 10 + 3 * np.sin(2 * np.pi * np.arange(n) / 24) + rng.normal(0, 0.2, n),
                          "b": 5 + 2 * np.cos(2 * np.pi * np.arange(n) / 24) + rng.normal(0, 0.2, n)})  # fmt: skip
    frame.loc[300, "b"] += 8
    frame.loc[350, "a"] += 8
    frame.to_csv(tmp_path / "two.csv", index=False)
    assert _run(tmp_path / "two.csv", "--out", tmp_path / "o.csv", "--lookback", "24", "--epochs", "5", "--top", "2",
                "--intervals", tmp_path / "iv.csv") == 0  # fmt: skip
    found = pd.read_csv(tmp_path / "iv.csv", parse_dates=["peak_time"]).set_index("peak_time")["top_column"]
    assert found.to_dict() == {frame.loc[300, "time"]: "b", frame.loc[350, "time"]: "a"}
    out = pd.read_csv(tmp_path / "o.csv")
    np.testing.assert_allclose(out[["score_a", "score_b"]].mean(axis=1), out["score"], rtol=1e-6)
    assert "mostly b" in capsys.readouterr().err


def test_top_never_flags_more_rows_than_asked_when_scores_tie(tmp_path, capsys):
    values = np.full(300, 5.0)
    values[280] = 9.0
    pd.DataFrame({"t": pd.date_range("2025", periods=300, freq="h"), "v": values}).to_csv(tmp_path / "f.csv",
                                                                                          index=False)  # fmt: skip
    assert _run(tmp_path / "f.csv", "--out", tmp_path / "o.csv", "--model", "rolling_zscore", "--top", "5") == 0
    err = capsys.readouterr().err
    assert "the 5th highest score (ties); only the rows above it are flagged (1 row)" in err
    out = pd.read_csv(tmp_path / "o.csv")
    assert out["flag"].sum() == 1 and out.loc[280, "flag"] == 1
    assert "left the calibration range" not in err  # a flat calibration part is said once, as flat
