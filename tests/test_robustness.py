"""The defects that probing with bad input, corrupt data and interruptions found (issue "Use it on your own
data"), one test case each: the error type, and a message that names the fix."""

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomalylab import datasets as d
from anomalylab import metrics, paths, plotting, preprocessing, reporting, thresholds
from anomalylab.datasets import registry
from anomalylab.errors import DataError, InputError
from anomalylab.models import (
    CNNForecaster,
    DenseAutoencoder,
    IsolationForestDetector,
    KMeansDistance,
    OneClassSVMDetector,
    PCAReconstruction,
    PyODDetector,
    SequenceAutoencoder,
    WindowDetector,
)

HOURS = pd.date_range("2024-01-01", periods=200, freq="h")
SERIES = pd.Series(np.sin(np.arange(200) / 3), index=HOURS)
ROWS = np.random.default_rng(0).normal(size=(50, 4))


def kdd_frame(n=6, **extra):
    frame = pd.DataFrame({c: np.arange(n, dtype=float) for c in preprocessing.KDD_LOG_FEATURES})
    frame["protocol_type"], frame["service"], frame["flag"], frame["label"] = "tcp", "http", "SF", "normal"
    return frame.assign(**extra)


def tiny_forecaster():
    return CNNForecaster(lookback=8, filters=(4,), dense_units=4, epochs=1)


def _raises(call, error, message):
    with pytest.raises(error, match=message):
        call()


CASES = {
    # NaN parameters give silent "no anomaly" results
    "mean_k_sigma k=nan": (lambda: thresholds.mean_k_sigma([1.0, 2.0], k=float("nan")), InputError, "k must be"),
    "mean_k_sigma k=inf": (lambda: thresholds.mean_k_sigma([1.0, 2.0], k=float("inf")), InputError, "finite"),
    "mean_k_sigma overflowing scores": (lambda: thresholds.mean_k_sigma([1e308, -1e308, 1e308]), InputError,
                                        "rescale them"),
    "quantile q=nan": (lambda: thresholds.quantile_threshold([1.0, 2.0], q=float("nan")), InputError, "q must be"),
    "best_fbeta beta=nan": (lambda: thresholds.best_fbeta_threshold([0.1, 0.9], [0, 1], beta=float("nan")),
                            InputError, "beta must be a finite"),
    "apply_threshold nan": (lambda: thresholds.apply_threshold([0.1, 0.9], float("nan")), InputError,
                            "threshold must be a finite"),
    "apply_threshold text": (lambda: thresholds.apply_threshold([0.1, 0.9], "high"), InputError,
                             "threshold must be a number"),
    # scikit-learn detectors scored before fitting
    "isolation forest before fit": (lambda: IsolationForestDetector().score_samples(ROWS), InputError, r"\.fit"),
    "one-class SVM before fit": (lambda: OneClassSVMDetector().score_samples(ROWS), InputError, r"\.fit"),
    "k-means distance before fit": (lambda: KMeansDistance().score_samples(ROWS), InputError, r"\.fit"),
    "PCA before fit": (lambda: PCAReconstruction().score_samples(ROWS), InputError, r"\.fit"),
    "PyOD kNN before fit": (lambda: PyODDetector("knn").score_samples(ROWS), InputError, r"\.fit"),
    "PyOD ECOD before fit": (lambda: PyODDetector("ecod").score_samples(ROWS), InputError, r"\.fit"),
    # KDDEncoder and extra or broken columns
    "KDD label-derived extra column": (lambda: preprocessing.KDDEncoder().fit(kdd_frame(difficulty=21.0)),
                                       InputError, r"\['difficulty'\].*extra_columns"),
    "KDD extra string column": (lambda: preprocessing.KDDEncoder().fit(kdd_frame(host="a")), InputError,
                                r"\['host'\].*drop them"),
    "KDD listed extra column that is text": (
        lambda: preprocessing.KDDEncoder(extra_columns=["host"]).fit(kdd_frame(host="a")), InputError,
        r"\['host'\] .*not numeric.*pd.to_numeric"),
    "KDD NaN in a numeric column": (lambda: preprocessing.KDDEncoder().fit(kdd_frame(hot=[np.nan] + [0.0] * 5)),
                                    InputError, r"\['hot'\] hold missing values.*drop or fill"),
    "KDD NaN in a categorical column": (
        lambda: preprocessing.KDDEncoder().fit(kdd_frame(service=[None] + ["http"] * 5)), InputError,
        r"\['service'\] hold missing"),
    # time order
    "forecaster on a reversed series": (lambda: tiny_forecaster().fit(SERIES.iloc[::-1]), InputError,
                                        "not in time order.*sort_index"),
    "forecaster on repeated timestamps": (
        lambda: tiny_forecaster().fit(SERIES.set_axis(HOURS[[0, *range(199)]])), InputError,
        "repeats 1 timestamp.*groupby"),
    "window detector on a shuffled series": (
        lambda: WindowDetector(IsolationForestDetector(), window=5).fit(SERIES.sample(frac=1, random_state=0)),
        InputError, "sort_index"),
    "chronological split through a repeated timestamp": (
        lambda: d.chronological_split(pd.Series(range(10), index=HOURS[[0, 1, 2, 3, 4, 4, 5, 6, 7, 8]]), (0.5, 0.5)),
        InputError, "into two parts.*groupby"),
    # metrics on empty or non-finite input
    "roc_auc of nothing": (lambda: metrics.roc_auc([], []), InputError, "empty; pass at least one"),
    "pr_auc of nothing": (lambda: metrics.pr_auc([], []), InputError, "empty"),
    "event_metrics of nothing": (lambda: metrics.event_metrics([], []), InputError, "empty"),
    "roc_auc with NaN scores": (lambda: metrics.roc_auc([0, 1, 0], [0.1, np.nan, 0.3]), InputError,
                                "scores hold 1 NaN.*dropna"),
    "pr_auc with inf scores": (lambda: metrics.pr_auc([0, 1, 0], [0.1, np.inf, 0.3]), InputError, "scores hold"),
    "nab_score at a NaN threshold": (
        lambda: metrics.nab_score([(np.linspace(0, 1, 200), HOURS, [(HOURS[150], HOURS[160])])], threshold=np.nan),
        InputError, "threshold must be a number, not NaN.*None"),
    "tz-aware index, naive windows": (
        lambda: metrics.nab_score([(np.linspace(0, 1, 200), HOURS.tz_localize("UTC"), [(HOURS[150], HOURS[160])])]),
        InputError, "tz-aware.*tz-naive.*tz_localize"),
    "naive index, tz-aware windows": (
        lambda: d.window_mask(HOURS, [(pd.Timestamp("2024-01-02", tz="UTC"), pd.Timestamp("2024-01-03", tz="UTC"))]),
        InputError, "tz_localize"),
    # values beyond float32, and scores that overflow
    "finite values beyond float32": (lambda: preprocessing.as_samples(np.full((3, 2), 1e39)), InputError,
                                     "beyond float32's range.*scale them"),
    "autoencoder fed values of 1e20": (
        lambda: DenseAutoencoder(hidden=(4,), latent_dim=2, epochs=1).fit(ROWS).score_samples(ROWS * 1e20),
        InputError, "NaN or infinite score.*scale it"),
    # windows
    "window of 3.5 steps": (lambda: WindowDetector(IsolationForestDetector(), window=3.5), InputError,
                            "must be an integer"),
    "validation part shorter than the window": (
        lambda: WindowDetector(SequenceAutoencoder(units=2, epochs=1), window=12).fit(SERIES[:100], SERIES[100:105]),
        InputError, "fewer than the window.*val=None"),
    # output names and empty tables
    "table named ..": (lambda: reporting.write_table(_table(), "..", tables_dir=Path("/tmp/never")), InputError,
                       "bare name"),
    "table named .hidden": (lambda: reporting.write_table(_table(), ".hidden", tables_dir=Path("/tmp/never")),
                            InputError, "bare name"),
    "table name with a folder": (lambda: reporting.write_table(_table(), "a/b", tables_dir=Path("/tmp/never")),
                                 InputError, "bare name"),
    "empty table": (lambda: reporting.write_table(_table().iloc[:0], "02_x", tables_dir=Path("/tmp/never")),
                    InputError, "no rows.*filter"),
    "figure named ..": (lambda: plotting.save_figure(None, "..", figures_dir=Path("/tmp/never")), InputError,
                        "bare name"),
}  # fmt: skip


def _table() -> pd.DataFrame:
    return pd.DataFrame([{"dataset": "x", "protocol": "p", "series": None, "model": "m", "seed": 0,
                          "threshold_rule": "r", "kind": "ours", "metric": "f1", "value": 0.5}])  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_defect_is_refused_with_a_message_that_names_the_fix(case):
    call, error, message = CASES[case]
    _raises(call, error, message)
    assert not Path("/tmp/never").exists()  # refused before anything was written


def test_infinite_thresholds_stay_legitimate_ends_of_a_sweep():
    assert thresholds.apply_threshold([0.1, 0.9], np.inf).sum() == 0
    assert thresholds.apply_threshold([0.1, 0.9], -np.inf).sum() == 2
    corpus = [(np.linspace(0, 1, 200), HOURS, [(HOURS[150], HOURS[160])])]
    assert metrics.nab_score(corpus, threshold=np.inf)["score"] == 0.0  # flag nothing: the null detector


def test_nab_loader_alone_may_keep_repeated_timestamps():
    repeated = SERIES.set_axis(HOURS[[0, *range(199)]])
    d.keep_file_order(repeated)  # what load_nab and nab_runs do
    scores = tiny_forecaster().fit(repeated.iloc[:150]).score_samples(repeated)
    assert len(scores) == 200 and scores.notna().sum() == 192
    assert d.load_nab(d.nab_series_names()[0]).attrs[d.checks.KEEP_FILE_ORDER] is True


def test_kdd_encoder_encodes_only_the_41_features_unless_told(shared_datasets):
    assert list(preprocessing.KDD_FEATURES) == d.kdd_feature_names()
    listed = preprocessing.KDDEncoder(extra_columns=["difficulty"]).fit(kdd_frame(difficulty=21.0))
    assert "difficulty" in listed.feature_names_
    plain = preprocessing.KDDEncoder().fit(kdd_frame(is_attack=0, attack_category="normal"))
    assert "is_attack" not in plain.feature_names_


# --------------------------------------------------------------------------- files: data and tables


@pytest.fixture
def one_file(tmp_path, monkeypatch):
    """A registry of one file, a mirror holding it, and an empty raw folder."""
    content = b"a,b\n1,2\n"
    digest = hashlib.sha256(content).hexdigest()
    monkeypatch.setattr(registry, "_registry_entries", lambda: {"x/file.csv": (digest, "https://example.org/f")})
    mirror = tmp_path / "mirror"
    (mirror / "x").mkdir(parents=True)
    (mirror / "x" / "file.csv").write_bytes(content)
    return tmp_path / "raw", mirror, content


def test_relative_mirror_is_read_from_the_repository_root(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # as papermill and nbval do: the notebooks' folder, not the root
    monkeypatch.setenv(registry.MIRROR_ENV, "../shared/datasets")
    assert registry.mirror_dir() == (paths.ROOT / "../shared/datasets").resolve()


def test_a_verified_local_file_needs_no_mirror(one_file, monkeypatch):
    raw, mirror, content = one_file
    registry.fetch("x/file.csv", raw_dir=raw, mirror=mirror)
    monkeypatch.setenv(registry.MIRROR_ENV, "/no/such/mirror")
    assert registry.fetch("x/file.csv", raw_dir=raw).read_bytes() == content


def test_missing_mirror_is_named_when_it_is_needed(one_file):
    raw, _, _ = one_file
    _raises(lambda: registry.fetch("x/file.csv", raw_dir=raw, mirror="/no/such/mirror"), DataError,
            "not a directory.*relative path is read from the repository root")  # fmt: skip


def test_corrupt_local_file_with_corrupt_mirror_is_not_kept(one_file):
    raw, mirror, _ = one_file
    (raw / "x").mkdir(parents=True)
    (raw / "x" / "file.csv").write_bytes(b"corrupt")
    (mirror / "x" / "file.csv").write_bytes(b"also corrupt")
    _raises(lambda: registry.fetch("x/file.csv", raw_dir=raw, mirror=mirror), DataError, "sha256.*make data")
    assert not (raw / "x" / "file.csv").exists()


def test_killed_download_leaves_no_temporary_file_for_long(one_file):
    raw, mirror, _ = one_file
    (raw / "x").mkdir(parents=True)
    stale, fresh = raw / "x" / "tmpabc123", raw / "x" / "tmpnew456"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"in progress")
    old = time.time() - 2 * registry.STALE_DOWNLOAD_SECONDS
    os.utime(stale, (old, old))
    registry.fetch("x/file.csv", raw_dir=raw, mirror=mirror)
    assert not stale.exists() and fresh.exists()  # a live download of another process is left alone


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_raw_folder_gets_the_right_advice(one_file):
    raw, mirror, _ = one_file
    (raw / "x").mkdir(parents=True)
    (raw / "x").chmod(0o555)
    try:
        _raises(lambda: registry.fetch("x/file.csv", raw_dir=raw, mirror=mirror), DataError, "writable")
    finally:
        (raw / "x").chmod(0o755)


def test_read_only_raw_folder_message(one_file, monkeypatch):
    """As root the folder cannot be made read-only, so the copy itself is refused (as it would be)."""
    raw, mirror, _ = one_file

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(registry.shutil, "copyfile", refuse)
    _raises(lambda: registry.fetch("x/file.csv", raw_dir=raw, mirror=mirror), DataError,
            "chmod u\\+w.*ANOMALYLAB_HOME")  # fmt: skip


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_data_stamp_goes_stale_when_a_raw_file_is_deleted(tmp_path):
    shutil.copy(paths.ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "anomalylab").mkdir()
    (tmp_path / "anomalylab" / "registry.txt").write_text("# path sha url\na/one.csv 00 https://x\nb/two.gz 11 "
                                                          "https://y\n")  # fmt: skip
    for name in ("a/one.csv", "b/two.gz"):
        (tmp_path / "data" / "raw" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "data" / "raw" / name).write_text("x")
    (tmp_path / ".venv").mkdir()
    for stamp in ("pyproject.toml", "requirements.lock", ".venv/.installed", "data/raw/.verified"):
        time.sleep(0.01)
        (tmp_path / stamp).write_text("")
    make = ["make", "-n", "data", "PYTHON=python3"]
    fresh = subprocess.run(make, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "anomalylab.datasets" not in fresh
    (tmp_path / "data" / "raw" / "b" / "two.gz").unlink()
    stale = subprocess.run(make, cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "anomalylab.datasets" in stale


def test_a_table_is_written_as_a_set_or_not_at_all(tmp_path, monkeypatch):
    reporting.write_table(_table(), "02_x", tables_dir=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    changed = _table().assign(value=0.9)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_markdown", interrupted)  # after the CSV, before the .md
    with pytest.raises(KeyboardInterrupt):
        reporting.write_table(changed, "02_x", tables_dir=tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # old set, no temporary files


def test_orphaned_temporary_files_of_a_table_are_removed_by_its_next_write(tmp_path):
    orphan = tmp_path / ".02_x.csv.k1ll3d.tmp"
    orphan.write_text("half")
    old = time.time() - 2 * paths.ORPHAN_SECONDS
    os.utime(orphan, (old, old))
    reporting.write_table(_table(), "02_x", tables_dir=tmp_path)
    assert not orphan.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["02_x.csv", "02_x.md", "02_x.provenance.json"]
    ignored = subprocess.run(["git", "check-ignore", "-q", "figures/tables/.02_x.csv.k1ll3d.tmp"], cwd=paths.ROOT)
    assert ignored.returncode == 0  # and git never offers them for a commit
