"""Deep tabular detectors that learn from normal rows without reconstructing them.

- :class:`NeuTraLAD` (Qiu et al., ICML 2021): ``n_transforms`` learnable transformations of a row and a shared
  encoder, trained with the deterministic contrastive loss (DCL): each transformed view must stay similar to
  the row's own embedding and unlike the other views. Score = the DCL of the row (higher = more anomalous).
  Defaults from the paper's tabular setting: 11 residual transformations, temperature 0.1, transformation
  networks of three bias-free layers.
- :class:`GOAD` (Bergman & Hoshen, ICLR 2020): ``n_transforms`` fixed random affine maps of a row (Gaussian
  matrices, ``transform_dim`` outputs each); a shared feature network learns to tell which map made each copy,
  with a cross-entropy over distances to the per-transformation centers plus a triplet-center term. Score =
  minus the summed log-probability of the right transformation, with the centers of the training rows.
- :class:`DeepSVDD` (Ruff et al., ICML 2018, one-class objective): a bias-free network maps normal rows close
  to a fixed center ``c`` (the mean of its initial outputs on the training rows); score = the squared distance
  to ``c``. No autoencoder pretraining (the paper's optional initialisation).

All three are :class:`~anomalylab.models._keras.KerasDetector`: seeded, ``fit(X_train, X_val=None)`` with
early stopping on the validation inliers' loss, ``score_samples``, ``save``/``load``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from anomalylab.errors import InputError
from anomalylab.models._keras import KerasDetector, checked_scores, predict_batches

TRANSFORM_KINDS = ("residual", "multiplicative")


def _positive(**values) -> None:
    bad = {k: v for k, v in values.items() if not (isinstance(v, int | float) and v > 0)}
    if bad:
        raise InputError(f"these must be positive: {bad}.")


class NeuTraLAD(KerasDetector):
    """Neural transformation learning: K learnable transformations + encoder, trained and scored by the DCL."""

    def __init__(
        self,
        n_transforms: int = 11,
        transform_kind: str = "residual",
        transform_hidden: int = 64,
        transform_layers: int = 3,
        hidden: Sequence[int] = (64, 64),
        embedding_dim: int = 32,
        temperature: float = 0.1,
        epochs: int = 30,
        batch_size: int = 512,
        learning_rate: float = 1e-3,
        patience: int | None = 3,
        seed: int = 0,
        max_train_rows: int | None = None,
        name: str = "neutral_ad",
    ):
        if transform_kind not in TRANSFORM_KINDS:
            raise InputError(f"transform_kind must be one of {TRANSFORM_KINDS}, got {transform_kind!r}.")
        if not (isinstance(n_transforms, int) and n_transforms >= 2):
            raise InputError(f"n_transforms must be an integer of at least 2 (the DCL contrasts views), got "
                             f"{n_transforms!r}.")  # fmt: skip
        _positive(transform_hidden=transform_hidden, transform_layers=transform_layers, embedding_dim=embedding_dim,
                  temperature=temperature)  # fmt: skip
        self.n_transforms, self.transform_kind = n_transforms, transform_kind
        self.transform_hidden, self.transform_layers = transform_hidden, transform_layers
        self.hidden, self.embedding_dim, self.temperature, self.name = tuple(hidden), embedding_dim, temperature, name
        self._init_training(epochs, batch_size, learning_rate, patience, seed, max_train_rows)

    def _build(self, shape):
        import keras

        from anomalylab.models.layers import ContrastiveScore

        (width,) = shape
        x = keras.Input(shape=shape)
        views = [keras.layers.Reshape((1, width))(x)]
        for k in range(self.n_transforms):
            h = x
            for layer in range(self.transform_layers - 1):
                h = keras.layers.Dense(self.transform_hidden, activation="relu", use_bias=False,
                                       name=f"t{k}_{layer}")(h)  # fmt: skip
            h = keras.layers.Dense(width, use_bias=False, name=f"t{k}_out")(h)
            if self.transform_kind == "residual":
                view = keras.layers.Add()([x, h])
            else:
                view = keras.layers.Multiply()([x, keras.layers.Activation("sigmoid")(h)])
            views.append(keras.layers.Reshape((1, width))(view))
        h = keras.layers.Concatenate(axis=1)(views)  # (batch, K + 1, width)
        for units in self.hidden:
            h = keras.layers.Dense(units, activation="relu")(h)  # the shared encoder, applied to every view
        z = keras.layers.Dense(self.embedding_dim, name="embedding")(h)
        score = ContrastiveScore(self.temperature, name="dcl")(z)
        model = keras.Model(x, score, name=self.name)
        # the DCL is never negative, so the mean absolute value of the output against 0 is the mean DCL
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mae")
        return model

    def _targets(self, X):
        return np.zeros((len(X), 1), dtype="float32")

    def score_samples(self, X) -> np.ndarray:
        """The deterministic contrastive loss of each row (higher = more anomalous)."""
        arr = self._check(X)
        return checked_scores(predict_batches(self.model_, arr)[:, 0], self.name)


class GOAD(KerasDetector):
    """Classification over random affine transformations (GOAD's tabular method)."""

    def __init__(
        self,
        n_transforms: int = 32,
        transform_dim: int = 32,
        hidden: Sequence[int] = (64,),
        feature_dim: int = 32,
        alpha: float = 0.1,
        margin: float = 1.0,
        epochs: int = 30,
        batch_size: int = 512,
        learning_rate: float = 1e-3,
        patience: int | None = 3,
        seed: int = 0,
        max_train_rows: int | None = None,
        name: str = "goad",
    ):
        if not (isinstance(n_transforms, int) and n_transforms >= 2):
            raise InputError(f"n_transforms must be an integer of at least 2 (a classification), got "
                             f"{n_transforms!r}.")  # fmt: skip
        _positive(transform_dim=transform_dim, feature_dim=feature_dim, margin=margin)
        if alpha < 0:
            raise InputError(f"alpha (the triplet-center weight) must be at least 0, got {alpha}.")
        self.n_transforms, self.transform_dim, self.hidden = n_transforms, transform_dim, tuple(hidden)
        self.feature_dim, self.alpha, self.margin, self.name = feature_dim, alpha, margin, name
        self._init_training(epochs, batch_size, learning_rate, patience, seed, max_train_rows)

    def _build(self, shape):
        import keras

        from anomalylab.models.layers import GOADLoss

        m, d = self.n_transforms, self.transform_dim
        x = keras.Input(shape=shape)
        # M fixed Gaussian matrices (width x d) side by side: one matrix product makes all M copies
        random = keras.initializers.RandomNormal(stddev=1.0, seed=self.seed)
        h = keras.layers.Dense(m * d, use_bias=False, trainable=False, kernel_initializer=random,
                               name="transforms")(x)  # fmt: skip
        h = keras.layers.Reshape((m, d))(h)
        for units in self.hidden:  # the feature network, shared by the M copies (GOAD's 1x1 convolutions)
            h = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(units)(h))
        features = keras.layers.Dense(self.feature_dim, name="features")(h)
        model = keras.Model(x, features, name=self.name)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss=GOADLoss(self.alpha, self.margin))
        return model

    def _targets(self, X):
        return np.zeros((len(X), 1), dtype="float32")  # the loss reads no target

    def fit(self, X_train, X_val=None):
        """Train the feature network on ``X_train``, then keep each transformation's center on the rows it
        trained on."""
        super().fit(X_train, X_val)
        features = predict_batches(self.model_, self._training_rows(X_train))
        self.centers_ = features.astype("float64").mean(axis=0)  # (M, feature_dim)
        return self

    def score_samples(self, X) -> np.ndarray:
        """``-sum_m log P(m | T_m x)``, P a softmax over minus the squared distances to the training centers."""
        arr = self._check(X)
        if not hasattr(self, "centers_"):
            raise InputError(f"{self.name} is not fitted; call .fit(X_train) first.")
        centers = self.centers_
        center_norms = np.einsum("jd,jd->j", centers, centers)
        scores = []
        for start in range(0, len(arr), 4096):
            f = predict_batches(self.model_, arr[start : start + 4096]).astype("float64")
            # the loss's squared distances (layers.transformation_distances) in float64 NumPy, one BLAS product
            # per chunk, and log-sum-exp(-dist) written out: the scores of f6465f2's float64 TensorFlow einsum
            # and scipy's logsumexp to about 1e-14, several times faster (benchmarks/transform_speed.py)
            dist = np.einsum("bmd,bmd->bm", f, f)[..., None] - 2.0 * (f @ centers.T) + center_norms
            nearest = dist.min(axis=-1, keepdims=True)
            log_sum = np.log(np.exp(nearest - dist).sum(axis=-1)) - nearest[..., 0]  # log sum_j exp(-dist[m, j])
            scores.append((log_sum + np.diagonal(dist, axis1=1, axis2=2)).sum(axis=1))
        return checked_scores(np.concatenate(scores) if scores else np.empty(0), self.name)


class DeepSVDD(KerasDetector):
    """One-class Deep SVDD: a bias-free network pulls normal rows towards a fixed center; score = distance^2."""

    def __init__(
        self,
        hidden: Sequence[int] = (64, 32),
        embedding_dim: int = 16,
        center_eps: float = 0.1,
        weight_decay: float = 1e-6,
        epochs: int = 30,
        batch_size: int = 512,
        learning_rate: float = 1e-3,
        patience: int | None = 3,
        seed: int = 0,
        max_train_rows: int | None = None,
        name: str = "deep_svdd",
    ):
        _positive(embedding_dim=embedding_dim, center_eps=center_eps)
        if weight_decay < 0:
            raise InputError(f"weight_decay must be at least 0, got {weight_decay}.")
        self.hidden, self.embedding_dim, self.center_eps = tuple(hidden), embedding_dim, center_eps
        self.weight_decay, self.name = weight_decay, name
        self._init_training(epochs, batch_size, learning_rate, patience, seed, max_train_rows)

    def _build(self, shape):
        import keras

        decay = keras.regularizers.L2(self.weight_decay) if self.weight_decay else None
        x = keras.Input(shape=shape)
        h = x
        for units in self.hidden:  # no bias anywhere: a bias would let the network map everything onto c
            h = keras.layers.LeakyReLU(0.1)(keras.layers.Dense(units, use_bias=False, kernel_regularizer=decay)(h))
        z = keras.layers.Dense(self.embedding_dim, use_bias=False, kernel_regularizer=decay, name="embedding")(h)
        model = keras.Model(x, z, name=self.name)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mse")
        return model

    def _targets(self, X):
        if getattr(self, "_fitting_center", None) is None:  # the first call of a fit: X is the training data
            c = predict_batches(self.model_, X).astype("float64").mean(axis=0)
            # the authors' fix: a coordinate of c near 0 is pushed to +-eps (a zero center is trivially reached)
            c[(np.abs(c) < self.center_eps) & (c < 0)] = -self.center_eps
            c[(np.abs(c) < self.center_eps) & (c >= 0)] = self.center_eps
            self._fitting_center = c
        return np.broadcast_to(self._fitting_center.astype("float32"), (len(X), self.embedding_dim))

    def fit(self, X_train, X_val=None):
        """Fix the center on the initial network's outputs for ``X_train``, then train towards it."""
        self._fitting_center = None
        try:
            super().fit(X_train, X_val)
            self.center_ = self._fitting_center
        finally:
            del self._fitting_center
        return self

    def score_samples(self, X) -> np.ndarray:
        """Squared distance of each row's embedding to the center."""
        arr = self._check(X)
        if not hasattr(self, "center_"):
            raise InputError(f"{self.name} is not fitted; call .fit(X_train) first.")
        z = predict_batches(self.model_, arr).astype("float64")
        return checked_scores(np.square(z - self.center_).sum(axis=1), self.name)

