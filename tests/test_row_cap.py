"""``max_train_rows``: every detector that takes it fits on the same seeded sample of the training rows, exactly as
if it had been given that sample; bad caps are refused; the cap survives save and load."""

import numpy as np
import pytest

from anomalylab.errors import InputError
from anomalylab.models import GOAD, BiGAN, DeepSVDD, DenseAutoencoder, NeuTraLAD, VariationalAutoencoder
from anomalylab.models.classical import OneClassSVMDetector, PyODDetector
from anomalylab.models.persistence import load
from anomalylab.preprocessing import cap_rows

RNG = np.random.default_rng(3)
X = RNG.normal(size=(700, 6)).astype("float32")
VAL = RNG.normal(size=(100, 6)).astype("float32")
Y = np.r_[RNG.normal(size=(50, 6)), RNG.normal(4, 1, size=(10, 6))].astype("float32")

SMALL = {"epochs": 2, "batch_size": 128, "seed": 4}
DEEP = {
    "autoencoder": lambda cap: DenseAutoencoder(hidden=(8,), latent_dim=2, max_train_rows=cap, **SMALL),
    "vae": lambda cap: VariationalAutoencoder(hidden=(8,), latent_dim=2, max_train_rows=cap, **SMALL),
    "bigan": lambda cap: BiGAN(hidden=(8, 4), latent_dim=2, max_train_rows=cap, **SMALL),
    "neutral_ad": lambda cap: NeuTraLAD(n_transforms=3, transform_hidden=8, hidden=(8,), embedding_dim=4,
                                        max_train_rows=cap, **SMALL),
    "goad": lambda cap: GOAD(n_transforms=4, transform_dim=4, hidden=(8,), feature_dim=4, max_train_rows=cap,
                             **SMALL),
    "deep_svdd": lambda cap: DeepSVDD(hidden=(8,), embedding_dim=2, max_train_rows=cap, **SMALL),
}


def test_cap_rows_is_a_seeded_sample_in_file_order():
    a, b, c = cap_rows(X, 200, 0), cap_rows(X, 200, 0), cap_rows(X, 200, 1)
    assert a.shape == (200, 6) and np.array_equal(a, b) and not np.array_equal(a, c)
    rows = [int(np.flatnonzero((X == row).all(axis=1))[0]) for row in a]
    assert rows == sorted(rows)  # the sample keeps the file's order
    assert cap_rows(X, None, 0) is X and cap_rows(X, 700, 0) is X and cap_rows(X, 5_000, 0) is X


# one model per fitting path: the shared Keras fit, a center fixed from the training rows (Deep SVDD), centers
# computed after training (GOAD), and the BiGAN's own fit; every model takes the cap (test_bad_caps_are_refused)
@pytest.mark.parametrize("name", ["autoencoder", "deep_svdd", "goad", "bigan"])
def test_a_capped_deep_fit_is_the_fit_on_the_sample(name):
    capped = DEEP[name](300).fit(X, VAL)
    on_sample = DEEP[name](None).fit(cap_rows(X, 300, SMALL["seed"]), VAL)
    assert capped.n_train_rows_ == on_sample.n_train_rows_ == 300
    np.testing.assert_array_equal(capped.score_samples(Y), on_sample.score_samples(Y))


def test_every_deep_model_takes_the_cap_and_fits_on_every_row_without_it():
    for name, make in DEEP.items():
        assert make(300).max_train_rows == 300 and make(None).max_train_rows is None, name
    assert DEEP["autoencoder"](None).fit(X, VAL).n_train_rows_ == len(X)


def test_the_deep_and_the_classical_caps_draw_the_same_rows():
    """One seed, one sample: a deep model and OC-SVM with the same cap and seed fit on the same rows."""
    svm = OneClassSVMDetector(max_train_rows=250, seed=SMALL["seed"]).fit(X)
    sample = cap_rows(X, 250, SMALL["seed"])
    np.testing.assert_array_equal(svm.model_.support_vectors_, sample[svm.model_.support_])


@pytest.mark.parametrize("cap", [0, -5, 2.5, "1000", True])
@pytest.mark.parametrize("make", [
    lambda cap: DenseAutoencoder(max_train_rows=cap), lambda cap: BiGAN(max_train_rows=cap),
    lambda cap: PyODDetector("knn", max_train_rows=cap), lambda cap: OneClassSVMDetector(max_train_rows=cap),
])
def test_bad_caps_are_refused_with_the_rule(make, cap):
    with pytest.raises(InputError, match="max_train_rows must be None .* positive whole number"):
        make(cap)


def test_the_cap_survives_save_and_load(tmp_path):
    model = DEEP["goad"](300).fit(X, VAL)
    loaded = load(model.save(tmp_path / "goad"))
    assert loaded.max_train_rows == 300 and loaded.n_train_rows_ == 300
    np.testing.assert_array_equal(loaded.score_samples(Y), model.score_samples(Y))
