"""Keras layers of the package's networks, registered for the native ``.keras`` format.

Every custom layer lives here, at module level, registered under the ``anomalylab`` package, so that a saved
model loads with ``keras.saving.load_model(path, safe_mode=True)`` once this module is imported (no Python
``Lambda`` layer anywhere: safe loading refuses those). Importing this module imports Keras.
"""

from __future__ import annotations

import keras


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
