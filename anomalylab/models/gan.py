"""BiGAN anomaly detector (Donahue et al. 2017; scored as EGBAD, Zenati et al. 2018).

Three networks learn together on normal rows: an encoder E (x -> z), a
generator G (z -> x) and a discriminator D that tells real pairs (x, E(x))
from generated pairs (G(z), z). Each batch takes one discriminator step and
one step of encoder + generator (which try to fool it), for ``epochs`` full
passes over the data (the seed project trained 15 single batches, far from
converged).

Score (EGBAD): ``alpha * |x - G(E(x))|_1 + (1 - alpha) * |f(x, E(x)) -
f(G(E(x)), E(x))|_1``, the reconstruction error plus the discriminator's
feature-matching error (``f`` = its last hidden layer), both per feature.

GAN losses do not measure how well the model fits, so with ``patience`` and validation rows the training stops
when the validation rows' reconstruction error ``|x - G(E(x))|_1`` (the score's main term) has not improved for
``patience`` epochs, and the weights of its best epoch are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from anomalylab.config import set_seed
from anomalylab.errors import InputError
from anomalylab.models._keras import check_training, checked_scores, fit_keras
from anomalylab.models.base import Detector
from anomalylab.preprocessing import as_samples, cap_rows, check_row_cap


def _bigan_model_class():
    """The Keras model class of the BiGAN (made on first use)."""
    import keras
    import tensorflow as tf

    class BiGANModel(keras.Model):
        anomalylab_parts = ("encoder", "generator", "discriminator")  # saved as functional parts (persistence)

        def __init__(self, encoder, generator, discriminator, latent_dim: int, seed: int, **kwargs):
            super().__init__(**kwargs)
            self.encoder, self.generator, self.discriminator = encoder, generator, discriminator
            self.latent_dim = latent_dim
            self.noise = keras.random.SeedGenerator(seed)
            self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
            self.d_tracker = keras.metrics.Mean(name="d_loss")
            self.g_tracker = keras.metrics.Mean(name="g_loss")
            self.rec_tracker = keras.metrics.Mean(name="rec")

        def compile(self, d_optimizer, g_optimizer):
            super().compile()
            self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

        @property
        def metrics(self):
            return [self.d_tracker, self.g_tracker, self.rec_tracker]

        def call(self, x, training=False):
            return self.generator(self.encoder(x, training=training), training=training)

        def _logits(self, x, training):
            x = tf.convert_to_tensor(x)
            z = keras.random.normal((tf.shape(x)[0], self.latent_dim), seed=self.noise)
            real = self.discriminator([x, self.encoder(x, training=training)], training=training)[0]
            fake = self.discriminator([self.generator(z, training=training), z], training=training)[0]
            return real, fake

        def train_step(self, x):
            with tf.GradientTape() as tape:
                real, fake = self._logits(x, training=True)
                d_loss = self.bce(tf.ones_like(real), real) + self.bce(tf.zeros_like(fake), fake)
            d_vars = self.discriminator.trainable_weights
            self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
            with tf.GradientTape() as tape:
                real, fake = self._logits(x, training=True)
                g_loss = self.bce(tf.zeros_like(real), real) + self.bce(tf.ones_like(fake), fake)
            g_vars = self.encoder.trainable_weights + self.generator.trainable_weights
            self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
            self.d_tracker.update_state(d_loss)
            self.g_tracker.update_state(g_loss)
            return {"d_loss": self.d_tracker.result(), "g_loss": self.g_tracker.result()}

        def test_step(self, x):
            real, fake = self._logits(x, training=False)
            self.d_tracker.update_state(self.bce(tf.ones_like(real), real) + self.bce(tf.zeros_like(fake), fake))
            self.g_tracker.update_state(self.bce(tf.zeros_like(real), real) + self.bce(tf.ones_like(fake), fake))
            x_hat = self.generator(self.encoder(x, training=False), training=False)
            self.rec_tracker.update_state(tf.reduce_mean(tf.abs(x - x_hat), axis=-1))
            return {"d_loss": self.d_tracker.result(), "g_loss": self.g_tracker.result(),
                    "rec": self.rec_tracker.result()}

    return BiGANModel


class BiGAN(Detector):
    """BiGAN detector for rows of a table; see the module docstring for training and score."""

    def __init__(
        self,
        hidden: Sequence[int] = (64, 32),
        latent_dim: int = 8,
        alpha: float = 0.9,
        epochs: int = 30,
        batch_size: int = 512,
        learning_rate: float = 1e-4,
        patience: int | None = None,
        seed: int = 0,
        max_train_rows: int | None = None,
        name: str = "bigan",
    ):
        if not 0 <= alpha <= 1:
            raise InputError(f"alpha weighs reconstruction against feature error; it must lie in [0, 1], got {alpha}.")
        check_training(epochs, batch_size)
        check_row_cap(max_train_rows)
        self.hidden, self.latent_dim, self.alpha = tuple(hidden), latent_dim, alpha
        self.epochs, self.batch_size, self.learning_rate, self.patience, self.seed, self.name = (
            epochs, batch_size, learning_rate, patience, seed, name,
        )  # fmt: skip
        self.max_train_rows = max_train_rows

    def _build(self, n_features: int):
        import keras

        x = keras.Input(shape=(n_features,))
        h = x
        for units in self.hidden:
            h = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(units)(h))
        encoder = keras.Model(x, keras.layers.Dense(self.latent_dim)(h), name="encoder")
        z = keras.Input(shape=(self.latent_dim,))
        h = z
        for units in reversed(self.hidden):
            h = keras.layers.Dense(units, activation="relu")(h)
        generator = keras.Model(z, keras.layers.Dense(n_features)(h), name="generator")
        dx, dz = keras.Input(shape=(n_features,)), keras.Input(shape=(self.latent_dim,))
        hx = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(self.hidden[0])(dx))
        hz = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(self.hidden[0])(dz))
        h = keras.layers.Concatenate()([hx, hz])
        h = keras.layers.Dropout(0.2)(h)
        features = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(self.hidden[-1])(h))
        logit = keras.layers.Dense(1)(features)
        discriminator = keras.Model([dx, dz], [logit, features], name="discriminator")
        model = _bigan_model_class()(encoder, generator, discriminator, self.latent_dim, self.seed, name=self.name)
        model.compile(
            d_optimizer=keras.optimizers.Adam(self.learning_rate, beta_1=0.5),
            g_optimizer=keras.optimizers.Adam(self.learning_rate, beta_1=0.5),
        )
        return model

    def _assemble_model(self, encoder, generator, discriminator):
        """The BiGAN model around loaded parts (see :mod:`anomalylab.models.persistence`)."""
        return _bigan_model_class()(encoder, generator, discriminator, self.latent_dim, self.seed, name=self.name)

    def fit(self, X_train, X_val=None):
        """Train encoder, generator and discriminator together on ``X_train`` (normal rows); with ``patience``,
        ``X_val`` (normal rows) stops the training when its reconstruction error stops improving. With
        ``max_train_rows``, it trains on a seeded sample of that many rows of ``X_train``."""
        X = cap_rows(as_samples(X_train, 2, "X_train"), getattr(self, "max_train_rows", None), self.seed)
        val = None
        if X_val is not None and self.patience:
            val = (as_samples(X_val, 2, "X_val"),)
            if val[0].shape[1] != X.shape[1]:
                raise InputError(f"X_val has {val[0].shape[1]} features, X_train {X.shape[1]}.")
        self.__dict__.pop("model_", None)
        set_seed(self.seed)
        self.model_ = self._build(X.shape[1])
        self.n_features_, self.n_train_rows_ = X.shape[1], len(X)
        self.history_ = fit_keras(
            self.model_, X, None, val=val, epochs=self.epochs, batch_size=self.batch_size, seed=self.seed,
            patience=self.patience, monitor="val_rec",
        )  # fmt: skip
        return self

    def score_samples(self, X) -> np.ndarray:
        """EGBAD score per row: alpha * reconstruction L1 + (1 - alpha) * discriminator feature L1."""
        import keras

        if not hasattr(self, "model_"):
            raise InputError(f"{self.name} is not fitted; call .fit(X_train) first.")
        arr = as_samples(X, 2)
        if arr.shape[1] != self.n_features_:
            raise InputError(f"{self.name} was fitted on {self.n_features_} features, got {arr.shape[1]}.")
        m = self.model_
        out = []
        for i in range(0, len(arr), 4096):
            x = keras.ops.convert_to_tensor(arr[i : i + 4096])
            z = m.encoder(x, training=False)
            x_hat = m.generator(z, training=False)
            f_real = m.discriminator([x, z], training=False)[1]
            f_fake = m.discriminator([x_hat, z], training=False)[1]
            rec = keras.ops.mean(keras.ops.abs(x - x_hat), axis=-1)
            feat = keras.ops.mean(keras.ops.abs(f_real - f_fake), axis=-1)
            out.append(keras.ops.convert_to_numpy(self.alpha * rec + (1 - self.alpha) * feat))
        return checked_scores(np.concatenate(out), self.name)
