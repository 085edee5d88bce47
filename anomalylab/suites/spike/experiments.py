"""The spike series' experiments (notebook 02): the seed project's simple Conv1D forecaster, judged with the seed's own
rule computed on the training errors only, beside the rolling-median rule that labels the spikes."""

from __future__ import annotations

from anomalylab.config import RunConfig
from anomalylab.evaluation import Experiment, detector, rule_train_mean_k_sigma
from anomalylab.models.forecasters import SIMPLE_CONV1D, CNNForecaster
from anomalylab.models.series_baselines import RollingMedianResidual

LOOKBACK = 50  # the spike-series seed's window
TRAIN_MEAN_3SD = rule_train_mean_k_sigma(3)  # the seed's mean + 3 sd, on the training errors only
RULES = (TRAIN_MEAN_3SD,)
SEED_RULE = "mean_3sd_all_errors"  # the seed's published rule: mean + 3 sd of every point's error, test included
PROTOCOL = "chronological 80/20, threshold from training errors"


def spike_experiments(cfg: RunConfig) -> tuple[Experiment, ...]:
    """The seed's Conv1D forecaster (no early stopping, batches of 32) over ``cfg.seeds``, and the labelling rule."""
    return (
        Experiment("simple_conv1d", detector(CNNForecaster, lookback=LOOKBACK, **SIMPLE_CONV1D, epochs=cfg.epochs,
                                             batch_size=32, patience=None), cfg.seeds, RULES),
        Experiment("rolling_median_residual", detector(RollingMedianResidual, window=11), (None,), RULES),
    )  # fmt: skip


__all__ = [
    "spike_experiments", "LOOKBACK", "PROTOCOL", "RULES", "SEED_RULE", "TRAIN_MEAN_3SD",
]
