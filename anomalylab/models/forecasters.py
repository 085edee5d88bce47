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
from anomalylab.preprocessing import as_2d, fit_scaler, forecast_windows

DEEPANT = {"filters": (32, 32), "kernel_size": 3, "dense_units": 40, "dropout": 0.25}
MIXTILES_SEED = {"filters": (32, 32), "kernel_size": 5, "dense_units": 1024, "dropout": 0.4}
SIMPLE_CONV1D = {"filters": (32, 64), "kernel_size": 3, "dense_units": 50, "dropout": 0.0}


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
):
    """A compiled Keras CNN that maps (lookback, n_features) windows to the next step."""
    import keras
    from keras import layers

    if not filters:
        raise InputError("a CNN forecaster needs at least one convolution block (filters=(32, ...)).")
    length = lookback
    for _ in filters:
        length = (length - kernel_size + 1) // pool_size  # 'valid' convolution, then pooling
    if length < 1:
        raise InputError(
            f"lookback {lookback} is too short for {len(filters)} blocks of kernel {kernel_size} and pool "
            f"{pool_size}; use a longer lookback or fewer blocks."
        )
    model = keras.Sequential(name="cnn_forecaster")
    model.add(keras.Input(shape=(lookback, n_features)))
    for f in filters:
        model.add(layers.Conv1D(f, kernel_size, activation="relu"))
        model.add(layers.MaxPooling1D(pool_size))
    model.add(layers.Flatten())
    model.add(layers.Dense(dense_units, activation="relu"))
    if dropout:
        model.add(layers.Dropout(dropout))
    model.add(layers.Dense(n_features))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    return model


class CNNForecaster:
    """A CNN forecaster as an anomaly detector: the score is the forecast error.

    ``error`` is ``"absolute"`` (|y - yhat| in units of the training data's
    standard deviation) or ``"relative"`` (|y - yhat| / |y| in original units,
    the Mixtiles study's rule). ``seed`` reseeds everything before the model is
    built, so the same seed gives the same scores.
    """

    def __init__(
        self,
        lookback: int = 72,
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
        seed: int = 0,
        name: str = "cnn_forecaster",
    ):
        if error not in ("absolute", "relative"):
            raise InputError(f"error must be 'absolute' or 'relative', got {error!r}.")
        if epochs < 1 or batch_size < 1:
            raise InputError(f"epochs and batch_size must be positive, got {epochs} and {batch_size}.")
        self.lookback = lookback
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
        self.seed = seed
        self.name = name

    @staticmethod
    def _values(series) -> np.ndarray:
        """(time, features) float array of a Series, DataFrame or array."""
        return as_2d(series.to_numpy() if isinstance(series, (pd.Series, pd.DataFrame)) else series, "series")

    def _windows(self, series):
        arr = self._values(series)
        if hasattr(self, "scaler_"):
            if arr.shape[1] != self.n_features_:
                raise InputError(f"fitted on {self.n_features_} feature(s), got {arr.shape[1]}.")
            arr = self.scaler_.transform(arr)
        return forecast_windows(arr, self.lookback)

    def fit(self, train, val=None) -> CNNForecaster:
        """Fit the scaler and the network on ``train``; ``val`` (if given) drives early stopping."""
        import keras

        raw = self._values(train)
        for attr in ("scaler_", "model_"):
            self.__dict__.pop(attr, None)
        self.n_features_ = raw.shape[1]
        self.scaler_ = fit_scaler(raw)
        fw = self._windows(raw)
        set_seed(self.seed)
        self.model_ = build_cnn_forecaster(
            self.lookback, self.n_features_, self.filters, self.kernel_size, self.pool_size,
            self.dense_units, self.dropout, self.learning_rate, self.loss,
        )  # fmt: skip
        callbacks, validation = [], None
        if val is not None:
            vw = self._windows(val)
            validation = (vw.X, vw.y)
            if self.patience:
                callbacks.append(
                    keras.callbacks.EarlyStopping(patience=self.patience, restore_best_weights=True)
                )
        self.history_ = self.model_.fit(
            fw.X, fw.y, epochs=self.epochs, batch_size=self.batch_size, validation_data=validation,
            callbacks=callbacks, shuffle=True, verbose=0,
        ).history  # fmt: skip
        return self

    def _check_fitted(self):
        if not hasattr(self, "model_"):
            raise InputError(f"{self.name} is not fitted; call .fit(train) first.")

    def forecast_index(self, series) -> pd.Index:
        """The index labels of the points that get a forecast (all but the first ``lookback``)."""
        index = series.index if isinstance(series, (pd.Series, pd.DataFrame)) else pd.RangeIndex(len(series))
        return index[self.lookback :]

    def _forecast(self, series):
        """The windows of ``series`` and the model's scaled one-step forecasts of them."""
        self._check_fitted()
        fw = self._windows(series)
        return fw, self.model_.predict(fw.X, batch_size=1024, verbose=0)

    def predict(self, series) -> np.ndarray:
        """One-step forecasts in original units, shape (n - lookback, n_features)."""
        _, scaled = self._forecast(series)
        return self.scaler_.inverse_transform(scaled)

    def score_samples(self, series) -> np.ndarray:
        """Forecast error of every point after the first ``lookback`` (higher = more anomalous)."""
        fw, scaled = self._forecast(series)
        if self.error == "absolute":
            return np.abs(fw.y - scaled).mean(axis=1)
        actual = self.scaler_.inverse_transform(fw.y)
        forecast = self.scaler_.inverse_transform(scaled)
        return (np.abs(actual - forecast) / np.maximum(np.abs(actual), 1e-12)).mean(axis=1)
