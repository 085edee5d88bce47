"""A validation-only hyperparameter search for tabular detectors, and its check on a second, independent draw.

Every model gets the same number of candidate configurations. Each candidate is fitted on a seeded sample of
the training inliers (``max_fit_rows``, for time; early stopping on the validation inliers) and scored on the
labelled validation rows only: the test split is never read. The configuration with the best validation
metric on the first draw is chosen; the same candidates on a second draw of the splits (other validation
rows, another training sample) show whether that choice generalises or only fits its validation rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from anomalylab import runner
from anomalylab.errors import InputError
from anomalylab.evaluation.fitcache import cache_note, cached
from anomalylab.evaluation.tables import TabularSplits, _cap_rows, _sample_rows
from anomalylab.metrics import pr_auc, roc_auc

SEARCH_METRICS = {"pr_auc": pr_auc, "roc_auc": roc_auc}


@cached(_cap_rows, _sample_rows)
def fit_and_score_validation(make_detector, seed: int, splits: TabularSplits, max_fit_rows: int | None) -> dict:
    """One candidate on one draw: fitted on a seeded ``max_fit_rows`` of the training inliers (validation
    inliers for early stopping), scored on the validation rows. Returns the scores, fit seconds and epochs."""
    rows = _cap_rows(np.random.default_rng(seed), np.arange(len(splits.X_train)), max_fit_rows)
    detector = make_detector(seed)
    start = time.perf_counter()
    detector.fit(splits.X_train[rows], splits.X_val[splits.y_val == 0])
    fit_seconds = time.perf_counter() - start
    history = getattr(detector, "history_", None) or {}
    epochs = len(next(iter(history.values()))) if history else np.nan
    return {"val": np.asarray(detector.score_samples(splits.X_val), dtype=float), "fit_seconds": fit_seconds,
            "epochs": epochs, "fit_rows": len(rows)}  # fmt: skip


def search_table(
    candidates: Mapping[str, Mapping[str, Callable[[int], object]]],
    draws: Sequence[TabularSplits],
    *,
    seed: int = 0,
    max_fit_rows: int | None = 20_000,
    metric: str = "pr_auc",
    progress: bool = True,
) -> pd.DataFrame:
    """Every candidate of every model on every draw, as independent tasks on :mod:`anomalylab.runner`.

    ``candidates`` maps a model to its configurations (name -> ``make_detector(seed)``); ``draws`` are splits
    whose validation rows hold outliers (``y_val == 1``). Returns one row per (model, config, draw) with the
    validation ``metric``, the fit seconds, the epochs run and the rows fitted on.
    """
    if metric not in SEARCH_METRICS:
        raise InputError(f"metric must be one of {sorted(SEARCH_METRICS)}, got {metric!r}.")
    if not draws:
        raise InputError("draws is empty; give at least one draw of the splits (two to check the choice).")
    sizes = {name: len(configs) for name, configs in candidates.items()}
    if not sizes or min(sizes.values()) < 1:
        raise InputError(f"every model needs at least one configuration, got {sizes}.")
    for i, splits in enumerate(draws):
        if not ((splits.y_val == 1).any() and (splits.y_val == 0).any()):
            raise InputError(f"draw {i} ({splits.protocol}) has no validation outliers or inliers: a search "
                             "scores labelled validation rows (kdd_protocol_k2(..., val_outliers=...)).")  # fmt: skip
    rows = []
    for i, splits in enumerate(draws):
        # the workers get no test rows at all: the search cannot read them, and ships less
        splits = replace(splits, X_test=splits.X_test[:0], y_test=splits.y_test[:0], test_rows=splits.test_rows[:0])
        tasks = [runner.Task(f"{model} {config}", fit_and_score_validation, {"make_detector": make, "seed": seed})
                 for model, configs in candidates.items() for config, make in configs.items()]  # fmt: skip
        done = runner.run(tasks, shared={"splits": splits, "max_fit_rows": max_fit_rows},
                          desc=f"search, {splits.protocol} draw {i}", progress=progress)  # fmt: skip
        if note := cache_note(done):
            print(f"search, {splits.protocol} draw {i}: {note}")
        results = iter(done)
        for model, configs in candidates.items():
            for config in configs:
                result = next(results)
                value = (SEARCH_METRICS[metric](splits.y_val, result["val"]) if np.isfinite(result["val"]).all()
                         else np.nan)  # fmt: skip  (a diverged fit is never chosen)
                rows.append({"model": model, "config": config, "draw": i, "protocol": splits.protocol,
                             f"val_{metric}": value, "fit_seconds": result["fit_seconds"],
                             "epochs": result["epochs"], "fit_rows": result["fit_rows"]})  # fmt: skip
    return pd.DataFrame(rows)


def _value_column(search: pd.DataFrame) -> str:
    columns = [c for c in search.columns if c.startswith("val_")]
    if len(columns) != 1:
        raise InputError("search must be a table from search_table (one val_<metric> column).")
    return columns[0]


def chosen_configs(search: pd.DataFrame, draw: int = 0) -> dict[str, str]:
    """Per model, the configuration with the best validation metric on ``draw`` (ties: the one listed first)."""
    value = _value_column(search)
    part = search[search["draw"] == draw]
    if part.empty:
        raise InputError(f"the search has no draw {draw}; it has {sorted(search['draw'].unique())}.")
    return {model: rows.loc[rows[value].fillna(-np.inf).idxmax(), "config"]
            for model, rows in part.groupby("model", sort=False)}  # fmt: skip


def search_check(search: pd.DataFrame) -> pd.DataFrame:
    """Does the choice on draw 0 hold on draw 1? Per model: the configuration chosen on each draw, the chosen
    one's validation metric on both, its rank among the candidates on draw 1 (1 = best there too), and the
    spread of the metric over the candidates on draw 1 (how much the choice matters at all)."""
    value = _value_column(search)
    if set(search["draw"]) < {0, 1}:
        raise InputError("search_check needs draws 0 and 1 (search_table with two draws).")
    first, second = chosen_configs(search, 0), chosen_configs(search, 1)
    rows = []
    for model, config in first.items():
        part = search[search["model"] == model].pivot_table(index="config", columns="draw", values=value)
        ranks = part[1].rank(ascending=False, method="min")
        rows.append({"model": model, "chosen_on_draw_0": config, "chosen_on_draw_1": second[model],
                     "same_choice": config == second[model], f"{value}_draw_0": part.loc[config, 0],
                     f"{value}_draw_1": part.loc[config, 1], "rank_on_draw_1": int(ranks[config]),
                     "candidates": len(part), "spread_on_draw_1": part[1].max() - part[1].min()})  # fmt: skip
    return pd.DataFrame(rows).set_index("model")


def tidy_search(search: pd.DataFrame, *, dataset: str = "kddcup99") -> pd.DataFrame:
    """:func:`search_table` as tidy score-table rows: model ``"<model> (<config>)"``, protocol
    ``"<protocol>_validation_draw<draw>"``, the validation metric under its own name, fit seconds and epochs."""
    value = _value_column(search)
    wide = search.assign(model=search["model"] + " (" + search["config"] + ")",
                         protocol=search["protocol"] + "_validation_draw" + search["draw"].astype(str))  # fmt: skip
    rows = wide.rename(columns={value: value.removeprefix("val_")}).melt(
        id_vars=["model", "protocol"], value_vars=[value.removeprefix("val_"), "fit_seconds", "epochs"],
        var_name="metric", value_name="value")  # fmt: skip
    return rows.assign(dataset=dataset, series="", seed=np.nan, threshold_rule="", kind="ours", threshold=np.nan)
