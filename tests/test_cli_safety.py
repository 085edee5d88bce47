"""The command line on careless input (issue 28): a flat series, epoch and day/month times, a saved threshold that
is not a number, and output paths that cannot be written, each refused or explained before anything is fitted."""

import json

import numpy as np
import pandas as pd
import pytest

from anomalylab import cli
from anomalylab.models import RollingZScore


def _run(*args):
    return cli.main(["detect", *map(str, args), "--quiet"])


def _flat_csv(path, n=600, spike=500):
    values = np.full(n, 5.0)
    values[spike] = 9.0
    pd.DataFrame({"time": pd.date_range("2024-01-01", periods=n, freq="h"), "v": values}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("model", ["rolling_zscore", "matrix_profile", "deepant"])
def test_a_flat_series_is_said_to_be_flat_and_not_flagged_wholesale(model, tmp_path, capsys):
    data = _flat_csv(tmp_path / "flat.csv")
    assert _run(data, "--out", tmp_path / "o.csv", "--model", model, "--lookback", "12", "--epochs", "2") == 0
    assert "the series is flat there" in capsys.readouterr().err
    out = pd.read_csv(tmp_path / "o.csv")
    assert out["flag"].iloc[500] == 1  # the one jump is still flagged
    assert out["flag"].sum() <= 20  # before: 95-98 % of the rows, since flags used >= on the common score


def test_the_flat_rule_survives_save_and_load(tmp_path):
    data = _flat_csv(tmp_path / "flat.csv")
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "rolling_zscore", "--save", tmp_path / "m") == 0
    assert json.loads((tmp_path / "m" / "threshold.json").read_text())["strict"] is True
    assert _run(data, "--out", tmp_path / "again.csv", "--load", tmp_path / "m") == 0
    pd.testing.assert_series_equal(pd.read_csv(tmp_path / "again.csv")["flag"], pd.read_csv(tmp_path / "o.csv")["flag"])


def _csv_with_times(path, times, n=300):
    values = np.sin(np.arange(n) / 5.0)
    pd.DataFrame({"time": times, "v": values}).to_csv(path, index=False)
    return path


def test_epoch_seconds_need_their_unit_and_then_read_as_dates(tmp_path, capsys):
    seconds = 1_700_000_000 + 3600 * np.arange(300)
    data = _csv_with_times(tmp_path / "epoch.csv", seconds)
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "rolling_zscore") == 2
    assert "--time-unit" in capsys.readouterr().err and not (tmp_path / "o.csv").exists()
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "rolling_zscore", "--time-unit", "s") == 0
    assert pd.read_csv(tmp_path / "o.csv")["time"].iloc[0] == "2023-11-14 22:13:20"  # not 1970 + nanoseconds


def test_ambiguous_day_month_dates_are_refused_until_the_user_says_which(tmp_path, capsys):
    days = pd.date_range("2024-03-01", periods=300, freq="h").strftime("%d/%m/%Y %H:%M")
    data = _csv_with_times(tmp_path / "dates.csv", days)
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "rolling_zscore") == 2
    err = capsys.readouterr().err
    assert "ambiguous" in err and "01 March 2024" in err and "03 January 2024" in err and "--dayfirst" in err
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "rolling_zscore", "--dayfirst") == 0
    assert pd.read_csv(tmp_path / "o.csv")["time"].iloc[0] == "2024-03-01 00:00:00"
    assert _run(data, "--out", tmp_path / "m.csv", "--model", "rolling_zscore", "--monthfirst") == 2  # 13/03 fails


def test_iso_dates_and_unambiguous_day_first_dates_need_no_flag(tmp_path):
    iso = _csv_with_times(tmp_path / "iso.csv", pd.date_range("2024-03-01", periods=300, freq="h").astype(str))
    assert _run(iso, "--out", tmp_path / "o.csv", "--model", "rolling_zscore") == 0
    assert pd.read_csv(tmp_path / "o.csv")["time"].iloc[0] == "2024-03-01 00:00:00"
    late = pd.date_range("2024-03-13", periods=300, freq="h").strftime("%d/%m/%Y %H:%M")  # days 13..25: one reading
    assert _run(_csv_with_times(tmp_path / "late.csv", late), "--out", tmp_path / "l.csv", "--model",
                "rolling_zscore") == 0  # fmt: skip
    assert pd.read_csv(tmp_path / "l.csv")["time"].iloc[0] == "2024-03-13 00:00:00"


@pytest.fixture
def saved(tmp_path):
    data = _csv_with_times(tmp_path / "x.csv", pd.date_range("2024-01-01", periods=300, freq="h"))
    assert _run(data, "--out", tmp_path / "o.csv", "--model", "rolling_zscore", "--save", tmp_path / "m") == 0
    return data, tmp_path / "m"


@pytest.mark.parametrize("content, message", [
    ('{"threshold": NaN}', "NaN is not a number JSON allows"),
    ('{"threshold": Infinity}', "Infinity is not a number JSON allows"),
    ('{"threshold": 1e400}', "must be a finite number"),
    ('{"rule": "quantile"}', "has no 'threshold'"),
    ('[1.5]', "must hold a JSON object"),
    ('{"threshold": "1.5"}', "must be a number"),
    ('{"threshold": true}', "must be a number"),
])  # fmt: skip
def test_a_saved_threshold_is_checked_like_the_command_line_one(content, message, saved, capsys):
    data, model = saved
    (model / "threshold.json").write_text(content)
    assert _run(data, "--out", model.parent / "again.csv", "--load", model) == 2
    assert message in capsys.readouterr().err and not (model.parent / "again.csv").exists()


def test_a_threshold_below_every_score_is_warned_about(saved, capsys):
    data, model = saved
    (model / "threshold.json").write_text('{"threshold": -1e300}')
    assert _run(data, "--out", model.parent / "again.csv", "--load", model) == 0
    assert "more than half" in capsys.readouterr().err


@pytest.mark.parametrize("flag, bad", [
    ("--out", lambda tmp: tmp),  # a folder
    ("--out", lambda tmp: tmp / "x.csv"),  # the input itself
    ("--out", lambda tmp: tmp / "x.csv" / "o.csv"),  # under a file
    ("--out", lambda tmp: __import__("pathlib").Path("/proc/anomalylab-out.csv")),  # a place nobody may write
    ("--plot", lambda tmp: __import__("pathlib").Path("/proc/anomalylab.png")),
])  # fmt: skip
def test_unwritable_outputs_are_refused_before_fitting(flag, bad, tmp_path, monkeypatch, capsys):
    data = _csv_with_times(tmp_path / "x.csv", pd.date_range("2024-01-01", periods=300, freq="h"))
    before = data.read_bytes()
    monkeypatch.setattr(cli.command, "_fit", lambda *a: pytest.fail("fitted before checking the outputs"))
    args = ["--out", tmp_path / "o.csv", "--plot", tmp_path / "p.png"]
    args[args.index(flag) + 1] = bad(tmp_path)
    assert _run(data, *args) == 2
    assert capsys.readouterr().err.startswith("error:")
    assert data.read_bytes() == before and not (tmp_path / "o.csv").exists()


def test_the_rolling_zscore_of_a_flat_window_is_zero_not_nan():
    """The flat rule above relies on this: a flat window scores 0 and a jump after it scores higher."""
    series = pd.Series(np.r_[np.full(50, 5.0), 9.0], index=pd.date_range("2024", periods=51, freq="h"))
    scores = RollingZScore(10).fit(series[:30]).score_samples(series)
    assert scores.iloc[-1] > scores.iloc[-2]
