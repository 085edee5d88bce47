"""The detectors the command line offers, by name (``detect --list-models``).

Two kinds of entry: **presets**, the package's detectors as the notebooks configure them (``deepant``,
``deepant_streaming``, ...), and **every registered detector class**
(:data:`anomalylab.models.registry.DETECTORS`) under its lower-cased class name, built with the command line's
``--lookback``, ``--epochs`` and ``--seed`` where its constructor takes them and its defaults otherwise. A detector
of rows or windows scores the series' windows of ``--lookback`` steps (:class:`~anomalylab.models.WindowDetector`).
A class whose constructor needs an argument without a default (a wrapper, a semi-supervised model given labelled
rows) cannot be built from the command line and is not listed. A new detector class is therefore offered without
an edit here.
"""

from __future__ import annotations

import inspect

from anomalylab.models.registry import describe

ONE_COLUMN = " (one column)"  # the help of a model that scores a single value column ends with this


def _presets(m, lookback: int, epochs: int, seed: int, window) -> dict:
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


def class_entry(cls, lookback: int, epochs: int, seed: int, window_of):
    """``(factory, help)`` for a registered class, or None if its constructor needs an argument it cannot get."""
    parameters = inspect.signature(cls.__init__).parameters
    given = {"seed": seed, "epochs": epochs, "lookback": lookback}  # a class's other arguments keep its defaults
    required = [name for name, p in parameters.items() if name != "self" and p.default is p.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # fmt: skip
    if set(required) - set(given):
        return None
    arguments = {name: value for name, value in given.items() if name in parameters}

    def build():
        detector = cls(**arguments)
        return detector if cls.input_kind == "series" else window_of(detector)

    text = describe(cls) + ("" if cls.input_kind == "series" else f" (on windows of {lookback} steps)")
    return build, text + (ONE_COLUMN if cls.one_column else "")


def models(lookback: int, epochs: int, seed: int) -> dict:
    """Name -> (factory, help); a factory gets nothing and returns an unfitted detector. A help that ends with
    :data:`ONE_COLUMN` marks a model that scores one value column only."""
    from anomalylab import models as m
    from anomalylab.models.registry import DETECTORS

    window_of = lambda inner: m.WindowDetector(inner, window=lookback)  # noqa: E731
    entries = _presets(m, lookback, epochs, seed, window_of)
    for name, cls in sorted(DETECTORS.items(), key=lambda item: item[0].lower()):
        entry = class_entry(cls, lookback, epochs, seed, window_of)
        if entry is not None:
            entries.setdefault(name.lower(), entry)
    return entries
