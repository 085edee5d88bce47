"""Mixtiles' experiment grids and threshold rules (notebooks 02 and 03).

The rules every Mixtiles model is judged under: the original study's 40 % relative forecast error, a label-free
rule on the validation hours and a threshold tuned on the training + validation labels. The test hours are read only
to score.
"""

from __future__ import annotations

from anomalylab.config import RunConfig
from anomalylab.evaluation import (
    Experiment,
    detector,
    rule_fixed,
    rule_trainval_best_fbeta,
    rule_val_mean_k_sigma,
)
from anomalylab.models.classical import RandomScore, RollingZScore, SeasonalNaive
from anomalylab.models.forecasters import DEEPANT, MIXTILES_SEED, CNNForecaster, StreamingForecaster
from anomalylab.models.series_baselines import MatrixProfileDiscord, STLResidual

LOOKBACK = 72  # hours of history (the original study's window)
SEEDS = 5  # seeds per deep model
EPOCHS = 50  # upper bound; early stopping on the validation hours
# notebook 02's selection of a DeepAnT variant on rolling-origin folds of the training + validation hours
LOOKBACKS = (72, 168)  # three days or a week of history
HORIZONS = (1, 24)  # the next hour, or the same hour one day after the window
SELECTION_SEEDS = 2  # seeds per variant in the selection
FOLDS = 4  # rolling-origin folds on the training + validation hours
FOLD_START = 735  # hours before the first fold's block (about a month: the first fold fits on these)
# the streaming form fine-tunes every 168 forecasts (a week), for 2 epochs, on the last 2,000 windows
STREAMING = {"refit_every": 168, "refit_epochs": 2, "refit_history": 2000}

RELATIVE_ERROR = 0.40  # the original study's rule: a forecast 40 % off (|y - yhat| / y > 0.40) is an anomaly
RELATIVE = rule_fixed(RELATIVE_ERROR, name="relative_0.40")
VAL_MEAN_3SD = rule_val_mean_k_sigma(3)  # label-free: mean + 3 sd of the validation hours' scores
TRAINVAL_BEST_F2 = rule_trainval_best_fbeta(2)  # the best F2 on the training + validation labels
RULES = (RELATIVE, VAL_MEAN_3SD, TRAINVAL_BEST_F2)
LABEL_FREE_RULES = (VAL_MEAN_3SD, TRAINVAL_BEST_F2)  # for scores that are not a relative forecast error
COMPANY_FLAGS = rule_fixed(1, name="company_flags")  # the company model's own 0/1 flags
PUBLISHED_PROTOCOL = "seed study: 816 test hours from 2024-07-15"  # the original study's test window


def variant_name(lookback: int, horizon: int, log: bool, stream: bool) -> str:
    """``deepant_lb<lookback>_h<horizon>_<relative|log1p>[_streaming]``: a variant of the selection grid."""
    return f"deepant_lb{lookback}_h{horizon}_{'log1p' if log else 'relative'}{'_streaming' if stream else ''}"


def selection_experiments(cfg: RunConfig) -> tuple[Experiment, ...]:
    """Notebook 02's selection grid: DeepAnT over lookback x horizon x (relative error, or absolute error of a
    log1p forecast) x (frozen, streaming), over the first :data:`SELECTION_SEEDS` seeds (one in a quick run, which
    keeps two variants: a streaming one and a log1p one). A log1p variant's error is not relative, so the 40 % rule
    does not apply to it."""
    grid = [(lookback, horizon, log, stream) for lookback in LOOKBACKS for horizon in HORIZONS
            for log in (False, True) for stream in (False, True)]  # fmt: skip
    if cfg.quick:
        grid = [grid[5], grid[10]]
    seeds = cfg.seeds[:1] if cfg.quick else cfg.seeds[:SELECTION_SEEDS]
    experiments = []
    for lookback, horizon, log, stream in grid:
        params = {"lookback": lookback, "horizon": horizon, **DEEPANT, "transform": "log1p" if log else None,
                  "error": "absolute" if log else "relative", "epochs": cfg.epochs}  # fmt: skip
        spec = detector(StreamingForecaster, **params, **STREAMING) if stream else detector(CNNForecaster, **params)
        rules = tuple(rule for rule in RULES if not (log and rule is RELATIVE))
        experiments.append(Experiment(variant_name(lookback, horizon, log, stream), spec, seeds, rules))
    return tuple(experiments)


def selected_experiment(variant: Experiment, rule_name: str, cfg: RunConfig) -> Experiment:
    """``deepant_selected``: the variant and rule the selection chose, over the seeds of its peers (a lead never
    comes from extra seeds)."""
    return Experiment("deepant_selected", variant.detector, cfg.seeds, (variant.rule_map[rule_name],))


def comparison_experiments(cfg: RunConfig) -> tuple[Experiment, ...]:
    """Notebook 02's models on the test hours (beside ``deepant_selected``): DeepAnT as published, in its streaming
    form, the original study's CNN, seasonal-naive forecasts, and classical baselines from maintained libraries."""
    deepant = {"lookback": LOOKBACK, **DEEPANT, "error": "relative", "epochs": cfg.epochs}
    deterministic = (None,)
    return (
        Experiment("deepant", detector(CNNForecaster, **deepant), cfg.seeds, RULES),
        Experiment("deepant_streaming", detector(StreamingForecaster, **deepant, **STREAMING), cfg.seeds, RULES),
        Experiment("mixtiles_seed_cnn", detector(CNNForecaster, lookback=LOOKBACK, **MIXTILES_SEED, error="relative",
                                                 epochs=cfg.epochs), cfg.seeds, RULES),
        Experiment("seasonal_naive_24h", detector(SeasonalNaive, periods=(24,)), deterministic, RULES),
        Experiment("seasonal_naive_168h", detector(SeasonalNaive, periods=(168,)), deterministic, RULES),
        Experiment("seasonal_naive_24h_168h", detector(SeasonalNaive, periods=(24, 168)), deterministic, RULES),
        Experiment("rolling_zscore_168h", detector(RollingZScore, window=168), deterministic, LABEL_FREE_RULES),
        Experiment("stl_residual_168h", detector(STLResidual, period=168), deterministic, LABEL_FREE_RULES),
        Experiment("matrix_profile_24h", detector(MatrixProfileDiscord, m=24), deterministic, LABEL_FREE_RULES),
        Experiment("random", detector(RandomScore), cfg.seeds, LABEL_FREE_RULES),
    )  # fmt: skip



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


__all__ = [
    "attention_experiments", "COMPANY_FLAGS", "comparison_experiments", "EPOCHS", "FOLD_START", "FOLDS", "HORIZONS",
    "LABEL_FREE_RULES", "LOOKBACK", "LOOKBACKS", "PUBLISHED_PROTOCOL", "RELATIVE", "RELATIVE_ERROR", "RULES", "SEEDS",
    "selected_experiment", "selection_experiments", "SELECTION_SEEDS", "STREAMING", "TRAINVAL_BEST_F2",
    "VAL_MEAN_3SD", "variant_name",
]
