"""The command line, end to end on a small CSV as a new user would run it, and its errors on bad input."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from anomalylab import cli, paths


def write_csv(path, n=400, spike=330, columns=("load",)):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"time": pd.date_range("2025-01-01", periods=n, freq="h")})
    for k, column in enumerate(columns):
        values = 10 + 3 * np.sin(2 * np.pi * np.arange(n) / 24 + k) + rng.normal(0, 0.2, n)
        values[spike] += 8
        frame[column] = values
    frame.to_csv(path, index=False)
    return path


def run(*args):
    return cli.main(["detect", *map(str, args), "--quiet"])


def test_detect_as_a_new_user_runs_it(tmp_path):
    """`python -m anomalylab detect` in a fresh process: scores, flags, a plot and a saved model; then the saved
    model scores the same file with the same numbers."""
    data = write_csv(tmp_path / "data.csv")
    command = [sys.executable, "-m", "anomalylab", "detect", "data.csv", "--model", "deepant", "--out", "flags.csv",
               "--lookback", "24", "--epochs", "5", "--plot", "flags.png", "--save", "model"]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "rows of 400 flagged" in done.stderr and "intervals" in done.stderr
    out = pd.read_csv(tmp_path / "flags.csv")
    assert list(out.columns) == ["time", "load", "score", "flag", "part"] and len(out) == 400
    assert out["score"].isna().sum() == 24 and set(out["part"]) == {"fit", "calibration", "scored"}
    assert out.loc[out["part"] == "scored", "score"].idxmax() == 330  # the injected spike scores highest
    assert out.loc[330, "flag"] == 1
    assert (tmp_path / "flags.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "model" / "detector.json").is_file() and (tmp_path / "model" / cli.THRESHOLD_FILE).is_file()
    assert not list(tmp_path.glob(".*.tmp"))
    assert run(data, "--out", tmp_path / "again.csv", "--load", tmp_path / "model") == 0
    again = pd.read_csv(tmp_path / "again.csv")
    np.testing.assert_array_equal(again["score"], out["score"])
    np.testing.assert_array_equal(again["flag"], out["flag"])
    assert set(again["part"]) == {"scored"}


def test_detect_several_columns_and_a_classical_model(tmp_path):
    data = write_csv(tmp_path / "data.csv", columns=("a", "b"))
    assert run(data, "--out", tmp_path / "o.csv", "--model", "isolation_forest", "--lookback", "12") == 0
    out = pd.read_csv(tmp_path / "o.csv")
    assert out["score"].isna().sum() == 11 and out["flag"].isin([0, 1]).all()
    assert run(data, "--out", tmp_path / "one.csv", "--model", "rolling_zscore", "--columns", "b") == 0
    assert list(pd.read_csv(tmp_path / "one.csv").columns) == ["time", "b", "score", "flag", "part"]


def test_detect_with_the_streaming_forecaster_saves_and_reloads_its_stream(tmp_path):
    """deepant_streaming fine-tunes on the rows it scores (here twice: 840 streamed rows, every 500); the spike still
    scores highest and a saved detector gives the same scores of the same file."""
    data = write_csv(tmp_path / "data.csv", n=1400, spike=1200)
    args = ["--model", "deepant_streaming", "--lookback", "24", "--epochs", "3"]
    assert run(data, "--out", tmp_path / "o.csv", *args, "--save", tmp_path / "model") == 0
    out = pd.read_csv(tmp_path / "o.csv")
    assert out.loc[out["part"] == "scored", "score"].idxmax() == 1200 and out.loc[1200, "flag"] == 1
    assert run(data, "--out", tmp_path / "again.csv", "--load", tmp_path / "model") == 0
    np.testing.assert_array_equal(pd.read_csv(tmp_path / "again.csv")["score"], out["score"])


def test_list_models_names_every_choice(capsys):
    assert cli.main(["detect", "--list-models"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in ("deepant", "deepant_streaming", "isolation_forest", "windowed_gaussian"))


def _bad_files(tmp_path):
    good = write_csv(tmp_path / "good.csv", n=200, spike=150)
    frame = pd.read_csv(good)
    files = {
        "empty": "",
        "one column": "time\n2025-01-01\n",
        "header only": "time,load\n",
        "text values": frame.assign(load="high").to_csv(index=False),
        "missing values": frame.assign(load=frame["load"].where(frame.index != 5)).to_csv(index=False),
        "infinite values": frame.assign(load=frame["load"].where(frame.index != 5, np.inf)).to_csv(index=False),
        "unsorted times": frame.iloc[::-1].to_csv(index=False),
        "repeated times": pd.concat([frame.iloc[:1], frame]).to_csv(index=False),
        "times that are not times": frame.assign(time="soon").to_csv(index=False),
        "binary": b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe",
    }
    for name, content in files.items():
        target = tmp_path / f"{name.replace(' ', '_')}.csv"
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    return good


BAD = [
    ("file that does not exist", ["missing.csv"], "does not exist"),
    ("no input file", [], "needs an input CSV and --out"),
    ("empty file", ["empty.csv"], "is empty; it needs a header"),
    ("one column", ["one_column.csv"], "needs a time column and at least one value"),
    ("header only", ["header_only.csv"], "no rows"),
    ("text values", ["text_values.csv"], "not numeric.*--columns"),
    ("missing values", ["missing_values.csv"], "missing values.*fill or drop"),
    ("infinite values", ["infinite_values.csv"], "infinite value.*replace"),
    ("unsorted times", ["unsorted_times.csv"], "not in order; sort the file"),
    ("repeated times", ["repeated_times.csv"], "repeats 1 time.*aggregate"),
    ("times that are not times", ["times_that_are_not_times.csv"], "not a time column.*--time-column"),
    ("binary file", ["binary.csv"], "not a readable CSV|is empty|needs a time column"),
    ("unknown time column", ["good.csv", "--time-column", "when"], "no column 'when'.*--time-column"),
    ("unknown value column", ["good.csv", "--columns", "load,speed"], r"no column\(s\) \['speed'\]"),
    ("unknown model", ["good.csv", "--model", "gpt"], "unknown model 'gpt'.*--list-models"),
    ("fit fraction above 1", ["good.csv", "--fit-fraction", "1.5"], "--fit-fraction must lie strictly between"),
    ("calibration fraction 0", ["good.csv", "--calibration-fraction", "0"], "--calibration-fraction must lie"),
    ("too few rows for the lookback", ["good.csv", "--lookback", "80"], "fewer than twice the lookback.*--lookback"),
    ("lookback of 1", ["good.csv", "--lookback", "1"], "--lookback must be at least 2"),
    ("NaN threshold", ["good.csv", "--threshold", "nan"], "--threshold must be a finite"),
    ("output that is not a CSV", ["good.csv", "--out-override", "flags.txt"], "--out must name a .csv"),
    ("plot that is not a PNG", ["good.csv", "--plot", "flags.pdf"], "--plot must name a .png"),
    ("load and save together", ["good.csv", "--load", "m", "--save", "n"], "--load and --save together"),
    ("load of a folder that is no detector", ["good.csv", "--load", "."], "not a saved detector"),
    ("one-column model on two columns", ["two.csv", "--model", "rolling_zscore"], "scores one column.*--columns"),
]  # fmt: skip


@pytest.mark.parametrize("case, args, message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_stops_with_an_error_that_names_the_fix(case, args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _bad_files(tmp_path)
    write_csv(tmp_path / "two.csv", columns=("a", "b"))
    out = "flags.csv"
    if "--out-override" in args:
        out = args[args.index("--out-override") + 1]
        args = args[: args.index("--out-override")]
    assert cli.main(["detect", *args, "--out", out, "--quiet", "--epochs", "1"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    import re

    assert re.search(message, error), error
    assert not (tmp_path / "flags.csv").exists()  # nothing written


def test_an_installed_copy_writes_outside_site_packages(tmp_path):
    """An installed (not editable) copy puts data, figures and tables in $ANOMALYLAB_HOME or the working
    directory, never beside its own files."""
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--target", str(site), str(paths.ROOT)], capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (site / "anomalylab" / "registry.txt").is_file() and (site / "anomalylab" / "datasets").is_dir()
    probe = "from anomalylab import paths; print(paths.ROOT); print(paths.TABLES_DIR)"
    env = {k: v for k, v in os.environ.items() if k != paths.HOME_ENV} | {"PYTHONPATH": str(site)}
    work = tmp_path / "work"
    work.mkdir()
    shown = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True, text=True)
    assert shown.stdout.splitlines() == [str(work), str(work / "figures" / "tables")], shown.stderr
    home = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env | {paths.HOME_ENV: str(tmp_path / "h")},
                          capture_output=True, text=True)  # fmt: skip
    assert home.stdout.splitlines()[0] == str(tmp_path / "h")
