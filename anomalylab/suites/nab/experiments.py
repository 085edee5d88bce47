"""NAB's experiment grids. NAB's threshold is its own sweep (on the development half for ``ours`` rows, on the whole
corpus for the ``protocol`` rows), so these experiments carry no threshold rule."""

from __future__ import annotations

from anomalylab.config import RunConfig
from anomalylab.evaluation import Experiment, detector
from anomalylab.models.forecasters import DEEPANT, CNNForecaster, StreamingForecaster

LOOKBACK = 45  # rows of history per forecast
EPOCHS = 25  # at most: a quick run's fewer epochs win
ATTENTION_SEEDS = 1  # one seed per attention variant (58 series each; attention keeps all 45 steps and is slower)
# the streaming form fine-tunes every 500 forecasts, for 2 epochs, on the last 2,000 windows (notebook 02's choice)
STREAMING = {"refit_every": 500, "refit_epochs": 2, "refit_history": 2000}
# each attention variant is rescaled to [0, 1] as this model of notebook 02 was (its choice on the development half)
RESCALE_OF = {"deepant_additive_attention": "deepant", "deepant_self_attention": "deepant",
              "deepant_self_attention_streaming": "streaming"}  # fmt: skip


def attention_experiments(cfg: RunConfig) -> tuple[Experiment, ...]:
    """Notebook 03: the additive and self-attention DeepAnT, and the self-attention one in its streaming form, on
    every NAB series (probationary rows to fit, no early stopping), over the first ``ATTENTION_SEEDS`` seeds."""
    base = {"lookback": LOOKBACK, **DEEPANT, "epochs": min(cfg.epochs, EPOCHS), "patience": None}
    seeds = cfg.seeds[:ATTENTION_SEEDS]
    return (
        Experiment("deepant_additive_attention", detector(CNNForecaster, **base, attention="additive"), seeds),
        Experiment("deepant_self_attention", detector(CNNForecaster, **base, attention="self"), seeds),
        Experiment("deepant_self_attention_streaming",
                   detector(StreamingForecaster, **STREAMING, **base, attention="self"), seeds),
    )  # fmt: skip
