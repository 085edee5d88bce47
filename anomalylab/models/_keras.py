"""What every Keras detector shares: a seeded ``fit`` through ``tf.data`` and batched prediction."""

from __future__ import annotations

import abc
from contextlib import contextmanager

import numpy as np

from anomalylab.config import set_seed
from anomalylab.errors import InputError
from anomalylab.models.base import Detector
from anomalylab.preprocessing import as_samples, cap_rows, check_row_cap

_EXTRA_CALLBACKS: list = []


@contextmanager
def extra_callbacks(callbacks: list):
    """Add Keras ``callbacks`` (a progress bar, for instance) to every fit inside the block. They must not touch
    the model or randomness: the fitted weights stay those of the same seed without them."""
    _EXTRA_CALLBACKS.extend(callbacks)
    try:
        yield
    finally:
        del _EXTRA_CALLBACKS[len(_EXTRA_CALLBACKS) - len(callbacks) :]


def check_training(epochs: int, batch_size: int) -> None:
    """Refuse non-positive ``epochs`` or ``batch_size`` with a message that names them."""
    if epochs < 1 or batch_size < 1:
        raise InputError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}.")


def checked_scores(scores, name: str) -> np.ndarray:
    """``scores`` as floats; refuses NaN or infinite ones (float32 overflow on inputs far outside the training
    data's range) instead of returning them as if they were scores."""
    scores = np.asarray(scores, dtype=float)
    bad = int((~np.isfinite(scores)).sum())
    if bad:
        raise InputError(f"{name} gave {bad} NaN or infinite score(s): the input lies far outside the range of the "
                         "training data (float32 overflow); scale it as the training data was scaled.")  # fmt: skip
    return scores


GRAPH_MIN_ROWS = 50_000


def predict_batches(model, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """``model(X)`` in batches of ``batch_size``, without Keras ``predict``'s per-model retracing.

    Small inputs (a NAB series, a seed loop) go through direct eager calls: no
    ``tf.function`` to trace per model. From ``GRAPH_MIN_ROWS`` rows on, one
    ``tf.function`` per model (traced once, about 0.1 s, kept on the model) runs
    the batches as a graph: about 1.7 times the eager throughput for DeepAnT on
    2 CPU cores (``benchmarks/forecaster_speed.py``).
    """
    import keras

    X = np.asarray(X, dtype="float32")
    if not len(X):
        return np.empty((0, *model.output_shape[1:]), dtype="float32")
    call = lambda x: model(x, training=False)  # noqa: E731 (eager)
    if len(X) >= GRAPH_MIN_ROWS:
        if getattr(model, "_anomalylab_graph_call", None) is None:
            import tensorflow as tf

            model._anomalylab_graph_call = tf.function(call, reduce_retracing=True)
        call = model._anomalylab_graph_call
    parts = [keras.ops.convert_to_numpy(call(X[i : i + batch_size])) for i in range(0, len(X), batch_size)]
    return np.concatenate(parts)


def fit_keras(
    model,
    X: np.ndarray,
    y: np.ndarray | None,
    *,
    val: tuple | None,
    epochs: int,
    batch_size: int,
    seed: int,
    patience: int | None,
    monitor: str = "val_loss",
) -> dict:
    """``model.fit`` on a cached, seeded ``tf.data`` pipeline; returns the history.

    ``y=None`` trains on ``X`` alone (models with their own ``train_step``).
    ``val`` is ``(X_val, y_val)`` (or ``(X_val,)``); with ``patience`` it drives
    early stopping on ``monitor`` (lower is better) and the best weights are restored. The pipeline is about a
    third faster than NumPy arrays on small data (Keras re-wraps arrays every
    epoch) and shuffles the same way for the same seed.
    """
    import keras
    import tensorflow as tf

    tensors = X.astype("float32") if y is None else (X.astype("float32"), y.astype("float32"))
    data = (
        tf.data.Dataset.from_tensor_slices(tensors)
        .cache()
        .shuffle(len(X), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
    )
    callbacks, validation = list(_EXTRA_CALLBACKS), None
    if val is not None:
        validation = tuple(np.asarray(v, dtype="float32") for v in val)
        if patience:
            callbacks.append(keras.callbacks.EarlyStopping(monitor=monitor, mode="min", patience=patience,
                                                           restore_best_weights=True))
    return model.fit(
        data, epochs=epochs, validation_data=validation, callbacks=callbacks, shuffle=False, verbose=0
    ).history  # shuffle=False: the pipeline shuffles (Keras would only warn that it cannot)


class KerasDetector(Detector):
    """Shared fit/score of the Keras detectors of tables and windows (subclasses build the network).

    ``fit`` seeds, builds the network for the sample shape, and trains it towards ``_targets(X)``: the input
    itself for a reconstruction model (the default), ``None`` for a model with its own ``train_step``, or a
    fixed target (a one-class center, transformation labels). ``X_val`` drives early stopping.
    """

    ndim = 2
    name = "autoencoder"
    _self_supervised = False  # True: the model's own train_step reads X alone (no target)

    def _init_training(self, epochs, batch_size, learning_rate, patience, seed, max_train_rows=None):
        check_training(epochs, batch_size)
        check_row_cap(max_train_rows)
        if not learning_rate > 0:
            raise InputError(f"learning_rate must be positive, got {learning_rate}.")
        self.epochs, self.batch_size = epochs, batch_size
        self.learning_rate, self.patience, self.seed = learning_rate, patience, seed
        self.max_train_rows = max_train_rows

    @abc.abstractmethod
    def _build(self, shape: tuple[int, ...]):
        """The compiled Keras model for samples of ``shape`` (each subclass builds its own network)."""

    def _targets(self, X: np.ndarray):
        """What the network learns to output for ``X`` (called after ``_build``)."""
        return None if self._self_supervised else X

    def _training_rows(self, X_train) -> np.ndarray:
        """The samples of ``X_train`` a fit learns from: all, or a seeded ``max_train_rows`` of them."""
        return cap_rows(as_samples(X_train, self.ndim, "X_train"), getattr(self, "max_train_rows", None), self.seed)

    def fit(self, X_train, X_val=None):
        """Learn from ``X_train`` (normal samples; a seeded ``max_train_rows`` of them where that is set);
        ``X_val`` (normal samples) drives early stopping."""
        X = self._training_rows(X_train)
        val = None if X_val is None else as_samples(X_val, self.ndim, "X_val")
        if val is not None and val.shape[1:] != X.shape[1:]:
            raise InputError(f"X_val has sample shape {val.shape[1:]}, X_train {X.shape[1:]}.")
        self.__dict__.pop("model_", None)
        set_seed(self.seed)
        self.model_ = self._build(X.shape[1:])
        self.input_shape_ = X.shape[1:]
        self.n_train_rows_ = len(X)
        y = self._targets(X)
        validation = None
        if val is not None:
            y_val = self._targets(val)
            validation = (val,) if y_val is None else (val, y_val)
        self.history_ = fit_keras(
            self.model_, X, y, val=validation, epochs=self.epochs, batch_size=self.batch_size,
            seed=self.seed, patience=self.patience,
        )  # fmt: skip
        return self

    def _check(self, X) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise InputError(f"{self.name} is not fitted; call .fit(X_train) first.")
        arr = as_samples(X, self.ndim)
        if arr.shape[1:] != self.input_shape_:
            raise InputError(f"{self.name} was fitted on samples of shape {self.input_shape_}, got {arr.shape[1:]}.")
        return arr

    def reconstruct(self, X) -> np.ndarray:
        """The network's output for every sample (a reconstruction model's reconstruction)."""
        return predict_batches(self.model_, self._check(X))

    def score_samples(self, X) -> np.ndarray:
        """Mean squared reconstruction error per sample (higher = more anomalous)."""
        arr = self._check(X)
        with np.errstate(over="ignore", invalid="ignore"):
            err = np.square(arr - predict_batches(self.model_, arr))
            return checked_scores(err.reshape(len(arr), -1).mean(axis=1), self.name)
