"""Mixtiles' experiment grids and threshold rules.

The rules every Mixtiles model is judged under: the original study's 40 % relative forecast error, a label-free
rule on the validation hours and a threshold tuned on the training + validation labels. The test hours are read only
to score.
"""

from __future__ import annotations

from anomalylab.config import RunConfig
from anomalylab.evaluation import Experiment, detector, rule_fixed, rule_trainval_best_fbeta, rule_val_mean_k_sigma
from anomalylab.models.forecasters import DEEPANT, CNNForecaster, StreamingForecaster

LOOKBACK = 72  # hours of history, as DeepAnT in notebook 02
SEEDS = 5  # seeds per model
EPOCHS = 50
# the streaming form fine-tunes every 168 forecasts (a week), for 2 epochs, on the last 2,000 windows
STREAMING = {"refit_every": 168, "refit_epochs": 2, "refit_history": 2000}

RELATIVE = rule_fixed(0.40, name="relative_0.40")  # the original study's rule: a forecast 40 % off is an anomaly
VAL_MEAN_3SD = rule_val_mean_k_sigma(3)  # label-free: mean + 3 sd of the validation hours' scores
TRAINVAL_BEST_F2 = rule_trainval_best_fbeta(2)  # the best F2 on the training + validation labels
RULES = (RELATIVE, VAL_MEAN_3SD, TRAINVAL_BEST_F2)


def attention_experiments(cfg: RunConfig) -> tuple[Experiment, ...]:
    """Notebook 03: DeepAnT with additive and with self-attention over its 72 hours, and the self-attention
    network in its streaming form, each on the relative forecast error, over ``cfg.seeds``."""
    base = {"lookback": LOOKBACK, **DEEPANT, "error": "relative", "epochs": cfg.epochs}
    return (
        Experiment("deepant_additive_attention", detector(CNNForecaster, **base, attention="additive"),
                   cfg.seeds, RULES),
        Experiment("deepant_self_attention", detector(CNNForecaster, **base, attention="self"), cfg.seeds, RULES),
        Experiment("deepant_self_attention_streaming",
                   detector(StreamingForecaster, **base, attention="self", **STREAMING), cfg.seeds, RULES),
    )  # fmt: skip
