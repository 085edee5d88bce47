"""Per-point scores kept beside the score tables, for notebook 06's ROC and PR overlays and the results explorer.

A notebook keeps, for one seed per model, the scores of the rows its thresholds and metrics read (validation and
test), as two compact Parquet files under ``figures/scores/`` (``build/quick/figures/scores/`` in quick mode):

- ``<name>.points.parquet``: one row per kept point, once per dataset and series: ``dataset``, ``series`` ("" for a
  table), ``position`` (the row's place in the dataset or series), ``split``, ``label`` and, where known, ``value``
  and ``timestamp`` (a series) or ``category`` (a table row's attack category);
- ``<name>.scores.parquet``: one row per model and point: ``dataset``, ``series``, ``model``, ``seed``,
  ``position``, ``score`` (float64, as the tables computed it: float32 made NAB's scores near 1 equal) and the
  model's own ``ours`` threshold with its rule and ``kind``.

All the files together stay under :data:`SCORES_BUDGET` bytes: large test sets are kept as a fixed seeded sample
(:func:`sample_positions`), and the notebook says so.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from anomalylab import paths
from anomalylab.errors import InputError
from anomalylab.evaluation import KINDS
from anomalylab.paths import atomic_paths

SCORES_BUDGET = 40 * 2**20  # bytes, every score file together (float64 scores: about 1.5 times float32's)
POINT_COLUMNS = ["dataset", "series", "position", "split", "label"]
POINT_OPTIONAL = ["value", "timestamp", "category"]
SCORE_COLUMNS = ["dataset", "series", "model", "seed", "position", "score", "threshold", "threshold_rule", "kind"]
KEPT_SPLITS = ("val", "test")


def sample_positions(n: int, size: int, seed: int = 0) -> np.ndarray:
    """A fixed seeded sample of ``size`` of the positions ``0 .. n-1``, sorted (all of them when ``n <= size``)."""
    if n < 0 or size < 1:
        raise InputError(f"need n >= 0 and size >= 1, got n={n}, size={size}.")
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def point_rows(labels, split, *, dataset: str, series: str = "", positions=None, value=None, timestamp=None,
               category=None) -> pd.DataFrame:
    """The points file's rows of one dataset (or one series of it): labels and splits, with the optional columns
    given. ``positions`` default to ``0 .. len(labels)-1``."""
    labels = np.asarray(labels)
    n = len(labels)
    columns = {"dataset": dataset, "series": series,
               "position": np.arange(n) if positions is None else np.asarray(positions),
               "split": np.asarray(split), "label": labels}  # fmt: skip
    for name, column in (("value", value), ("timestamp", timestamp), ("category", category)):
        if column is not None:
            columns[name] = np.asarray(column)
    lengths = {k: len(v) for k, v in columns.items() if not isinstance(v, str)}
    if len(set(lengths.values())) > 1:
        raise InputError(f"the point columns differ in length: {lengths}.")
    return pd.DataFrame(columns)


def score_rows(scores, *, dataset: str, model: str, seed=None, series: str = "", positions=None,
               threshold: float = np.nan, threshold_rule: str = "", kind: str = "ours") -> pd.DataFrame:
    """The scores file's rows of one model and seed on one dataset (or series): ``scores`` in the order of
    ``positions`` (default ``0 .. len(scores)-1``), with the model's threshold and the rule that chose it."""
    scores = np.asarray(scores, dtype=float).ravel()
    positions = np.arange(len(scores)) if positions is None else np.asarray(positions)
    if len(positions) != len(scores):
        raise InputError(f"{model}: {len(scores)} scores for {len(positions)} positions.")
    return pd.DataFrame({"dataset": dataset, "series": series, "model": model, "seed": seed, "position": positions,
                         "score": scores, "threshold": float(threshold), "threshold_rule": threshold_rule,
                         "kind": kind})  # fmt: skip


def series_scores(frame: pd.DataFrame, scores: dict[str, pd.DataFrame], table: pd.DataFrame, *, dataset: str,
                  rules: dict[str, str], value: str = "value", label: str = "is_anomaly", split: str = "split",
                  seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(points, scores)`` of a series notebook's run, ready for :func:`write_scores`: the validation and test
    rows of ``frame``; for every model in ``rules`` its scores of seed ``seed`` (the only column of a
    deterministic model) from ``scores`` (as :func:`anomalylab.evaluation.evaluate_series_grid` returns them),
    with the threshold that rule ``rules[model]`` set in ``table`` for that run."""
    keep = frame[split].isin(KEPT_SPLITS).to_numpy()
    positions = np.flatnonzero(keep)
    stamps = frame.index[keep] if isinstance(frame.index, pd.DatetimeIndex) else None
    points = point_rows(frame[label].to_numpy()[keep], frame[split].to_numpy()[keep], dataset=dataset,
                        positions=positions, value=frame[value].to_numpy()[keep], timestamp=stamps)
    parts = []
    for model, rule in rules.items():
        if model not in scores:
            raise InputError(f"no scores for {model!r}; known: {sorted(scores)}.")
        by_seed = scores[model]
        column = seed if seed in by_seed.columns else "deterministic"
        if column not in by_seed.columns:
            raise InputError(f"{model}: no scores for seed {seed} (columns {list(by_seed.columns)}).")
        run_seed = None if column == "deterministic" else seed
        threshold, kind = table_threshold(table, model=model, threshold_rule=rule, seed=run_seed)
        kept = by_seed[column].to_numpy(dtype=float)[keep]
        scored = np.isfinite(kept)
        parts.append(score_rows(kept[scored], dataset=dataset, model=model, seed=run_seed, positions=positions[scored],
                                threshold=threshold, threshold_rule=rule, kind=kind))
    return points, pd.concat(parts, ignore_index=True)


def table_threshold(table: pd.DataFrame, **keys) -> tuple[float, str]:
    """The one threshold and kind of the rows of a tidy ``table`` that match ``keys`` (``seed=None`` matches a
    deterministic run); a clear error when there is none or several."""
    rows = table
    for column, wanted in keys.items():
        rows = rows[rows[column].isna()] if wanted is None else rows[rows[column] == wanted]
    thresholds = rows["threshold"].dropna().unique() if "threshold" in rows else []
    if len(thresholds) != 1:
        raise InputError(f"expected one threshold for {keys} in the table, found {len(thresholds)}.")
    return float(thresholds[0]), str(rows["kind"].iloc[0])


def nab_scores(runs: dict[str, pd.DataFrame], thresholds: dict[str, dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(points, scores)`` of NAB runs, ready for :func:`write_scores`: the rows after each series' probationary
    period (label: inside a NAB window), once; per model its ``anomaly_score`` there, with
    ``thresholds[model]`` (``threshold``, ``threshold_rule``, ``kind``, ``seed``). Every run must cover the same
    rows in the same order (as :func:`anomalylab.evaluation.nab_run` and NAB's shipped files do)."""
    need = {"series", "timestamp", "value", "in_window", "probationary", "anomaly_score"}
    reference = None
    parts = []
    for model, run in runs.items():
        missing = need - set(run.columns)
        if missing:
            raise InputError(f"{model}: the run lacks column(s) {sorted(missing)}.")
        if model not in thresholds:
            raise InputError(f"{model}: no threshold given; pass threshold, threshold_rule, kind and seed.")
        after = ~run["probationary"].astype(bool).to_numpy()
        positions = run.groupby("series", sort=False).cumcount().to_numpy()[after]  # the row's place in its series
        scored = run[after].reset_index(drop=True)
        if reference is None:
            reference = scored
            points = point_rows(scored["in_window"].astype(int), np.full(len(scored), "test"), dataset="nab",
                                positions=positions, value=scored["value"], timestamp=scored["timestamp"])
            points["series"] = scored["series"].to_numpy()
        elif len(scored) != len(reference) or not (
            np.array_equal(scored["series"].astype(str), reference["series"].astype(str))
            and np.array_equal(pd.to_datetime(scored["timestamp"]).to_numpy("datetime64[ns]"),
                               pd.to_datetime(reference["timestamp"]).to_numpy("datetime64[ns]"))):
            raise InputError(f"{model}: its run covers other rows than {next(iter(runs))}'s.")
        t = thresholds[model]
        one = score_rows(scored["anomaly_score"], dataset="nab", model=model, seed=t.get("seed"),
                         positions=positions, threshold=t["threshold"], threshold_rule=t["threshold_rule"],
                         kind=t["kind"])
        one["series"] = scored["series"].to_numpy()
        parts.append(one)
    if reference is None:
        raise InputError("no runs given.")
    return points, pd.concat(parts, ignore_index=True)


def table_scores(scores: dict[str, pd.DataFrame], splits, table: pd.DataFrame, *, dataset: str,
                 rule: str | dict[str, str], protocol: str, size: int = 20_000,
                 sample_seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(points, scores)`` of a table protocol's first draw, ready for :func:`write_scores`: a fixed seeded sample
    of ``size`` test rows of ``splits`` (a :class:`~anomalylab.evaluation.TabularSplits`, category from its
    ``test_rows``), and per model its first-seed scores there (``scores`` as
    :func:`anomalylab.evaluation.evaluate_table_draws` returns them) with the threshold ``rule`` (or
    ``rule[model]``; then only those models are kept) set under ``protocol`` in ``table`` for that seed."""
    y = np.asarray(splits.y_test)
    positions = sample_positions(len(y), size, sample_seed)
    category = splits.test_rows["attack_category"].astype(str).replace("", np.nan).to_numpy()[positions]
    category = np.where(pd.isna(category), np.where(y[positions] == 1, "anomaly", "normal"), category)
    points = point_rows(y[positions], np.full(len(positions), "test"), dataset=dataset, positions=positions,
                        category=category)
    parts = []
    rules = rule if isinstance(rule, dict) else dict.fromkeys(scores, rule)
    for model, model_rule in rules.items():
        if model not in scores:
            raise InputError(f"no scores for {model!r}; known: {sorted(scores)}.")
        by_seed = scores[model]
        seed = by_seed.columns[0]
        threshold, kind = table_threshold(table, model=model, seed=seed, threshold_rule=model_rule, protocol=protocol)
        parts.append(score_rows(by_seed[seed].to_numpy(dtype=float)[positions], dataset=dataset, model=model,
                                seed=seed, positions=positions, threshold=threshold, threshold_rule=model_rule,
                                kind=kind))
    return points, pd.concat(parts, ignore_index=True)


def check_scores(points: pd.DataFrame, scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both frames in their compact dtypes, or a clear error: columns, labels 0/1, splits, unique points, every
    score on a known point and finite, one seed per model."""
    for frame, need, what in ((points, POINT_COLUMNS, "points"), (scores, SCORE_COLUMNS, "scores")):
        missing = [c for c in need if c not in frame.columns]
        if missing:
            raise InputError(f"the {what} frame lacks column(s) {missing}; build it with "
                             f"reporting.{'point_rows' if what == 'points' else 'score_rows'}.")
        if frame.empty:
            raise InputError(f"the {what} frame has no rows; there is nothing to keep.")
    points = points[POINT_COLUMNS + [c for c in POINT_OPTIONAL if c in points.columns]].copy()
    scores = scores[SCORE_COLUMNS].copy()
    if not points["label"].isin([0, 1]).all():
        raise InputError("labels must be 0/1.")
    bad_splits = sorted(set(points["split"].astype(str)) - set(KEPT_SPLITS))
    if bad_splits:
        raise InputError(f"keep only {KEPT_SPLITS} rows (the rows thresholds and metrics read), found {bad_splits}.")
    keys = ["dataset", "series", "position"]
    if points.duplicated(keys).any():
        raise InputError("a (dataset, series, position) appears twice in the points; each point is kept once.")
    if scores.duplicated(["dataset", "series", "model", "seed", "position"]).any():
        raise InputError("a model scores the same point twice; keep one score per (model, seed, point).")
    if not np.isfinite(scores["score"].to_numpy(dtype=float)).all():
        raise InputError("some kept scores are NaN or infinite; keep only rows the model scored.")
    unknown = scores.merge(points[keys], on=keys, how="left", indicator=True)["_merge"] == "left_only"
    if unknown.any():
        raise InputError(f"{int(unknown.sum())} scores are on points missing from the points frame "
                         "(dataset, series, position must match).")
    seeds = scores.groupby(["dataset", "model"])["seed"].nunique(dropna=False)
    if (seeds > 1).any():
        raise InputError(f"keep one seed per model; several for {list(seeds[seeds > 1].index)}.")
    bad_kinds = sorted(set(scores["kind"]) - set(KINDS))
    if bad_kinds:
        raise InputError(f"kind must be one of {KINDS}, found {bad_kinds}.")
    for frame in (points, scores):
        for column in ("dataset", "series", "split", "model", "threshold_rule", "kind", "category"):
            if column in frame:
                frame[column] = frame[column].astype(str).astype("category")
        frame["position"] = frame["position"].astype("int32")
    points["label"] = points["label"].astype("int8")
    if "value" in points:
        points["value"] = points["value"].astype("float32")
    scores["seed"] = scores["seed"].astype("Int16")
    scores[["score", "threshold"]] = scores[["score", "threshold"]].astype("float64")
    return points.reset_index(drop=True), scores.reset_index(drop=True)


def scores_dir_of(config=None) -> Path:
    """``figures/scores`` (``build/quick/figures/scores`` for a quick-mode ``config``)."""
    return (config.figures_dir if config is not None else paths.FIGURES_DIR) / "scores"


def write_scores(points: pd.DataFrame, scores: pd.DataFrame, name: str, config=None,
                 scores_dir: Path | None = None) -> dict[str, Path]:
    """Write ``<name>.points.parquet`` and ``<name>.scores.parquet`` together (atomically), after
    :func:`check_scores`; refuses to leave the folder over :data:`SCORES_BUDGET`. Returns the paths."""
    paths.check_output_name(name, "score file", "02_mixtiles")
    points, scores = check_scores(points, scores)
    folder = Path(scores_dir) if scores_dir is not None else scores_dir_of(config)
    out = {"points": folder / f"{name}.points.parquet", "scores": folder / f"{name}.scores.parquet"}
    with atomic_paths([out["points"], out["scores"]]) as (points_tmp, scores_tmp):
        points.to_parquet(points_tmp, index=False, compression="zstd")
        scores.to_parquet(scores_tmp, index=False, compression="zstd")
        others = sum(p.stat().st_size for p in folder.glob("*.parquet") if p not in out.values())
        total = others + points_tmp.stat().st_size + scores_tmp.stat().st_size
        if total > SCORES_BUDGET:
            raise InputError(f"{name}: the score files would take {total / 2**20:.1f} MiB, over the budget of "
                             f"{SCORES_BUDGET / 2**20:.0f} MiB; keep fewer rows (reporting.sample_positions) or "
                             "fewer models.")
    return out


def read_scores(scores_dir: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every score file in ``scores_dir`` (default ``figures/scores``): ``(points, scores)`` stacked, each with a
    ``file`` column (the name the notebook wrote)."""
    folder = Path(scores_dir) if scores_dir is not None else scores_dir_of()
    names = sorted(p.name.removesuffix(".scores.parquet") for p in folder.glob("*.scores.parquet"))
    if not names:
        raise InputError(f"no score files in {folder}; run the notebooks first (make reproduce).")
    points, scores = [], []
    for name in names:
        stored = pd.read_parquet(folder / f"{name}.scores.parquet")
        if stored["score"].dtype == np.float32:
            warnings.warn(f"{name}: its scores were stored as float32 by an older anomalylab, so scores that differ "
                          "in the tables may be equal here (NAB's near 1); rerun its notebook to rewrite it.",
                          stacklevel=2)  # fmt: skip
        pair = check_scores(pd.read_parquet(folder / f"{name}.points.parquet"), stored)
        points.append(pair[0].assign(file=name))
        scores.append(pair[1].assign(file=name))
    return pd.concat(points, ignore_index=True), pd.concat(scores, ignore_index=True)
