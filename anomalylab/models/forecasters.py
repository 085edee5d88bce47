"""1-D CNN forecasters whose forecast error is the anomaly score.

``build_cnn_forecaster`` makes the Keras model: blocks of Conv1D + ReLU +
MaxPool, then Flatten, a dense layer, dropout and one output per feature.
Three published configurations are named:

- ``DEEPANT``: DeepAnT as published (Munir et al., IEEE Access 2019): two
  blocks of 32 filters, kernel 3, pool 2; Dense 40; Dropout 0.25; MAE loss.
- ``MIXTILES_SEED``: the Mixtiles study's variant: kernel 5, Dense 1024,
  Dropout 0.4.
- ``SIMPLE_CONV1D``: the seed "CNN-Based Anomaly Detection in Time Series
  Data": 32 and 64 filters, kernel 3, Dense 50, no dropout.

``attention="additive"`` or ``attention="self"`` swaps pooling + flatten for
attention over the time steps (see :func:`build_cnn_forecaster`); the weights
of every window come back from :meth:`CNNForecaster.attention_weights`.

``CNNForecaster`` wraps a model in the detector face of the package:
``fit(train, val=None)`` learns to forecast the next step from ``lookback``
past steps (its scaler is fitted on ``train`` only), ``score_samples(series)``
returns the forecast error of every point that has a full history, aligned
with ``forecast_index(series)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from anomalylab.config import set_seed
from anomalylab.errors import InputError
from anomalylab.models._keras import check_training, checked_scores, fit_keras, predict_batches
from anomalylab.models.base import Detector
from anomalylab.preprocessing import fit_scaler, forecast_windows, index_of, scores_on_index, values_2d

DEEPANT = {"filters": (32, 32), "kernel_size": 3, "dense_units": 40, "dropout": 0.25}
MIXTILES_SEED = {"filters": (32, 32), "kernel_size": 5, "dense_units": 1024, "dropout": 0.4}
SIMPLE_CONV1D = {"filters": (32, 64), "kernel_size": 3, "dense_units": 50, "dropout": 0.0}


ATTENTION_KINDS = (None, "additive", "self")


def _positional_encoding(length: int, depth: int) -> np.ndarray:
    """Sinusoidal positions (Vaswani et al. 2017), shape (length, depth)."""
    positions = np.arange(length)[:, None]
    rates = 1.0 / np.power(10000.0, (2 * (np.arange(depth)[None, :] // 2)) / depth)
    angles = positions * rates
    return np.where(np.arange(depth)[None, :] % 2 == 0, np.sin(angles), np.cos(angles)).astype("float32")


def build_cnn_forecaster(
    lookback: int,
    n_features: int = 1,
    filters: Sequence[int] = (32, 32),
    kernel_size: int = 3,
    pool_size: int = 2,
    dense_units: int = 40,
    dropout: float = 0.25,
    learning_rate: float = 1e-3,
    loss: str = "mae",
    attention: str | None = None,
    attention_units: int = 32,
    num_heads: int = 4,
):
    """A compiled Keras CNN that maps (lookback, n_features) windows to a forecast.

    ``attention=None`` is DeepAnT's stack: Conv1D + ReLU + MaxPool blocks, Flatten,
    Dense, Dropout, Dense. With attention the convolutions keep every time step
    (``padding="same"``, no pooling) and attention replaces pooling + flatten:

    - ``"additive"``: Bahdanau attention pooling, a softmax over the ``lookback``
      time steps whose weights depend on the input;
    - ``"self"``: sinusoidal positions are added, then Keras ``MultiHeadAttention``
      with the last time step as the query over all steps (residual + layer norm).

    Returns the model; with attention, ``model.attention_model`` maps the same input
    to the attention weights (batch, lookback), averaged over heads for ``"self"``.
    """
    import keras
    from keras import layers

    if not filters:
        raise InputError("a CNN forecaster needs at least one convolution block (filters=(32, ...)).")
    if attention not in ATTENTION_KINDS:
        raise InputError(f"attention must be one of {ATTENTION_KINDS}, got {attention!r}.")
    if attention is None:
        length = lookback
        for _ in filters:
            length = (length - kernel_size + 1) // pool_size  # 'valid' convolution, then pooling
        if length < 1:
            raise InputError(
                f"lookback {lookback} is too short for {len(filters)} blocks of kernel {kernel_size} and pool "
                f"{pool_size}; use a longer lookback or fewer blocks."
            )
    inputs = keras.Input(shape=(lookback, n_features))
    h = inputs
    weights = None
    for f in filters:
        if attention is None:
            h = layers.Conv1D(f, kernel_size, activation="relu")(h)
            h = layers.MaxPooling1D(pool_size)(h)
        else:
            h = layers.Conv1D(f, kernel_size, activation="relu", padding="same")(h)
    if attention is None:
        h = layers.Flatten()(h)
    elif attention == "additive":
        from anomalylab.models.layers import AdditiveAttentionPooling

        h, weights = AdditiveAttentionPooling(attention_units, name="additive_attention")(h)
    else:
        depth = filters[-1]
        h = h + keras.ops.convert_to_tensor(_positional_encoding(lookback, depth))
        query = h[:, -1:, :]
        attended, scores = layers.MultiHeadAttention(
            num_heads, key_dim=max(1, depth // num_heads), name="self_attention"
        )(query, h, return_attention_scores=True)
        h = layers.Flatten()(layers.LayerNormalization()(query + attended))
        weights = keras.ops.mean(scores[:, :, 0, :], axis=1)  # (batch, heads, 1, time) -> (batch, time)
    h = layers.Dense(dense_units, activation="relu")(h)
    if dropout:
        h = layers.Dropout(dropout)(h)
    outputs = layers.Dense(n_features)(h)
    name = "cnn_forecaster" if attention is None else f"cnn_{attention}_attention_forecaster"
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    model.attention_model = None if weights is None else keras.Model(inputs, weights)
    return model


class CNNForecaster(Detector):
    """A CNN forecaster as an anomaly detector: the score is the forecast error.

    ``error`` is ``"absolute"`` (|y - yhat| in units of the training data's
    standard deviation, after ``transform``) or ``"relative"`` (|y - yhat| / |y|
    in original units, the Mixtiles study's rule). ``transform="log1p"`` models
    log(1 + y) (counts with multiplicative swings; the absolute error is then a
    relative one). ``horizon`` is how many steps after the window the target lies
    (1 = next step; 24 on hourly data = the same hour one day ahead, so a
    forecast never reads the hours just before it). ``attention`` picks the
    variant of :func:`build_cnn_forecaster`. ``seed`` reseeds everything before
    the model is built, so the same seed gives the same scores.
    """

    input_kind = "series"

    def __init__(
        self,
        lookback: int = 72,
        horizon: int = 1,
        filters: Sequence[int] = DEEPANT["filters"],
        kernel_size: int = DEEPANT["kernel_size"],
        dense_units: int = DEEPANT["dense_units"],
        dropout: float = DEEPANT["dropout"],
        pool_size: int = 2,
        epochs: int = 50,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        loss: str = "mae",
        patience: int | None = 5,
        error: str = "absolute",
        transform: str | None = None,
        attention: str | None = None,
        attention_units: int = 32,
        num_heads: int = 4,
        seed: int = 0,
        name: str = "cnn_forecaster",
    ):
        if error not in ("absolute", "relative"):
            raise InputError(f"error must be 'absolute' or 'relative', got {error!r}.")
        if transform not in (None, "log1p"):
            raise InputError(f"transform must be None or 'log1p', got {transform!r}.")
        if attention not in ATTENTION_KINDS:
            raise InputError(f"attention must be one of {ATTENTION_KINDS}, got {attention!r}.")
        check_training(epochs, batch_size)
        self.lookback = lookback
        self.horizon = horizon
        self.filters = tuple(filters)
        self.kernel_size = kernel_size
        self.dense_units = dense_units
        self.dropout = dropout
        self.pool_size = pool_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.loss = loss
        self.patience = patience
        self.error = error
        self.transform = transform
        self.attention = attention
        self.attention_units = attention_units
        self.num_heads = num_heads
        self.seed = seed
        self.name = name

    def _values(self, series) -> np.ndarray:
        """(time, features) float array of a Series, DataFrame or array, after ``transform``."""
        arr = values_2d(series)
        if self.transform == "log1p":
            if (arr <= -1).any():
                raise InputError("transform='log1p' needs values above -1 (counts); use transform=None.")
            arr = np.log1p(arr)
        return arr

    def _inverse(self, arr: np.ndarray) -> np.ndarray:
        return np.expm1(arr) if self.transform == "log1p" else arr

    def _windows(self, series):
        arr = self._values(series)
        if hasattr(self, "scaler_"):
            if arr.shape[1] != self.n_features_:
                raise InputError(f"fitted on {self.n_features_} feature(s), got {arr.shape[1]}.")
            arr = self.scaler_.transform(arr)
        return forecast_windows(arr, self.lookback, self.horizon)

    def fit(self, train, val=None) -> CNNForecaster:
        """Fit the scaler and the network on ``train``; ``val`` (if given) drives early stopping."""
        raw = self._values(train)
        for attr in ("scaler_", "model_"):
            self.__dict__.pop(attr, None)
        self.n_features_ = raw.shape[1]
        self.scaler_ = fit_scaler(raw)
        fw = forecast_windows(self.scaler_.transform(raw), self.lookback, self.horizon)
        set_seed(self.seed)
        self.model_ = build_cnn_forecaster(
            self.lookback, self.n_features_, self.filters, self.kernel_size, self.pool_size,
            self.dense_units, self.dropout, self.learning_rate, self.loss, self.attention, self.attention_units,
            self.num_heads,
        )  # fmt: skip
        validation = None
        if val is not None:
            vw = self._windows(val)
            validation = (vw.X, vw.y)
        self.history_ = fit_keras(
            self.model_, fw.X, fw.y, val=validation, epochs=self.epochs, batch_size=self.batch_size,
            seed=self.seed, patience=self.patience,
        )
        return self

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise InputError(f"{self.name} is not fitted; call .fit(train) first.")

    def forecast_index(self, series) -> pd.Index:
        """The index labels of the points that get a forecast (all but the first ``lookback + horizon - 1``)."""
        return index_of(series)[self.lookback + self.horizon - 1 :]

    def _forecast(self, series):
        """The windows of ``series`` and the model's scaled one-step forecasts of them."""
        self._check_fitted()
        fw = self._windows(series)
        return fw, predict_batches(self.model_, fw.X)

    def predict(self, series) -> np.ndarray:
        """Forecasts in original units, shape (n - lookback - horizon + 1, n_features)."""
        _, scaled = self._forecast(series)
        return self._inverse(self.scaler_.inverse_transform(scaled))

    def _errors(self, series) -> np.ndarray:
        """Each column's forecast error at every point with a full history, shape (points, columns)."""
        fw, scaled = self._forecast(series)
        if self.error == "absolute":
            return np.abs(fw.y - scaled)
        actual = self._inverse(self.scaler_.inverse_transform(fw.y))
        forecast = self._inverse(self.scaler_.inverse_transform(scaled))
        return np.abs(actual - forecast) / np.maximum(np.abs(actual), 1e-12)

    def score_samples(self, series) -> pd.Series:
        """Forecast error of every point (higher = more anomalous), on ``series``' index; NaN on the first
        ``lookback + horizon - 1`` points, which have no full history (:meth:`forecast_index` are the others)."""
        return self.score_with_columns(series)[0]

    def score_with_columns(self, series) -> tuple[pd.Series, pd.DataFrame]:
        """:meth:`score_samples` and, from the same forecasts, each column's own error (the score is their mean):
        which column a flagged point owes its score to. The columns frame is on ``series``' index, NaN where the
        score is."""
        errors = self._errors(series)
        scores = scores_on_index(series, checked_scores(errors.mean(axis=1), self.name), self.name)
        names = list(series.columns) if isinstance(series, pd.DataFrame) else [series.name or "value"]
        columns = pd.DataFrame(np.nan, index=scores.index, columns=names)
        columns.iloc[len(columns) - len(errors) :] = errors
        return scores, columns

    def flag_band(self, series, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) in original units: a point outside the band scores at or above ``threshold``.

        Aligned with :meth:`forecast_index`; univariate series only.
        """
        _, scaled = self._forecast(series)
        if self.n_features_ != 1:
            raise InputError("flag_band is defined for one feature; score each feature on its own.")
        if self.error == "absolute":
            scale = self.scaler_.scale_[0] if hasattr(self.scaler_, "scale_") else 1.0
            centre = self.scaler_.inverse_transform(scaled)[:, 0]
            return self._inverse(centre - threshold * scale), self._inverse(centre + threshold * scale)
        forecast = self._inverse(self.scaler_.inverse_transform(scaled))[:, 0]
        upper = forecast / (1 - threshold) if threshold < 1 else np.full_like(forecast, np.inf)
        return forecast / (1 + threshold), upper

    def attention_weights(self, series) -> np.ndarray:
        """Attention weights of every window of ``series``, shape (n windows, lookback), rows sum to 1.

        Row ``i`` belongs to the point ``forecast_index(series)[i]``; column ``j`` is
        the ``j``-th step of its window (the last column is the newest step).
        """
        self._check_fitted()
        if self.attention is None:
            raise InputError(f"{self.name} has no attention (attention=None); build it with 'additive' or 'self'.")
        fw = self._windows(series)
        return predict_batches(self.model_.attention_model, fw.X)


class StreamingForecaster(CNNForecaster):
    """A :class:`CNNForecaster` that keeps learning as the stream goes, without ever reading a label.

    ``fit(train)`` trains as the plain forecaster does. Scoring then walks the stream in blocks of
    ``refit_every`` forecasts: each block is forecast by the network as it stands after the rows before the
    block, then the network is fine-tuned (warm start, ``refit_epochs`` epochs, no early stopping) on the last
    ``refit_history`` windows seen so far (all of them with ``None``), the block included, before the next
    block is forecast. A row's forecast therefore reads only the rows before it, and the scores of a prefix of
    a stream are the prefix of its scores.

    The stream is the scored series after the training rows when it begins with them (NAB: fit on the
    probationary rows, score the whole series) and the whole scored series otherwise (Mixtiles: fit on the
    training weeks, score validation and test as their continuation). The training rows themselves get the
    fitted network's in-sample forecasts. Scoring works on a copy of the network, so the fitted detector is
    unchanged and scoring again gives the same scores; the scaler stays the one fitted on ``train``.
    Fine-tuning costs about ``refit_epochs * refit_history / refit_every`` passes over every streamed row.

    With ``refit_skip_quantile = q``, fine-tuning leaves out the windows whose forecast error (as streamed) lies
    above the ``q`` quantile of the fitted network's errors on its training windows: the network does not learn
    the rows it has just scored as unusual, so a lasting change keeps scoring instead of being absorbed.
    """

    def __init__(self, *args, refit_every: int = 500, refit_epochs: int = 2, refit_history: int | None = 2000,
                 refit_skip_quantile: float | None = None, name: str = "streaming_forecaster", **kwargs):  # fmt: skip
        super().__init__(*args, name=name, **kwargs)
        if refit_skip_quantile is not None and not 0 < refit_skip_quantile <= 1:
            raise InputError(f"refit_skip_quantile must lie in (0, 1] or be None; got {refit_skip_quantile}.")
        self.refit_skip_quantile = refit_skip_quantile
        for label, value in {"refit_every": refit_every, "refit_epochs": refit_epochs}.items():
            if int(value) != value or value < 1:
                raise InputError(f"{label} must be a whole number >= 1; got {value}.")
        if refit_history is not None and (int(refit_history) != refit_history or refit_history < 1):
            raise InputError(f"refit_history must be a whole number >= 1 or None (every window); got {refit_history}.")
        self.refit_every = int(refit_every)
        self.refit_epochs = int(refit_epochs)
        self.refit_history = None if refit_history is None else int(refit_history)

    def fit(self, train, val=None) -> StreamingForecaster:
        """:meth:`CNNForecaster.fit`, remembering the training rows so that scoring can tell where the stream
        continues them."""
        super().fit(train, val)
        self.train_values_ = self._values(train)
        if self.refit_skip_quantile is not None:  # the error level above which a window is not learned from
            fw = self._windows(train)
            errors = np.abs(fw.y - predict_batches(self.model_, fw.X)).mean(axis=1)
            self.skip_above_ = float(np.quantile(errors, self.refit_skip_quantile))
        return self

    def _working_copy(self):
        import keras

        model = keras.models.clone_model(self.model_)
        model.set_weights(self.model_.get_weights())
        model.compile(optimizer=keras.optimizers.Adam(self.learning_rate), loss=self.loss)
        return model

    def _stream_start(self, arr: np.ndarray) -> int:
        """Index of the first window whose target is a streamed row (0 when ``arr`` does not begin with the
        training rows)."""
        n = len(self.train_values_)
        if len(arr) >= n and np.array_equal(arr[:n], self.train_values_, equal_nan=True):
            return max(0, n - (self.lookback + self.horizon - 1))
        return 0

    def _forecast(self, series):
        """The windows of ``series`` and the streaming forecasts of them (see the class docstring)."""
        self._check_fitted()
        fw = self._windows(series)
        start = self._stream_start(self._values(series))
        set_seed(self.seed)  # before the copy: its layers draw their dropout seeds when they are made
        model = self._working_copy()
        forecasts = [predict_batches(model, fw.X[:start])]
        for block, lo in enumerate(range(start, len(fw.X), self.refit_every)):
            hi = min(lo + self.refit_every, len(fw.X))
            forecasts.append(predict_batches(model, fw.X[lo:hi]))
            if hi < len(fw.X):  # learn from the block just scored before forecasting the next one
                first = 0 if self.refit_history is None else max(0, hi - self.refit_history)
                learn = np.arange(first, hi)
                if self.refit_skip_quantile is not None:
                    seen = np.concatenate(forecasts)[first:hi]
                    learn = learn[np.abs(fw.y[first:hi] - seen).mean(axis=1) <= self.skip_above_]
                if len(learn):
                    fit_keras(model, fw.X[learn], fw.y[learn], val=None, epochs=self.refit_epochs,
                              batch_size=self.batch_size, seed=self.seed + block + 1, patience=None)  # fmt: skip
        return fw, np.concatenate(forecasts)
