"""Keras layers of the package's networks, registered for the native ``.keras`` format.

Every custom layer lives here, at module level, registered under the ``anomalylab`` package, so that a saved
model loads with ``keras.saving.load_model(path, safe_mode=True)`` once this module is imported (no Python
``Lambda`` layer anywhere: safe loading refuses those). Importing this module imports Keras, with TensorFlow
set up first (one thread per op: a layer called on its own gives the same numbers on any machine).
"""

from __future__ import annotations

from anomalylab.config import configure_tensorflow

configure_tensorflow()

import keras  # noqa: E402 (after the thread setup)


@keras.saving.register_keras_serializable(package="anomalylab")
class AdditiveAttentionPooling(keras.layers.Layer):
    """Bahdanau-style pooling over time: score_t = v . tanh(W h_t + b), weights = softmax over t.

    Returns ``(context, weights)``: the weighted sum of the time steps (batch, features)
    and the weights (batch, time), which sum to 1 over time.
    """

    def __init__(self, units: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.project = keras.layers.Dense(units, activation="tanh")
        self.energy = keras.layers.Dense(1, use_bias=False)

    def call(self, h):
        energies = keras.ops.squeeze(self.energy(self.project(h)), axis=-1)  # (batch, time)
        weights = keras.ops.softmax(energies, axis=-1)
        context = keras.ops.sum(h * keras.ops.expand_dims(weights, -1), axis=1)
        return context, weights

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="anomalylab")
class Clip(keras.layers.Layer):
    """Clip every value to ``[low, high]`` (the VAE's log variance: exp() of an unbounded value overflows)."""

    def __init__(self, low: float, high: float, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = float(low), float(high)

    def call(self, x):
        return keras.ops.clip(x, self.low, self.high)

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package="anomalylab")
class ContrastiveScore(keras.layers.Layer):
    """NeuTraL AD's deterministic contrastive loss (DCL) per sample, from embeddings (batch, K + 1, d).

    Row 0 is the sample's own embedding, rows 1..K its K transformations. With ``h(a, b) = exp(cos(a, b) / t)``:
    ``sum_k -log(h(z_k, z_0) / (h(z_k, z_0) + sum_{l != k} h(z_k, z_l)))``, l over the transformations. Each term
    is minus the log of a probability, so the score is never negative. Returns (batch, 1).
    """

    def __init__(self, temperature: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.temperature = float(temperature)

    def call(self, z):
        ops = keras.ops
        z = z / ops.sqrt(ops.maximum(ops.sum(ops.square(z), axis=-1, keepdims=True), 1e-12))
        sim = ops.einsum("bkd,bld->bkl", z, z) / self.temperature  # (batch, K+1, K+1) scaled cosines
        n = ops.shape(z)[1]
        own = sim[:, 1:, 0]  # (batch, K): each transformation against the sample itself
        others = sim[:, 1:, 1:] - 1e9 * ops.eye(n - 1, dtype=sim.dtype)  # l != k
        denominator = ops.logsumexp(ops.concatenate([own[..., None], others], axis=-1), axis=-1)
        return ops.sum(denominator - own, axis=-1, keepdims=True)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}


def transformation_distances(features, centers):
    """Squared distances (batch, M, M) from the features of each transformation (batch, M, d) to every center
    (M, d): entry [b, m, j] is |f_m(x_b) - c_j|^2 (GOAD)."""
    ops = keras.ops
    cross = ops.einsum("bmd,jd->bmj", features, centers)
    return (ops.sum(ops.square(features), axis=-1)[..., None] - 2.0 * cross
            + ops.sum(ops.square(centers), axis=-1)[None, None, :])  # fmt: skip


@keras.saving.register_keras_serializable(package="anomalylab")
class GOADLoss(keras.losses.Loss):
    """GOAD's training loss on the features (batch, M, d) of M transformed copies of each row.

    The centers are the batch means of each transformation's features. The cross-entropy term asks each copy
    to be nearest its own transformation's center (softmax over minus the squared distances). The triplet-
    center term, weighted by ``alpha``, asks that distance to be at least ``margin`` below the distance to
    the nearest other center. The targets are ignored.
    """

    def __init__(self, alpha: float = 0.1, margin: float = 1.0, name: str = "goad_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.alpha, self.margin = float(alpha), float(margin)

    def call(self, y_true, y_pred):  # noqa: ARG002 (no targets)
        ops = keras.ops
        distances = transformation_distances(y_pred, ops.mean(y_pred, axis=0))
        m = ops.shape(y_pred)[1]
        eye = ops.eye(m, dtype=y_pred.dtype)
        own = ops.sum(distances * eye, axis=-1)  # (batch, M)
        cross_entropy = ops.logsumexp(-distances, axis=-1) + own
        nearest_other = ops.min(distances + 1e9 * eye, axis=-1)
        triplet = ops.relu(own + self.margin - nearest_other)
        return ops.mean(cross_entropy + self.alpha * triplet, axis=-1)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "margin": self.margin}
