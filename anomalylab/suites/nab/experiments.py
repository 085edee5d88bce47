"""NAB's experiment grids. NAB's threshold is its own sweep (on the development half for ``ours`` rows, on the whole
corpus for the ``protocol`` rows), so these experiments carry no threshold rule."""

from __future__ import annotations

from anomalylab.config import RunConfig
from anomalylab.evaluation import Experiment, detector
from anomalylab.models.classical import RandomScore, SeasonalNaive, SpatialNovelty, WindowedGaussian
from anomalylab.models.forecasters import DEEPANT, CNNForecaster, StreamingForecaster
from anomalylab.models.series_baselines import MatrixProfileDiscord

LOOKBACK = 45  # rows of history per forecast
EPOCHS = 25  # at most (NAB trains on at most 750 probationary rows per series); a quick run's fewer epochs win
SEEDS = 3  # seeds per deep model (58 series each)
RANDOM_SEEDS = 20  # the random detector's NAB score varies a lot from seed to seed
# notebook 02's choice of how to put each forecaster's errors on [0, 1], on the development half only:
# (rescale, window) candidates of the first grid; likelihood is HTM's anomaly likelihood (its own parameters, fixed)
RESCALES = (("probation", 0), ("rolling", 100), ("rolling", 500), ("rolling", 2000), ("rolling", 6400),
            ("likelihood", 0))  # fmt: skip
# candidates added later (after NAB's evaluation half had been read, issue 33), chosen on the development half too:
# a candidate replaces the first grid's choice only if it gains MIN_GAIN points there (one model's three seeds differ
# by 1-2 points on that half), so that noise does not move a choice made before
LATER_RESCALES = (("likelihood_two_sided", 0), ("likelihood_quiet", 100), ("likelihood_quiet", 600))
BLENDS = (("naive_forecast", "mean"), ("naive_forecast", "max"), ("deepant", "mean"), ("deepant", "max"))
MIN_GAIN = 1.0
ATTENTION_SEEDS = 1  # one seed per attention variant (58 series each; attention keeps all 45 steps and is slower)
# the streaming form fine-tunes every 500 forecasts, for 2 epochs, on the last 2,000 windows (notebook 02's choice)
STREAMING = {"refit_every": 500, "refit_epochs": 2, "refit_history": 2000}
# each attention variant is rescaled to [0, 1] as this model of notebook 02 was (its choice on the development half)
RESCALE_OF = {"deepant_additive_attention": "deepant", "deepant_self_attention": "deepant",
              "deepant_self_attention_streaming": "streaming"}  # fmt: skip


def forecaster_experiments(cfg: RunConfig) -> tuple[Experiment, ...]:
    """Notebook 02: DeepAnT (probationary rows to fit, no early stopping) and the same network fine-tuned on the
    stream, over the first :data:`SEEDS` seeds."""
    base = {"lookback": LOOKBACK, **DEEPANT, "epochs": min(cfg.epochs, EPOCHS), "patience": None}
    seeds = cfg.seeds[:SEEDS]
    return (
        Experiment("deepant", detector(CNNForecaster, **base), seeds),
        Experiment("streaming", detector(StreamingForecaster, **base, **STREAMING), seeds),
    )


def baseline_experiments(cfg: RunConfig) -> tuple[Experiment, ...]:
    """Notebook 02's baselines on NAB: the previous value as the forecast (through the forecasters' post-processing,
    and a partner in the blends), NAB's windowed Gaussian, a random score over :data:`RANDOM_SEEDS` seeds (a quick
    run's seeds), the matrix-profile discord and HTM's spatial-novelty rule alone."""
    random_seeds = cfg.seeds if cfg.quick else tuple(range(RANDOM_SEEDS))
    return (
        Experiment("naive_forecast", detector(SeasonalNaive, periods=(1,), error="absolute", name="naive_forecast")),
        Experiment("windowed_gaussian", detector(WindowedGaussian)),
        Experiment("random", detector(RandomScore), random_seeds),
        Experiment("matrix_profile", detector(MatrixProfileDiscord, m=LOOKBACK)),
        Experiment("spatial_novelty", detector(SpatialNovelty)),
    )


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


__all__ = [
    "attention_experiments", "ATTENTION_SEEDS", "baseline_experiments", "BLENDS", "EPOCHS", "forecaster_experiments",
    "LATER_RESCALES", "LOOKBACK", "MIN_GAIN", "RANDOM_SEEDS", "RESCALE_OF", "RESCALES", "SEEDS", "STREAMING",
]
