"""Every detector round-trips through save/load: the scores after loading equal those before, bit for bit,
and the saved directory holds no pickle."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from anomalylab.errors import InputError
from anomalylab.models import (
    GOAD,
    BiGAN,
    CNNForecaster,
    DeepSVDD,
    DenseAutoencoder,
    HybridKMeansAutoencoder,
    IsolationForestDetector,
    KMeansDistance,
    MatrixProfileDiscord,
    NeuTraLAD,
    OneClassSVMDetector,
    PCAReconstruction,
    PyODDetector,
    RandomScore,
    RollingMedianResidual,
    RollingZScore,
    SeasonalNaive,
    SemiSupervisedHybrid,
    SequenceAutoencoder,
    SpatialNovelty,
    STLResidual,
    StreamingForecaster,
    VariationalAutoencoder,
    WindowDetector,
    WindowedGaussian,
    load,
)
from anomalylab.models.persistence import Persistable, _classes

RNG = np.random.default_rng(0)
TABLE = RNG.normal(size=(300, 6)).astype("float32")
SERIES = pd.Series(np.sin(np.arange(240) / 4) + RNG.normal(0, 0.1, 240),
                   index=pd.date_range("2024-01-01", periods=240, freq="h"))  # fmt: skip

quick = {"epochs": 2, "batch_size": 64}
TABULAR = {
    "autoencoder": lambda: DenseAutoencoder(hidden=(8,), latent_dim=3, **quick),
    "vae": lambda: VariationalAutoencoder(hidden=(8,), latent_dim=3, **quick),
    "bigan": lambda: BiGAN(hidden=(8, 4), latent_dim=3, **quick),
    "isolation_forest": lambda: IsolationForestDetector(n_estimators=20),
    "ocsvm": lambda: OneClassSVMDetector(),
    "pca": lambda: PCAReconstruction(3),
    "kmeans": lambda: KMeansDistance(3),
    "knn": lambda: PyODDetector("knn", max_train_rows=200, seed=1),
    "lof": lambda: PyODDetector("lof"),
    "ecod": lambda: PyODDetector("ecod"),
    "hybrid": lambda: HybridKMeansAutoencoder(n_clusters=3, hidden=(8,), latent_dim=3, epochs=2, dynamic_q=0.9,
                                              min_cluster_rows=5),
    "semi_supervised": lambda: SemiSupervisedHybrid(TABLE[:5] + 3, n_clusters=2, hidden=(8,), latent_dim=3,
                                                    epochs=2),
    "random": lambda: RandomScore(seed=3),
    "neutral_ad": lambda: NeuTraLAD(n_transforms=3, transform_hidden=8, hidden=(8,), embedding_dim=4, **quick),
    "neutral_ad_multiplicative": lambda: NeuTraLAD(n_transforms=2, transform_kind="multiplicative", **quick),
    "goad": lambda: GOAD(n_transforms=4, transform_dim=5, hidden=(8,), feature_dim=4, **quick),
    "deep_svdd": lambda: DeepSVDD(hidden=(8,), embedding_dim=3, **quick),
}
SERIES_DETECTORS = {
    "deepant": lambda: CNNForecaster(lookback=16, filters=(4,), dense_units=8, **quick),
    "additive_attention": lambda: CNNForecaster(lookback=16, filters=(4,), attention="additive", **quick),
    "self_attention": lambda: CNNForecaster(lookback=16, filters=(4,), attention="self", num_heads=2, **quick),
    "streaming": lambda: StreamingForecaster(lookback=16, filters=(4,), dense_units=8, refit_every=50,
                                             refit_epochs=1, **quick),
    "streaming_skip": lambda: StreamingForecaster(lookback=16, filters=(4,), dense_units=8, refit_every=50,
                                                  refit_epochs=1, refit_skip_quantile=0.9, **quick),
    "day_ahead_log": lambda: CNNForecaster(lookback=16, horizon=4, filters=(4,), transform="log1p",
                                           error="relative", **quick),
    "lstm_window": lambda: WindowDetector(SequenceAutoencoder("lstm", units=4, **quick), window=8,
                                          winsorize=(0.01, 0.99)),
    "convbigru_window": lambda: WindowDetector(SequenceAutoencoder("convbigru", units=4, conv_filters=(4,),
                                                                   **quick), window=8),
    "iforest_window": lambda: WindowDetector(IsolationForestDetector(n_estimators=10), window=8, fit_stride=2),
    "seasonal_naive": lambda: SeasonalNaive((24, 48)),
    "rolling_zscore": lambda: RollingZScore(24),
    "windowed_gaussian": lambda: WindowedGaussian(100),
    "stl": lambda: STLResidual(24),
    "matrix_profile": lambda: MatrixProfileDiscord(12),
    "rolling_median": lambda: RollingMedianResidual(5),
    "spatial_novelty": lambda: SpatialNovelty(),
}


def _roundtrip(detector, fit_args, score_input, tmp_path):
    detector.fit(*fit_args)
    before = detector.score_samples(score_input)
    path = detector.save(tmp_path / "model")
    loaded = type(detector).load(path)
    after = loaded.score_samples(score_input)
    assert type(after) is type(before)
    np.testing.assert_array_equal(np.asarray(after), np.asarray(before))  # bit for bit (NaN where NaN)
    assert np.asarray(before).size and np.isfinite(np.asarray(before, dtype=float)[~np.isnan(before)]).all()
    return path, loaded


def _no_pickle(path):
    """No file of the saved directory is a pickle; every .keras/.skops archive holds JSON and arrays only."""
    for file in path.rglob("*"):
        if file.is_file():
            assert not file.read_bytes()[:2] == b"\x80\x04", file
            assert file.suffix in {".json", ".npz", ".keras", ".skops"}, file
        if file.suffix in {".keras", ".skops"}:
            names = zipfile.ZipFile(file).namelist()
            assert all(n.endswith((".json", ".h5", ".npy")) for n in names), names


@pytest.mark.parametrize("name", TABULAR)
def test_tabular_detector_round_trip_is_bit_for_bit(name, tmp_path):
    path, _ = _roundtrip(TABULAR[name](), (TABLE[:200], TABLE[200:250]), TABLE[250:], tmp_path)
    _no_pickle(path)


@pytest.mark.parametrize("name", SERIES_DETECTORS)
def test_series_detector_round_trip_is_bit_for_bit(name, tmp_path):
    series = SERIES + 2 if name == "day_ahead_log" else SERIES
    path, loaded = _roundtrip(SERIES_DETECTORS[name](), (series[:160], series[160:200]), series, tmp_path)
    _no_pickle(path)
    if getattr(loaded, "attention", None):
        np.testing.assert_array_equal(loaded.attention_weights(series), SERIES_DETECTORS[name]().fit(
            series[:160], series[160:200]).attention_weights(series))  # fmt: skip


def test_every_detector_class_is_covered_and_persistable():
    made = set()
    for make in [*TABULAR.values(), *SERIES_DETECTORS.values()]:
        detector = make()
        made |= {type(detector).__name__, type(getattr(detector, "detector", None)).__name__}
    detectors = {n for n, c in _classes().items() if n != "Winsorizer" and hasattr(c, "score_samples")}
    assert detectors <= made, detectors - made
    assert all(issubclass(_classes()[n], Persistable) for n in detectors)


def test_unfitted_detector_round_trips_and_still_says_fit_first(tmp_path):
    loaded = load(IsolationForestDetector(n_estimators=7, seed=4).save(tmp_path / "m"))
    assert (loaded.n_estimators, loaded.seed) == (7, 4)
    with pytest.raises(InputError, match="fit"):
        loaded.score_samples(TABLE)


def test_load_refuses_what_it_should_not_rebuild(tmp_path):
    path = PCAReconstruction(2).fit(TABLE).save(tmp_path / "m")
    manifest = json.loads((path / "detector.json").read_text())
    with pytest.raises(InputError, match="not a DenseAutoencoder"):
        DenseAutoencoder.load(path)
    for change, message in [({"class": "os.system"}, "not a detector"), ({"version": 99}, "version 99"),
                            ({"format": "other"}, "not an anomalylab detector")]:  # fmt: skip
        (path / "detector.json").write_text(json.dumps({**manifest, **change}))
        with pytest.raises(InputError, match=message):
            load(path)
    (path / "detector.json").write_text("{broken")
    with pytest.raises(InputError, match="corrupt"):
        load(path)
    with pytest.raises(InputError, match="does not exist"):
        load(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="not a saved detector"):
        load(tmp_path / "plain")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"did not write \(notes.txt\)"):
        PCAReconstruction(2).save(tmp_path / "taken")
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_save_replaces_its_own_directory_and_leaves_no_staging(tmp_path):
    PCAReconstruction(2).fit(TABLE).save(tmp_path / "m")
    KMeansDistance(2).fit(TABLE).save(tmp_path / "m")
    assert isinstance(load(tmp_path / "m"), KMeansDistance)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
