"""Reconstruction detectors (autoencoders, VAE, BiGAN, sequence AEs), tabular baselines, window wrapper, KDD encoder."""

import numpy as np
import pandas as pd
import pytest

from anomalylab.errors import InputError
from anomalylab.metrics import roc_auc
from anomalylab.models.autoencoders import DenseAutoencoder, SequenceAutoencoder, VariationalAutoencoder
from anomalylab.models.classical import IsolationForestDetector, OneClassSVMDetector, PCAReconstruction
from anomalylab.models.gan import BiGAN
from anomalylab.models.windows import WindowDetector
from anomalylab.preprocessing import KDD_LOG_FEATURES, UNSEEN, KDDEncoder


def manifold(n: int, seed: int = 0) -> np.ndarray:
    """Normal rows on a 2-D plane inside 10-D space, plus a little noise."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(99).normal(size=(2, 10))
    return (rng.normal(size=(n, 2)) @ basis + 0.05 * rng.normal(size=(n, 10))).astype("float32")


def off_manifold(n: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).normal(size=(n, 10)) * 2.0).astype("float32")


def separation(detector) -> float:
    detector.fit(manifold(2000), manifold(300, seed=5))
    test = np.vstack([manifold(300, seed=7), off_manifold(60)])
    labels = np.r_[np.zeros(300), np.ones(60)]
    return roc_auc(labels, detector.score_samples(test))


def test_autoencoder_separates_an_off_manifold_cluster():
    assert separation(DenseAutoencoder(hidden=(32,), latent_dim=2, epochs=40, batch_size=64, seed=0)) > 0.95


@pytest.mark.parametrize(
    "detector",
    [PCAReconstruction(n_components=2), OneClassSVMDetector(nu=0.05), IsolationForestDetector(n_estimators=100)],
    ids=["pca", "ocsvm", "iforest"],
)
def test_classical_detectors_separate_an_off_manifold_cluster(detector):
    assert separation(detector) > 0.95


def test_vae_loss_is_finite_and_falls_and_its_score_ranks_outliers_higher():
    vae = VariationalAutoencoder(hidden=(32,), latent_dim=2, epochs=15, batch_size=64, patience=None, seed=0)
    loss = vae.fit(manifold(2000)).history_["loss"]
    assert np.isfinite(loss).all()
    assert loss[-1] < 0.5 * loss[0]
    scores = vae.score_samples(np.vstack([manifold(200, seed=7), off_manifold(50)]))
    assert scores[200:].mean() > scores[:200].mean()


def test_vae_and_autoencoder_same_seed_same_scores():
    X, probe = manifold(500), off_manifold(20)
    for make in (lambda: VariationalAutoencoder(epochs=2, seed=3), lambda: DenseAutoencoder(epochs=2, seed=3)):
        a, b = make().fit(X).score_samples(probe), make().fit(X).score_samples(probe)
        np.testing.assert_array_equal(a, b)


def test_one_bigan_step_changes_all_three_networks():
    gan = BiGAN(hidden=(16,), latent_dim=2, epochs=1, batch_size=64, seed=0)
    X = manifold(64)  # one batch = one training step
    gan.fit(X[:1])  # builds the networks (one step on one row)
    nets = {n: getattr(gan.model_, n) for n in ("encoder", "generator", "discriminator")}
    before = {n: [w.copy() for w in net.get_weights()] for n, net in nets.items()}
    gan.model_.train_step(X)
    for name, net in nets.items():
        changed = any(not np.array_equal(a, b) for a, b in zip(before[name], net.get_weights()))
        assert changed, f"{name} weights did not change"
    scores = gan.score_samples(X)
    assert scores.shape == (64,) and np.isfinite(scores).all()


def test_bigan_with_patience_stops_on_the_validation_reconstruction_error_and_keeps_its_best_epoch():
    X, val = manifold(600), manifold(200, seed=5)
    gan = BiGAN(hidden=(16,), latent_dim=2, epochs=40, batch_size=64, learning_rate=1e-2, patience=2, seed=0)
    history = gan.fit(X, val).history_
    best = int(np.argmin(history["val_rec"]))
    assert len(history["val_rec"]) == min(40, best + 3)  # stopped 2 epochs after its best, or ran out
    rec = np.abs(val - gan.model_(val)).mean(axis=1).mean()
    assert rec == pytest.approx(history["val_rec"][best], rel=1e-4)  # the weights of the best epoch
    assert "val_rec" not in BiGAN(epochs=1, batch_size=64).fit(X, val).history_  # no patience: no early stopping


@pytest.mark.parametrize("kind", ["lstm", "convbigru"])
def test_sequence_autoencoders_reconstruct_their_input_shape(kind):
    windows = np.sin(np.linspace(0, 40, 400))[np.arange(100)[:, None] + np.arange(24)][..., None]
    ae = SequenceAutoencoder(kind=kind, units=8, epochs=1, batch_size=32, seed=0).fit(windows)
    assert ae.reconstruct(windows).shape == windows.shape
    assert ae.score_samples(windows).shape == (100,)
    with pytest.raises(InputError, match="shape"):
        ae.score_samples(windows[:, :12])


def test_window_detector_scores_each_window_at_its_last_point_and_clips_with_training_bounds():
    rng = np.random.default_rng(0)
    series = pd.Series(rng.normal(size=600), index=pd.date_range("2024-01-01", periods=600, freq="h"))
    series.iloc[500:510] += 8.0  # a 10-hour level shift
    det = WindowDetector(IsolationForestDetector(n_estimators=50), window=10)
    scores = det.fit(series.iloc[:400]).score_samples(series)
    assert scores.index.equals(series.index) and scores.isna().sum() == 9
    assert scores.dropna().index.equals(det.forecast_index(series)) and len(det.forecast_index(series)) == 591
    top = scores.idxmax()
    assert series.index[500] <= top <= series.index[518]  # a window that holds the shift
    clipped = WindowDetector(IsolationForestDetector(n_estimators=50), window=10, winsorize=(0.01, 0.99))
    clipped.fit(series.iloc[:400])
    assert clipped.winsorizer_.high_[0] == pytest.approx(np.quantile(series.iloc[:400], 0.99))
    assert clipped.name == "isolation_forest_winsorized"
    strided = WindowDetector(IsolationForestDetector(n_estimators=50), window=10, fit_stride=5).fit(series.iloc[:400])
    assert strided.detector.n_train_rows_ == 79  # every 5th of the 391 training windows
    assert strided.score_samples(series).notna().sum() == 591  # scoring still uses every window


def kdd_rows(services):
    n = len(services)
    frame = pd.DataFrame({c: np.arange(n, dtype=float) for c in KDD_LOG_FEATURES})
    frame["same_srv_rate"] = np.linspace(0, 1, n)
    frame["protocol_type"] = ["tcp", "udp"] * (n // 2)
    frame["service"] = services
    frame["flag"] = "SF"
    frame["label"] = "normal"
    return frame


def test_kdd_encoder_flags_test_only_categories_instead_of_dropping_them():
    enc = KDDEncoder().fit(kdd_rows(["http", "smtp"] * 10))
    test = enc.transform(kdd_rows(["http", "icq"]))  # icq never seen in training
    names = enc.feature_names_
    assert test.shape == (2, len(names))
    assert enc.unseen_counts_ == {"protocol_type": 0, "service": 1, "flag": 0}
    unseen = names.index(f"service={UNSEEN}")
    assert test[:, unseen].tolist() == [0, 1]  # one-hot columns stay 0/1 by default
    assert test[:, names.index("service=http")].tolist() == [1, 0]
    assert np.isfinite(test).all()
    assert "label" not in names


def test_kdd_encoder_scales_with_training_rows_only():
    train = kdd_rows(["http"] * 20)
    enc = KDDEncoder().fit(train)
    encoded = enc.transform(train)
    col = enc.feature_names_.index("src_bytes")
    assert encoded[:, col].mean() == pytest.approx(0, abs=1e-6)
    assert encoded[:, col].std() == pytest.approx(1, abs=1e-5)
    big = enc.transform(train.assign(src_bytes=1e9))[:, col]
    assert (big > 5).all()  # a huge test value stays huge: log1p, then the training scale


def test_reconstruction_detectors_refuse_bad_input():
    with pytest.raises(InputError, match="not fitted"):
        DenseAutoencoder().score_samples(manifold(5))
    with pytest.raises(InputError, match="NaN"):
        DenseAutoencoder().fit(np.full((5, 3), np.nan))
    with pytest.raises(InputError, match="shape"):
        DenseAutoencoder(epochs=1).fit(manifold(50)).score_samples(np.zeros((3, 4)))
    with pytest.raises(InputError, match="kind"):
        SequenceAutoencoder(kind="transformer")
    with pytest.raises(InputError, match="load_kdd"):
        KDDEncoder().fit(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(InputError, match="not fitted"):
        KDDEncoder().transform(kdd_rows(["http", "smtp"]))


def test_batched_prediction_in_graph_mode_matches_eager_calls(monkeypatch):
    from anomalylab.models import _keras

    ae = DenseAutoencoder(hidden=(8,), latent_dim=2, epochs=1, seed=0).fit(manifold(200))
    X = manifold(3000, seed=9)
    eager = _keras.predict_batches(ae.model_, X, batch_size=1024)
    monkeypatch.setattr(_keras, "GRAPH_MIN_ROWS", 1000)
    graph = _keras.predict_batches(ae.model_, X, batch_size=1024)  # 3 batches, the last one shorter
    np.testing.assert_allclose(graph, eager, rtol=1e-5, atol=1e-6)
    assert ae.model_._anomalylab_graph_call is not None
