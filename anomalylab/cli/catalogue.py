"""The detectors the command line offers, by name (``detect --list-models``)."""

from __future__ import annotations

ONE_COLUMN = " (one column)"  # the help of a model that scores a single value column ends with this


def models(lookback: int, epochs: int, seed: int) -> dict:
    """Name -> (factory, help); a factory gets nothing and returns an unfitted detector. A help that ends with
    :data:`ONE_COLUMN` marks a model that scores one value column only."""
    from anomalylab import models as m

    window = lambda inner: m.WindowDetector(inner, window=lookback)  # noqa: E731
    return {
        "deepant": (lambda: m.CNNForecaster(lookback=lookback, epochs=epochs, seed=seed, name="deepant"),
                    "DeepAnT CNN forecaster; score = forecast error"),
        "deepant_attention": (lambda: m.CNNForecaster(lookback=lookback, epochs=epochs, attention="self", seed=seed,
                                                      name="deepant_attention"),
                              "DeepAnT with multi-head self-attention"),
        "deepant_streaming": (lambda: m.StreamingForecaster(lookback=lookback, epochs=epochs, seed=seed,
                                                            name="deepant_streaming"),
                              "DeepAnT that keeps learning from the rows it has scored (fine-tunes every 500 rows "
                              "on the last 2,000, without labels)"),
        "lstm_autoencoder": (lambda: window(m.SequenceAutoencoder("lstm", epochs=epochs, seed=seed)),
                             "LSTM seq2seq autoencoder on windows; score = reconstruction error"),
        "isolation_forest": (lambda: window(m.IsolationForestDetector(seed=seed)),
                             "Isolation Forest on windows of the series"),
        "windowed_gaussian": (lambda: m.WindowedGaussian(window=max(lookback, 20) * 10),
                              "rolling Gaussian tail probability" + ONE_COLUMN),
        "rolling_zscore": (lambda: m.RollingZScore(window=lookback), "rolling z-score" + ONE_COLUMN),
        "matrix_profile": (lambda: m.MatrixProfileDiscord(m=max(3, lookback // 3)),
                           "matrix-profile discord distance to the fitted part" + ONE_COLUMN),
    }  # fmt: skip
