import hashlib
import os

import numpy as np
import pandas as pd
import pytest

from anomalylab import datasets as d
from anomalylab.datasets import registry
from anomalylab.errors import DataError, InputError


def test_registry_covers_every_shared_file_but_the_derived_labels(shared_datasets):
    listed = {}
    for line in (shared_datasets / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        listed[name] = digest
    expected = {k: v for k, v in listed.items() if k != "seed-cnn-synthetic/labels.csv"}
    entries = registry._registry_entries()
    assert set(entries) == set(expected)
    for name, (digest, url) in entries.items():
        assert digest == f"sha256:{expected[name]}"
        assert url.startswith(("https://", "http://"))
    nab_urls = [url for name, (_, url) in entries.items() if name.startswith("nab/")]
    assert all("numenta/NAB/ea702d75cc2258d9d7dd35ca8e5e2539d71f3140/" in u for u in nab_urls)


def test_mirror_copy_is_verified_and_placed(tmp_path, shared_datasets):
    path = d.fetch("seed-cnn-synthetic/data.csv", raw_dir=tmp_path / "raw", mirror=shared_datasets)
    assert path == tmp_path / "raw" / "seed-cnn-synthetic" / "data.csv"
    assert path.read_bytes() == (shared_datasets / "seed-cnn-synthetic" / "data.csv").read_bytes()


def _corrupt_mirror(tmp_path, shared_datasets, name):
    mirror = tmp_path / "mirror"
    (mirror / name).parent.mkdir(parents=True)
    data = bytearray((shared_datasets / name).read_bytes())
    data[100] ^= 0xFF
    (mirror / name).write_bytes(bytes(data))
    return mirror


def test_corrupt_mirror_file_is_refused_and_nothing_half_written_stays(tmp_path, shared_datasets):
    name = "mixtiles-traffic/tagged_data_for_model.csv"
    mirror = _corrupt_mirror(tmp_path, shared_datasets, name)
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as err:
        d.fetch(name, raw_dir=raw, mirror=mirror)
    message = str(err.value)
    assert "sha256" in message and "make data" in message and "ANOMALYLAB_DATA_MIRROR" in message
    leftovers = [p for p in raw.rglob("*") if p.is_file()]
    assert leftovers == []


def test_corrupt_local_file_is_replaced_from_the_mirror(tmp_path, shared_datasets):
    name = "seed-cnn-synthetic/data.csv"
    raw = tmp_path / "raw"
    (raw / name).parent.mkdir(parents=True)
    (raw / name).write_text("value\n1\n2\n")  # a damaged copy in data/raw
    path = d.fetch(name, raw_dir=raw, mirror=shared_datasets)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"sha256:{digest}" == registry._registry_entries()[name][0]


def test_file_missing_from_mirror_names_the_fix(tmp_path):
    (tmp_path / "mirror").mkdir()
    with pytest.raises(DataError) as err:
        d.fetch("kddcup99/kddcup.names", raw_dir=tmp_path / "raw", mirror=tmp_path / "mirror")
    assert "missing from the mirror" in str(err.value)
    assert "ANOMALYLAB_DATA_MIRROR" in str(err.value)
    assert not any(p.is_file() for p in (tmp_path / "raw").rglob("*"))


def test_mirror_that_is_not_a_directory_is_refused(tmp_path):
    with pytest.raises(DataError, match="not a directory.*make data"):
        d.fetch("kddcup99/kddcup.names", raw_dir=tmp_path / "raw", mirror=tmp_path / "nowhere")


def test_offline_download_failure_names_make_data_and_mirror(tmp_path, monkeypatch):
    monkeypatch.delenv("ANOMALYLAB_DATA_MIRROR", raising=False)

    def offline(*args, **kwargs):
        raise ConnectionError("no network here")

    monkeypatch.setattr(registry.pooch.HTTPDownloader, "__call__", offline)
    with pytest.raises(DataError) as err:
        d.fetch("kddcup99/kddcup.names", raw_dir=tmp_path / "raw")
    assert "make data" in str(err.value) and "ANOMALYLAB_DATA_MIRROR" in str(err.value)
    assert not any(p.is_file() for p in (tmp_path / "raw").rglob("*"))


def test_unknown_registry_name_is_refused():
    with pytest.raises(InputError, match="not a registered raw file"):
        d.fetch("nab/data/realKnownCause/no_such_series.csv")


# ------------------------------------------------------------------------------- loaders


def test_mixtiles_loader():
    m = d.load_mixtiles()
    assert m.shape == (4223, 3)
    assert isinstance(m.index, pd.DatetimeIndex)
    assert m.index[0] == pd.Timestamp("2024-02-24 00:00") and m.index[-1] == pd.Timestamp("2024-08-17 23:00")
    assert m["is_anomaly"].sum() == 46 and m["company_flag"].sum() == 41
    assert ((m["is_anomaly"] == 1) & (m["company_flag"] == 1)).sum() == 18


def test_spike_rule_finds_exactly_50_spikes_with_a_clear_gap(shared_datasets):
    s = d.load_spike_series()
    assert isinstance(s.index, pd.RangeIndex) and len(s) == 1000
    assert s["is_anomaly"].sum() == 50
    smallest_spike, largest_other = d.spike_residual_gap(s["value"])
    assert smallest_spike >= 8.3 and largest_other <= 1.5
    reference = pd.read_csv(shared_datasets / "seed-cnn-synthetic" / "labels.csv")
    np.testing.assert_array_equal(s["is_anomaly"].to_numpy(), reference["is_anomaly"].to_numpy())


def test_spike_rule_refuses_a_series_without_a_gap():
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="no clear gap"):
        d.derive_spike_labels(rng.normal(size=500), n_spikes=10)


def test_nab_names_windows_and_loader():
    names = d.nab_series_names()
    assert len(names) == 58 and len(d.nab_categories()) == 7
    assert len(d.nab_series_names("realKnownCause")) == 7
    taxi = d.load_nab("nyc_taxi")
    assert taxi.attrs["name"] == "realKnownCause/nyc_taxi"
    assert len(taxi) == 10320 and isinstance(taxi.index, pd.DatetimeIndex)
    assert len(taxi.attrs["windows"]) == 5
    start, end = taxi.attrs["windows"][0]
    inside = taxi.loc[start:end]
    assert inside["in_window"].all() and taxi["in_window"].sum() > len(inside)
    total_windows = sum(len(d.nab_windows(n)) for n in names)
    assert total_windows == 116
    assert d.nab_probationary_length(10320) == 750 and d.nab_probationary_length(1000) == 150


def test_kdd_loader_and_test_only_attacks():
    train, test = d.load_kdd("train"), d.load_kdd("test")
    assert train.shape[0] == 494_021 and test.shape[0] == 311_029
    features = d.kdd_feature_names()
    assert len(features) == 41 and list(train.columns[:41]) == features
    assert train["label"].nunique() == 23 and test["label"].nunique() == 38
    test_only = set(test["label"].unique()) - set(train["label"].unique())
    assert len(test_only) == 17 and test_only == set(d.KDD_TEST_ONLY_CATEGORIES)
    assert (train["label"] == "normal").sum() == 97_278
    assert train["is_attack"].sum() == 494_021 - 97_278
    assert set(test["attack_category"].unique()) == {"normal", "dos", "probe", "r2l", "u2r"}


def test_chronological_split_keeps_order_and_int_rounding():
    s = pd.Series(np.arange(4223.0), index=pd.date_range("2024-01-01", periods=4223, freq="h"))
    train, val, test = d.chronological_split(s, (0.65, 0.14, 0.21))
    assert (len(train), len(val), len(test)) == (2744, 591, 888)
    assert train.index.max() < val.index.min() and val.index.max() < test.index.min()
    assert list(d.split_labels(10, (0.5, 0.5))) == ["train"] * 5 + ["val"] * 5


def test_data_env_variable_is_used(tmp_path, shared_datasets, monkeypatch):
    monkeypatch.setenv("ANOMALYLAB_DATA_MIRROR", os.fspath(shared_datasets))
    path = d.fetch("nab/config/profiles.json", raw_dir=tmp_path / "raw")
    assert path.read_bytes() == (shared_datasets / "nab/config/profiles.json").read_bytes()


def test_nab_rows_are_kept_as_in_nabs_files_even_with_repeated_timestamps():
    frame = d.load_nab("realAWSCloudwatch/ec2_disk_write_bytes_1ef3de")
    assert len(frame) == 4730  # every row of the file, as NAB scores them
    assert frame.attrs["duplicate_timestamps"] == 11
    with pytest.raises(InputError, match="duplicate timestamps"):
        d.validate_series(frame["value"])  # code that needs a strict index is told so


def test_processed_data_round_trip_and_missing_file_message(tmp_path):
    frame = pd.DataFrame({"value": [1.0, 2.0]}, index=pd.date_range("2024-01-01", periods=2, freq="h"))

    class Cfg:
        processed_dir = tmp_path
        quick = True

    d.save_processed(frame, "toy", Cfg)
    pd.testing.assert_frame_equal(d.load_processed("toy", Cfg), frame, check_freq=False)
    with pytest.raises(DataError, match="01_data_preparation.*make quick"):
        d.load_processed("absent", Cfg)
