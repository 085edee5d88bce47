"""Reconstruction detectors: the score is how badly a model trained on normal data rebuilds a sample.

- :class:`DenseAutoencoder`: rows of a table (e.g. encoded KDD connections);
  score = mean squared reconstruction error.
- :class:`VariationalAutoencoder`: the same, with a Gaussian latent code
  (reparameterisation trick, KL term). Score = the negative ELBO evaluated at
  the posterior mean: 0.5 * squared reconstruction error + KL(q(z|x) || N(0, I)).
  At the mean the score is deterministic (no sampling noise, same seed = same
  scores), and the KL term adds how unusual the code itself is, which the
  reconstruction error alone ignores.
- :class:`SequenceAutoencoder`: windows (n, steps, features) of a series,
  ``kind="lstm"`` (LSTM seq2seq: encoder LSTM, repeated code, decoder LSTM) or
  ``kind="convbigru"`` (Conv1D blocks, bidirectional GRU encoder, GRU decoder,
  after the ConvBiGRU study). Score = mean squared error over the window.

Every detector reseeds before it builds its network, takes its
hyperparameters as constructor arguments, and fits with ``fit(X_train,
X_val=None)``; ``X_val`` (normal samples) drives early stopping. Inputs are
already scaled (see :class:`anomalylab.preprocessing.KDDEncoder` or
:class:`anomalylab.models.windows.WindowDetector`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from anomalylab.errors import InputError
from anomalylab.models._keras import KerasDetector, checked_scores, predict_batches


class DenseAutoencoder(KerasDetector):
    """Fully connected autoencoder: ``hidden`` units down to ``latent_dim``, mirrored back; MSE loss."""

    def __init__(
        self,
        hidden: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        dropout: float = 0.0,
        epochs: int = 30,
        batch_size: int = 512,
        learning_rate: float = 1e-3,
        patience: int | None = 3,
        seed: int = 0,
        max_train_rows: int | None = None,
        name: str = "autoencoder",
    ):
        self.hidden, self.latent_dim, self.dropout, self.name = tuple(hidden), latent_dim, dropout, name
        self._init_training(epochs, batch_size, learning_rate, patience, seed, max_train_rows)

    def _build(self, shape):
        import keras

        inputs = keras.Input(shape=shape)
        h = inputs
        for units in self.hidden:
            h = keras.layers.Dense(units, activation="relu")(h)
            if self.dropout:
                h = keras.layers.Dropout(self.dropout)(h)
        h = keras.layers.Dense(self.latent_dim, activation="relu", name="code")(h)
        for units in reversed(self.hidden):
            h = keras.layers.Dense(units, activation="relu")(h)
        outputs = keras.layers.Dense(shape[-1])(h)
        model = keras.Model(inputs, outputs, name=self.name)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mse")
        return model

    def encode(self, X) -> np.ndarray:
        """The latent code (the ``code`` layer) of every sample."""
        import keras

        arr = self._check(X)
        if getattr(self, "encoder_", None) is None or self.encoder_.input is not self.model_.input:
            self.encoder_ = keras.Model(self.model_.input, self.model_.get_layer("code").output)
        return predict_batches(self.encoder_, arr)


def _vae_model_class():
    """The Keras model class of the VAE (made on first use, so importing this module stays light)."""
    import keras
    import tensorflow as tf

    class VAEModel(keras.Model):
        """Encoder -> (mean, log variance) -> sampled code -> decoder; loss = negative ELBO."""

        anomalylab_parts = ("encoder", "decoder")  # saved as two functional models (persistence)

        def __init__(self, encoder, decoder, seed: int, **kwargs):
            super().__init__(**kwargs)
            self.encoder, self.decoder = encoder, decoder
            self.noise = keras.random.SeedGenerator(seed)
            self.loss_tracker = keras.metrics.Mean(name="loss")

        def neg_elbo(self, x, sample: bool, training: bool = False):
            mean, log_var = self.encoder(x, training=training)
            z = mean
            if sample:
                z = mean + tf.exp(0.5 * log_var) * keras.random.normal(tf.shape(mean), seed=self.noise)
            recon = self.decoder(z, training=training)
            rec = 0.5 * tf.reduce_sum(tf.square(x - recon), axis=-1)
            kl = -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mean) - tf.exp(log_var), axis=-1)
            return rec + kl

        def call(self, x, training=False):
            return self.decoder(self.encoder(x, training=training)[0], training=training)

        def train_step(self, data):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(self.neg_elbo(data, sample=True, training=True))
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply(grads, self.trainable_weights)
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

        def test_step(self, data):
            self.loss_tracker.update_state(tf.reduce_mean(self.neg_elbo(data, sample=False)))
            return {"loss": self.loss_tracker.result()}

        @property
        def metrics(self):
            return [self.loss_tracker]

    return VAEModel


class VariationalAutoencoder(KerasDetector):
    """VAE with a Gaussian code; trained on the negative ELBO, scored by it at the posterior mean."""

    _self_supervised = True

    def __init__(
        self,
        hidden: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        epochs: int = 30,
        batch_size: int = 512,
        learning_rate: float = 1e-3,
        patience: int | None = 3,
        seed: int = 0,
        max_train_rows: int | None = None,
        name: str = "vae",
    ):
        self.hidden, self.latent_dim, self.name = tuple(hidden), latent_dim, name
        self._init_training(epochs, batch_size, learning_rate, patience, seed, max_train_rows)

    def _build(self, shape):
        import keras

        x = keras.Input(shape=shape)
        h = x
        for units in self.hidden:
            h = keras.layers.Dense(units, activation="relu")(h)
        mean = keras.layers.Dense(self.latent_dim)(h)
        # log variance clipped to [-10, 10]: exp() of an unbounded value overflows on heavy-tailed rows
        from anomalylab.models.layers import Clip

        log_var = Clip(-10.0, 10.0)(keras.layers.Dense(self.latent_dim)(h))
        encoder = keras.Model(x, [mean, log_var], name="encoder")
        z = keras.Input(shape=(self.latent_dim,))
        h = z
        for units in reversed(self.hidden):
            h = keras.layers.Dense(units, activation="relu")(h)
        decoder = keras.Model(z, keras.layers.Dense(shape[-1])(h), name="decoder")
        model = _vae_model_class()(encoder, decoder, seed=self.seed, name=self.name)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate, clipnorm=1.0))  # no exploding steps
        return model

    def _assemble_model(self, encoder, decoder):
        """The VAE model around loaded ``encoder`` and ``decoder`` (see :mod:`anomalylab.models.persistence`)."""
        return _vae_model_class()(encoder, decoder, seed=self.seed, name=self.name)

    def score_samples(self, X) -> np.ndarray:
        """Negative ELBO at the posterior mean (0.5 * squared error + KL), per sample."""
        import keras

        arr = self._check(X)
        parts = [keras.ops.convert_to_numpy(self.model_.neg_elbo(arr[i : i + 4096], sample=False))
                 for i in range(0, len(arr), 4096)]  # fmt: skip
        return checked_scores(np.concatenate(parts), self.name)


SEQUENCE_KINDS = ("lstm", "convbigru")


class SequenceAutoencoder(KerasDetector):
    """Window autoencoder: ``kind="lstm"`` (seq2seq) or ``"convbigru"`` (Conv1D + BiGRU encoder, GRU decoder).

    Both compress a window into one code vector (``units`` wide), repeat it
    over the window's steps and decode it step by step; MSE loss.
    """

    ndim = 3
    input_kind = "windows"

    def __init__(
        self,
        kind: str = "lstm",
        units: int = 32,
        conv_filters: Sequence[int] = (32, 32),
        kernel_size: int = 3,
        epochs: int = 30,
        batch_size: int = 128,
        learning_rate: float = 1e-3,
        patience: int | None = 3,
        seed: int = 0,
        max_train_rows: int | None = None,
        name: str | None = None,
    ):
        if kind not in SEQUENCE_KINDS:
            raise InputError(f"kind must be one of {SEQUENCE_KINDS}, got {kind!r}.")
        self.kind, self.units, self.conv_filters, self.kernel_size = kind, units, tuple(conv_filters), kernel_size
        self.name = name or f"{kind}_autoencoder"
        self._init_training(epochs, batch_size, learning_rate, patience, seed, max_train_rows)

    def _build(self, shape):
        import keras

        steps, features = shape
        inputs = keras.Input(shape=shape)
        h = inputs
        if self.kind == "lstm":
            code = keras.layers.LSTM(self.units)(h)
            decoder = keras.layers.LSTM(self.units, return_sequences=True)
        else:
            for filters in self.conv_filters:
                h = keras.layers.Conv1D(filters, self.kernel_size, padding="same", activation="relu")(h)
            code = keras.layers.Bidirectional(keras.layers.GRU(self.units))(h)
            decoder = keras.layers.GRU(self.units, return_sequences=True)
        h = decoder(keras.layers.RepeatVector(steps)(code))
        outputs = keras.layers.TimeDistributed(keras.layers.Dense(features))(h)
        model = keras.Model(inputs, outputs, name=self.name)
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss="mse")
        return model
