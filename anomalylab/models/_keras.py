"""What every Keras detector shares: a seeded ``fit`` through ``tf.data`` and batched prediction."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from anomalylab.errors import InputError

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
) -> dict:
    """``model.fit`` on a cached, seeded ``tf.data`` pipeline; returns the history.

    ``y=None`` trains on ``X`` alone (models with their own ``train_step``).
    ``val`` is ``(X_val, y_val)`` (or ``(X_val,)``); with ``patience`` it drives
    early stopping and the best weights are restored. The pipeline is about a
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
            callbacks.append(keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True))
    return model.fit(
        data, epochs=epochs, validation_data=validation, callbacks=callbacks, shuffle=False, verbose=0
    ).history  # shuffle=False: the pipeline shuffles (Keras would only warn that it cannot)
