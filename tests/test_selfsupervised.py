"""NeuTraL AD, GOAD and Deep SVDD: their losses against loop-by-loop NumPy versions of the papers' formulas,
their scores on data with known outliers, seeds, and refusals."""

import numpy as np
import pytest
from test_reconstruction import manifold, off_manifold, separation

from anomalylab.errors import InputError
from anomalylab.metrics import roc_auc
from anomalylab.models import GOAD, DeepSVDD, NeuTraLAD

RNG = np.random.default_rng(0)


def dcl_reference(z: np.ndarray, temperature: float) -> np.ndarray:
    """NeuTraL AD's DCL (Qiu et al. 2021, eq. 2), one sample and one transformation at a time."""
    out = []
    for views in z:
        unit = views / np.linalg.norm(views, axis=1, keepdims=True)
        h = np.exp(unit @ unit.T / temperature)  # h[a, b] = exp(cos(z_a, z_b) / t)
        k_views = range(1, len(views))
        out.append(sum(-np.log(h[k, 0] / (h[k, 0] + sum(h[k, m] for m in k_views if m != k))) for k in k_views))
    return np.array(out)


def goad_reference(features: np.ndarray, alpha: float, margin: float) -> float:
    """GOAD's loss (Bergman & Hoshen 2020): cross-entropy over minus squared distances to the batch centers of
    each transformation, plus ``alpha`` times the triplet-center hinge, averaged over rows and transformations."""
    centers = features.mean(axis=0)
    total = []
    for row in features:
        for m, f in enumerate(row):
            d = np.array([np.sum((f - c) ** 2) for c in centers])
            ce = -(-d[m] - np.log(np.sum(np.exp(-d))))
            triplet = max(d[m] + margin - min(d[j] for j in range(len(d)) if j != m), 0.0)
            total.append(ce + alpha * triplet)
    return float(np.mean(total))


def test_contrastive_score_layer_equals_the_papers_dcl():
    from anomalylab.models.layers import ContrastiveScore

    z = RNG.normal(size=(7, 5, 4)).astype("float32")
    for temperature in (0.1, 1.0):
        got = np.asarray(ContrastiveScore(temperature)(z))[:, 0]
        np.testing.assert_allclose(got, dcl_reference(z.astype(float), temperature), rtol=2e-4)
        assert (got > 0).all()


def test_goad_loss_equals_the_papers_loss():
    from anomalylab.models.layers import GOADLoss

    features = RNG.normal(size=(6, 4, 3)).astype("float32")
    for alpha, margin in ((0.1, 1.0), (0.0, 1.0), (1.0, 5.0)):
        got = float(GOADLoss(alpha, margin)(np.zeros((6, 1), "float32"), features))
        assert got == pytest.approx(goad_reference(features.astype(float), alpha, margin), rel=1e-4)


def test_goad_score_is_minus_the_log_probability_of_the_right_transformation():
    goad = GOAD(n_transforms=3, transform_dim=4, hidden=(8,), feature_dim=2, epochs=2, batch_size=64).fit(
        manifold(300)
    )
    X = manifold(5, seed=3)
    features = goad.reconstruct(X).astype(float)  # the feature network's output, (rows, M, feature_dim)
    expected = []
    for row in features:
        d = np.square(row[:, None, :] - goad.centers_[None, :, :]).sum(-1)  # [m, j]: copy m to center j
        expected.append(sum(d[m, m] + np.log(np.exp(-d[m]).sum()) for m in range(3)))
    np.testing.assert_allclose(goad.score_samples(X), expected, rtol=1e-6)
    np.testing.assert_allclose(goad.centers_, goad.reconstruct(manifold(300)).astype(float).mean(axis=0), rtol=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        lambda: NeuTraLAD(n_transforms=6, epochs=20, batch_size=128, seed=0),
        lambda: GOAD(n_transforms=8, transform_dim=8, epochs=20, batch_size=128, seed=0),
        lambda: DeepSVDD(hidden=(32,), embedding_dim=4, epochs=20, batch_size=128, seed=0),
    ],
    ids=["neutral_ad", "goad", "deep_svdd"],
)
def test_detector_separates_an_off_manifold_cluster_and_repeats_with_its_seed(make):
    assert separation(make()) > 0.95
    X, probe = manifold(400), off_manifold(10)
    a = make().fit(X).score_samples(probe)
    np.testing.assert_array_equal(a, make().fit(X).score_samples(probe))


def test_neutral_ad_training_lowers_the_contrastive_loss_of_normal_rows():
    X = manifold(1000)
    untrained = NeuTraLAD(n_transforms=4, epochs=1, batch_size=1000, learning_rate=1e-9).fit(X).score_samples(X)
    trained = NeuTraLAD(n_transforms=4, epochs=30, batch_size=128, patience=None).fit(X).score_samples(X)
    assert trained.mean() < 0.7 * untrained.mean()


def test_deep_svdd_center_moves_small_coordinates_to_eps_and_scores_distance_to_it():
    svdd = DeepSVDD(hidden=(8,), embedding_dim=6, center_eps=0.5, epochs=2, batch_size=64).fit(manifold(300))
    assert (np.abs(svdd.center_) >= 0.5).all()
    X = off_manifold(4)
    np.testing.assert_allclose(svdd.score_samples(X), np.square(svdd.reconstruct(X) - svdd.center_).sum(1),
                               rtol=1e-6)  # fmt: skip
    assert not any(layer.get_config().get("use_bias") for layer in svdd.model_.layers)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: NeuTraLAD(n_transforms=1), "at least 2"),
        (lambda: NeuTraLAD(transform_kind="affine"), "transform_kind"),
        (lambda: NeuTraLAD(temperature=0), "temperature"),
        (lambda: GOAD(n_transforms=1), "at least 2"),
        (lambda: GOAD(alpha=-1), "alpha"),
        (lambda: DeepSVDD(center_eps=0), "center_eps"),
        (lambda: DeepSVDD(learning_rate=0), "learning_rate"),
        (lambda: DeepSVDD(epochs=0), "epochs"),
    ],
)
def test_bad_settings_are_refused_by_name(make, message):
    with pytest.raises(InputError, match=message):
        make()


def test_unfitted_or_wrong_width_input_is_refused():
    with pytest.raises(InputError, match="not fitted"):
        GOAD().score_samples(manifold(3))
    svdd = DeepSVDD(epochs=1).fit(manifold(100))
    with pytest.raises(InputError, match="shape"):
        svdd.score_samples(np.zeros((3, 4)))
    assert roc_auc(np.r_[0, 1], svdd.score_samples(np.vstack([manifold(1), off_manifold(1) * 50]))) == 1
