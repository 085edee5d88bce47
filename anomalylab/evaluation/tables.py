"""Tabular protocols (KDD Cup 99 K1 and K2): splits, threshold rules on validation rows, evaluation."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import pandas as pd

from anomalylab import runner
from anomalylab.datasets.kdd import kdd_twin_rows
from anomalylab.errors import InputError
from anomalylab.evaluation.experiments import Experiment, experiment_models
from anomalylab.evaluation.fitcache import cache_note, cached
from anomalylab.evaluation.rows import Rule, result_rows, row_kind
from anomalylab.metrics import detection_report
from anomalylab.preprocessing import KDDEncoder
from anomalylab.thresholds import best_fbeta_threshold, quantile_threshold


@dataclass(frozen=True)
class TabularSplits:
    """Encoded rows of one tabular protocol.

    ``X_train`` holds inliers only (what a detector fits on). ``X_val``/``y_val``
    are held-out rows for thresholds (and their inliers for early stopping).
    ``test_rows`` describes every test row (``label``, ``attack_category``,
    ``test_only``) and holds one boolean column per test subset to report
    (``subsets``), e.g. the seed's 8,000/2,000 sample and the whole file.
    """

    protocol: str
    X_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    test_rows: pd.DataFrame
    subsets: tuple[str, ...]
    encoder: object
    unseen_in_test: dict  # rows of the test data per categorical feature whose category the fit rows lack
    # what a fit and its scores read (the fit cache's key): not the labels of the test rows, nor the encoder itself
    cache_fields: ClassVar[tuple[str, ...]] = ("X_train", "X_val", "y_val", "X_test")

    def describe(self) -> pd.DataFrame:
        """Rows and outliers per part: what each model is fitted on, tuned on and tested on."""
        parts = {"train (fit)": np.zeros(len(self.X_train)), "validation": self.y_val}
        parts.update({f"test: {s}": self.y_test[self.test_rows[s].to_numpy()] for s in self.subsets})
        return pd.DataFrame(
            [{"part": k, "rows": len(v), "outliers": int(np.sum(v)), "features": self.X_train.shape[1]}
             for k, v in parts.items()]  # fmt: skip
        ).set_index("part")


def table_splits(
    X_train,
    X_test,
    y_test,
    *,
    X_val=None,
    y_val=None,
    val_fraction: float = 0.1,
    seed: int = 0,
    protocol: str = "own_table",
) -> TabularSplits:
    """:class:`TabularSplits` of your own encoded table, for :func:`evaluate_table_grid` and the threshold rules.

    ``X_train``: rows of normal data to fit on. ``X_test``/``y_test``: rows to score and their 0/1 labels (1 =
    anomaly). ``X_val``/``y_val``: labelled validation rows for thresholds (inliers also for early stopping);
    without them a seeded ``val_fraction`` of ``X_train`` is held out as inlier validation rows.
    """
    from anomalylab.metrics._checks import binary
    from anomalylab.preprocessing import as_samples

    X_train = as_samples(X_train, 2, "X_train")
    X_test = as_samples(X_test, 2, "X_test")
    y_test = binary(y_test, "y_test").astype(int)
    if len(y_test) != len(X_test):
        raise InputError(f"X_test has {len(X_test)} rows but y_test {len(y_test)} labels.")
    if X_val is None:
        if y_val is not None:
            raise InputError("y_val without X_val; pass both, or neither to hold out part of X_train.")
        if not 0 < val_fraction < 1:
            raise InputError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}.")
        rng = np.random.default_rng(seed)
        held = _sample_rows(rng, np.arange(len(X_train)), max(1, int(round(val_fraction * len(X_train)))))
        X_val, y_val = X_train[held], np.zeros(len(held))
        X_train = np.delete(X_train, held, axis=0)
    else:
        X_val = as_samples(X_val, 2, "X_val")
        y_val = np.zeros(len(X_val)) if y_val is None else binary(y_val, "y_val").astype(float)
        if len(y_val) != len(X_val):
            raise InputError(f"X_val has {len(X_val)} rows but y_val {len(y_val)} labels.")
    widths = {X_train.shape[1], X_val.shape[1], X_test.shape[1]}
    if len(widths) != 1:
        raise InputError(f"X_train, X_val and X_test must have the same columns, got widths {sorted(widths)}.")
    test_rows = pd.DataFrame({"label": np.where(y_test == 1, "anomaly", "normal"), "attack_category": "",
                              "test_only": False, "all": True})  # fmt: skip
    return TabularSplits(protocol=protocol, X_train=X_train, X_val=X_val, y_val=y_val, X_test=X_test, y_test=y_test,
                         test_rows=test_rows, subsets=("all",), encoder=None, unseen_in_test={})  # fmt: skip


def _sample_rows(rng: np.random.Generator, index: np.ndarray, n: int) -> np.ndarray:
    if n > len(index):
        raise InputError(f"asked for {n} rows but only {len(index)} are available.")
    return np.sort(rng.choice(index, size=n, replace=False))


def _cap_rows(rng: np.random.Generator, rows: np.ndarray, limit: int | None) -> np.ndarray:
    """``rows``, or a seeded sample of ``limit`` of them (quick mode's ``max_train_rows``)."""
    return rows if limit is None or len(rows) <= limit else _sample_rows(rng, rows, limit)


def kdd_protocol_k1(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    seed: int = 0,
    val_fraction: float = 0.2,
    n_inliers: int = 8000,
    n_outliers: int = 2000,
    max_train_rows: int | None = None,
) -> TabularSplits:
    """K1, the Fast Forward Labs seed's protocol with its labels fixed.

    Fit on the normal rows of the 10 % file, less a random ``val_fraction`` held
    out for validation; the validation split adds attacks of the 10 % file, one
    per four held-out normals (the test sample's ratio). Test on ``corrected``:
    every attack is an outlier, the 17 test-only types included. Subsets: the
    seed's sample of ``n_inliers`` normals and ``n_outliers`` attacks (fixed
    ``seed``), the whole file, and the whole file without the attack rows that
    copy a normal row (``twin_attack``, see :func:`~anomalylab.datasets.kdd_twin_rows`).
    The encoder is fitted on the fitting rows only.
    When ``max_train_rows`` caps the fitting rows, the protocol is named
    ``K1_fit<rows>`` so that its numbers are never mistaken for full K1's.
    """
    rng = np.random.default_rng(seed)
    normal = np.flatnonzero(train["is_attack"].to_numpy() == 0)
    attacks = np.flatnonzero(train["is_attack"].to_numpy() == 1)
    val_normal = _sample_rows(rng, normal, int(round(val_fraction * len(normal))))
    fit_rows = _cap_rows(rng, np.setdiff1d(normal, val_normal), max_train_rows)
    val_attack = _sample_rows(rng, attacks, len(val_normal) // 4)
    val_rows = np.r_[val_normal, val_attack]
    encoder = KDDEncoder().fit(train.iloc[fit_rows])
    X_test = encoder.transform(test)
    unseen = dict(encoder.unseen_counts_)
    y_test = test["is_attack"].to_numpy().astype(int)
    sample = np.zeros(len(test), dtype=bool)
    sample[_sample_rows(rng, np.flatnonzero(y_test == 0), n_inliers)] = True
    sample[_sample_rows(rng, np.flatnonzero(y_test == 1), n_outliers)] = True
    train_labels = set(train["label"].astype(str))
    twin_attack = kdd_twin_rows(test, train)["twin_attack"].to_numpy()
    test_rows = pd.DataFrame({
        "label": test["label"].astype(str).to_numpy(),
        "attack_category": test["attack_category"].astype(str).to_numpy(),
        "test_only": ~test["label"].astype(str).isin(train_labels).to_numpy(),
        "twin_attack": twin_attack,
        f"sample_{n_inliers}_{n_outliers}": sample,
        "whole_file": np.ones(len(test), dtype=bool),
        "without_twins": ~twin_attack,
    })  # fmt: skip
    return TabularSplits(
        protocol="K1" if len(fit_rows) == len(normal) - len(val_normal) else f"K1_fit{len(fit_rows)}",
        X_train=encoder.transform(train.iloc[fit_rows]),
        X_val=encoder.transform(train.iloc[val_rows]), y_val=np.r_[np.zeros(len(val_normal)), np.ones(len(val_attack))],
        X_test=X_test, y_test=y_test, test_rows=test_rows,
        subsets=(f"sample_{n_inliers}_{n_outliers}", "whole_file", "without_twins"), encoder=encoder,
        unseen_in_test=unseen,
    )  # fmt: skip


def kdd_protocol_k2(
    frame: pd.DataFrame,
    *,
    seed: int = 0,
    val_fraction: float = 0.1,
    max_train_rows: int | None = None,
    deduplicate: bool = False,
    encoder_args: Mapping | None = None,
    val_outliers: float = 0.0,
) -> TabularSplits:
    """K2, the DAGMM / ALAD protocol on the 10 % file: ``normal`` traffic (about 20 %) is the outlier class.

    A random 50/50 split (``seed``); fit on the attack rows of the first half
    (less ``val_fraction`` held out as inlier validation rows for early stopping
    and label-free thresholds); test on the whole second half.

    About 75 % of the 10 % file's rows are exact copies of other rows (``smurf`` and ``neptune`` floods), so the
    random split puts copies of training rows in the test half. ``deduplicate=True`` keeps one row of each set of
    identical rows (features and label) before the split (protocol ``K2_dedup``); ``normal`` is then the
    majority class of what is left. ``encoder_args`` go to :class:`~anomalylab.preprocessing.KDDEncoder` (to
    compare preprocessing choices; the default is the package's encoding).

    ``val_outliers`` > 0 adds that many labelled outliers per validation inlier, drawn from the ``normal`` rows
    of the first half (never the test half), for label-using validation choices (a hyperparameter search).
    They are drawn after everything else, so the fitting, validation-inlier and test rows stay those of
    ``val_outliers=0`` for the same seed.
    """
    if val_outliers < 0:
        raise InputError(f"val_outliers (outliers per validation inlier) must be at least 0, got {val_outliers}.")
    if deduplicate:
        frame = frame.drop_duplicates(ignore_index=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(frame))
    first, second = np.sort(order[: len(frame) // 2]), np.sort(order[len(frame) // 2 :])
    inliers = first[frame["is_attack"].to_numpy()[first] == 1]
    val_rows = _sample_rows(rng, inliers, int(round(val_fraction * len(inliers))))
    fit_rows = _cap_rows(rng, np.setdiff1d(inliers, val_rows), max_train_rows)
    n_val_out = int(round(val_outliers * len(val_rows)))
    normal_first = first[frame["is_attack"].to_numpy()[first] == 0]
    val_out = _sample_rows(rng, normal_first, n_val_out) if n_val_out else np.array([], dtype=int)
    encoder = KDDEncoder(**(encoder_args or {})).fit(frame.iloc[fit_rows])
    test = frame.iloc[second]
    X_test = encoder.transform(test)
    unseen = dict(encoder.unseen_counts_)
    test_rows = pd.DataFrame({
        "label": test["label"].astype(str).to_numpy(),
        "attack_category": test["attack_category"].astype(str).to_numpy(),
        "test_only": np.zeros(len(test), dtype=bool),
        "second_half": np.ones(len(test), dtype=bool),
    })  # fmt: skip
    name = "K2_dedup" if deduplicate else "K2"
    return TabularSplits(
        protocol=name,
        X_train=encoder.transform(frame.iloc[fit_rows]), X_val=encoder.transform(frame.iloc[np.r_[val_rows, val_out]]),
        y_val=np.r_[np.zeros(len(val_rows)), np.ones(len(val_out))], X_test=X_test,
        y_test=(test["is_attack"].to_numpy() == 0).astype(int), test_rows=test_rows, subsets=("second_half",),
        encoder=encoder, unseen_in_test=unseen,
    )  # fmt: skip


TABLE_METRICS = ("precision", "recall", "f1", "f2", "roc_auc", "pr_auc")

# A table rule: Rule(threshold(validation scores, validation labels, test scores of the subset)).
TableRule = Rule


def table_rule_val_quantile(q: float = 0.99) -> TableRule:
    """Label-free: the q quantile of the validation **inliers'** scores (about 1 - q false-alarm rate;
    ``val_q<100 q>``)."""
    return Rule(lambda val, y_val, test: quantile_threshold(val[y_val == 0], q), name=f"val_q{round(q * 100, 6):g}")  # noqa: ARG005


def table_rule_val_best_fbeta(beta: float = 1.0) -> TableRule:
    """Tuned on the labelled validation split: the threshold of best F-beta there (``val_best_f<beta>``)."""
    return Rule(lambda val, y_val, test: best_fbeta_threshold(val, y_val, beta)[0],  # noqa: ARG005
                name=f"val_best_f{beta:g}")


def table_rule_fixed(value: float, name: str | None = None) -> TableRule:
    """A fixed threshold, for scores that carry their own (a classifier's log-odds, a per-cluster margin); named
    ``fixed_<value>`` unless ``name`` says what it means (``p_0.5``, ``per_cluster_q95``)."""
    return Rule(lambda val, y_val, test: float(value), name=name or f"fixed_{value:g}")  # noqa: ARG005


def table_rule_test_quantile(q: float = 0.8) -> TableRule:
    """The K2 protocol's own rule (DAGMM, ALAD): flag the top ``1 - q`` of the **test** scores.

    It reads no label but does read the test scores and assumes the test
    split's outlier share is known; it is kept only to compare with the
    papers that use it, never as this project's choice (``reads_test`` says so: its rows are ``protocol``).
    """
    share = f"{round((1 - q) * 100, 6):g} %"
    return Rule(lambda val, y_val, test: quantile_threshold(test, q),  # noqa: ARG005
                name=f"test_q{round(q * 100, 6):g} (protocol)",
                reads_test=f"flags the top {share} of the test scores: reads the test scores and assumes the test "
                "outlier share is known")  # fmt: skip


@cached()
def fit_and_score_table(make_detector, seed, splits: TabularSplits) -> dict:
    """One task of the tabular protocols: ``make_detector(seed)`` fitted on the training inliers (validation
    inliers for early stopping), its validation and test scores, and the seconds fit and test scoring took."""
    detector = make_detector(seed)
    start = time.perf_counter()
    detector.fit(splits.X_train, splits.X_val[splits.y_val == 0])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    test_scores = np.asarray(detector.score_samples(splits.X_test), dtype=float)
    score_seconds = time.perf_counter() - start
    val_scores = np.asarray(detector.score_samples(splits.X_val), dtype=float)
    return {"val": val_scores, "test": test_scores, "fit_seconds": fit_seconds, "score_seconds": score_seconds,
            "transductive": getattr(detector, "transductive", None)}  # fmt: skip


def evaluate_table_grid(
    models: Mapping[str, tuple[Callable[[int | None], object], Sequence[int | None], Mapping[str, TableRule]]]
    | Sequence[Experiment],
    splits: TabularSplits,
    *,
    dataset: str = "kddcup99",
    progress: bool = True,
    desc: str | None = None,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every model over its seeds on one tabular protocol, as independent tasks on :mod:`anomalylab.runner`
    (the splits go to each worker once).

    ``models`` is a sequence of :class:`~anomalylab.evaluation.Experiment` (or a mapping of a name to
    ``(make_detector, seeds, rules)``). Each (model, seed) fits on the training inliers
    and scores validation and test rows; every rule is reported on every test subset
    (``protocol = "<protocol>_<subset>"``). Returns ``(table, test_scores)``: tidy rows with a ``threshold`` column
    in the order of ``models`` and seeds, and per model the test scores, one column per seed.
    """
    models = experiment_models(models)
    for name, (_, seeds, _) in models.items():
        if not seeds:
            raise InputError(f"{name}: seeds is empty; pass (None,) for a deterministic detector.")
    tasks = [runner.Task(f"{name} seed {seed}", fit_and_score_table, {"make_detector": make, "seed": seed})
             for name, (make, seeds, _) in models.items() for seed in seeds]  # fmt: skip
    done = runner.run(tasks, shared={"splits": splits}, desc=desc or splits.protocol, progress=progress)
    if note := cache_note(done):
        print(f"{desc or splits.protocol}: {note}")
    results = iter(done)
    rows, all_scores = [], {}
    for name, (_, seeds, rules) in models.items():
        columns = {}
        for seed in seeds:
            result = next(results)
            rows += _table_rows(result, splits, rules, dataset=dataset, model=name, seed=seed)
            columns["deterministic" if seed is None else seed] = result["test"]
        all_scores[name] = pd.DataFrame(columns)
    return pd.DataFrame(rows), all_scores


def _table_rows(result: dict, splits: TabularSplits, rules: Mapping[str, TableRule], **keys) -> list[dict]:
    val_scores, test_scores = result["val"], result["test"]
    failed = not (np.isfinite(test_scores).all() and np.isfinite(val_scores).all())
    if failed:  # a diverged fit: its metrics are NaN (never 0), and it says so
        warnings.warn(f"{keys['model']} seed {keys['seed']}: non-finite scores (the fit diverged); its metrics are "
                      "NaN.", stacklevel=3)  # fmt: skip
    rows = []
    for subset in splits.subsets:
        mask = splits.test_rows[subset].to_numpy()
        subset_keys = {**keys, "protocol": f"{splits.protocol}_{subset}"}
        for rule_name, rule in rules.items():
            if failed:
                threshold, report = np.nan, dict.fromkeys(TABLE_METRICS, np.nan)
            else:
                threshold = float(rule(val_scores, splits.y_val, test_scores[mask]))
                # rows of a table are not a series: no range-, event-wise or VUS metrics
                report = detection_report(splits.y_test[mask], test_scores[mask], threshold, series=False)
            kind = row_kind(rule, transductive=result.get("transductive"))  # result_rows adds what the names say
            rows += result_rows(report, threshold_rule=rule_name, threshold=threshold, kind=kind, **subset_keys)
        rows += result_rows({k: result[k] for k in ("fit_seconds", "score_seconds")}, **subset_keys)
    return rows


def evaluate_table(
    make_detector: Callable[[int | None], object],
    splits: TabularSplits,
    rules: Mapping[str, TableRule],
    *,
    seeds: Sequence[int | None] = (None,),
    dataset: str = "kddcup99",
    model: str,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One model of :func:`evaluate_table_grid`: ``make_detector(seed)`` fitted once per seed, every rule on
    every test subset. Returns ``(table, test_scores)``; ``table`` carries a ``threshold`` column,
    ``test_scores`` one column per seed."""
    table, scores = evaluate_table_grid({model: (make_detector, seeds, rules)}, splits, dataset=dataset,
                                        progress=progress, desc=model)  # fmt: skip
    return table, scores[model]


def evaluate_table_draws(
    models: Mapping[str, tuple[Callable[[int | None], object], Mapping[str, TableRule]]],
    make_splits: Callable[[int], TabularSplits],
    seeds: Sequence[int],
    *,
    dataset: str = "kddcup99",
    progress: bool = True,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], TabularSplits]:
    """Every model on a fresh draw of the protocol per seed: seed ``s`` draws the splits with
    ``make_splits(s)`` (sample, split, validation rows) and seeds every model with ``s`` (deterministic
    detectors ignore it). Intervals over seeds then include the data draw, classical detectors get a
    spread too, and the rows of one seed pair across models (a Wilcoxon test over seeds).

    ``models`` maps a name to ``(make_detector, rules)``. Returns ``(table, scores, splits)``: the rows of every
    seed, and the test scores and splits of the first seed (for figures).
    """
    if not seeds:
        raise InputError("seeds is empty; give at least one seed (one draw of the splits each).")
    tables, first = [], None
    for seed in seeds:
        splits = make_splits(seed)
        grid = {name: (make, (seed,), rules) for name, (make, rules) in models.items()}
        table, scores = evaluate_table_grid(grid, splits, dataset=dataset, progress=progress,
                                            desc=f"{splits.protocol} draw {seed}")  # fmt: skip
        tables.append(table)
        if first is None:
            first = (scores, splits)
    return pd.concat(tables, ignore_index=True), first[0], first[1]


def hold_out_labelled(splits: TabularSplits, n: int, seed: int = 0) -> tuple[TabularSplits, np.ndarray]:
    """Take ``n`` labelled outliers out of the validation split, for a semi-supervised detector to learn
    from; returns the splits without them (thresholds never see them) and their encoded rows."""
    outliers = np.flatnonzero(splits.y_val == 1)
    if not 0 < n <= len(outliers):
        raise InputError(f"n must lie in 1..{len(outliers)} (the validation outliers), got {n}.")
    taken = _sample_rows(np.random.default_rng(seed), outliers, n)
    keep = np.setdiff1d(np.arange(len(splits.y_val)), taken)
    return replace(splits, X_val=splits.X_val[keep], y_val=splits.y_val[keep]), splits.X_val[taken]


def recall_by(flags, labels, test_rows: pd.DataFrame, by: str = "label") -> pd.DataFrame:
    """Share of the outlier rows (``labels == 1``) of each group (attack type or category) that
    ``flags`` catches; ``test_only`` marks attack types never seen in training."""
    flags = np.asarray(flags).astype(bool).ravel()
    labels = np.asarray(labels).ravel()
    if not len(flags) == len(labels) == len(test_rows):
        sizes = f"{len(flags)}, {len(labels)}, {len(test_rows)}"
        raise InputError(f"flags, labels and test_rows differ in length: {sizes}.")
    frame = test_rows.assign(flagged=flags)[labels == 1]
    grouped = frame.groupby(by, observed=True)
    out = pd.DataFrame({"rows": grouped.size(), "recall": grouped["flagged"].mean()})
    if by == "label":
        out["attack_category"] = grouped["attack_category"].first()
        out["test_only"] = grouped["test_only"].first()
    return out.sort_values("recall")
