"""The NAB protocol: every series on its own, fitted on its probationary rows, scores in [0, 1], NAB scores.

:func:`nab_run` fits a fresh detector on each series' probationary period only (first 15 % of rows, at most
750) and keeps its raw scores; :func:`nab_rescale` maps them to [0, 1] label-free; :func:`nab_rows` scores a
run with NAB's rules, on the whole corpus and on the fixed development and evaluation halves of the series
(``datasets.nab_split``): NAB's corpus-optimised threshold (``protocol``) and the threshold optimised on the
development half alone (``ours``). :func:`export_nab_results` writes NAB's results layout.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from anomalylab import datasets, runner
from anomalylab.datasets import nab_probationary_length
from anomalylab.errors import InputError
from anomalylab.evaluation.fitcache import cache_note, cached
from anomalylab.evaluation.rows import result_rows
from anomalylab.evaluation.series import score_series
from anomalylab.metrics import NAB_PROFILE_METRIC, nab_score, nab_series_scores, range_metrics, runs, vus
from anomalylab.models.classical import WindowedGaussian
from anomalylab.models.likelihood import likelihood_scores
from anomalylab.paths import atomic_path

NAB_RESULT_COLUMNS = ["timestamp", "value", "anomaly_score", "label"]
RESCALES = ("rolling", "probation", "likelihood", "likelihood_two_sided", "likelihood_quiet", None)
BLENDS = ("mean", "max")
# the names of NAB's two thresholds in the tables' threshold_rule column, and of the protocols that score its halves
DEV_OPTIMISED = "nab_dev_optimised"  # the threshold that maximises the development half's score: ours
CORPUS_OPTIMISED = "nab_corpus_optimised"  # the one that maximises the scored series' own score: protocol
SHIPPED = "nab_shipped"  # NAB's own detectors at the thresholds they ship with (tuned by NAB on the whole corpus)
PROTOCOL = "nab_v1.1"  # the whole corpus
EVAL_HALF = "nab_v1.1_eval_half"  # the evaluation half (scored once, after every choice)

def unit_interval(scores, reference, q: float = 0.99) -> np.ndarray:
    """Map non-negative scores to [0, 1) as s / (s + r), r = the ``q`` quantile of ``reference``.

    Label-free and monotone (so the NAB threshold sweep ranks points the same
    way); ``reference`` is what the detector scored on its training data, so
    0.5 means "as unusual as the top 1 % of training". NaN becomes 0.
    """
    s = np.nan_to_num(np.asarray(scores, dtype=float), nan=0.0)
    ref = np.asarray(reference, dtype=float)
    ref = ref[np.isfinite(ref)]
    if ref.size == 0:
        raise InputError("the reference scores are empty; fit on a longer probationary period.")
    if (s < 0).any():
        raise InputError("unit_interval expects non-negative scores (errors, distances).")
    r = max(float(np.quantile(ref, q)), 1e-12)
    return s / (s + r)


def nab_run(
    make_detector: Callable[[int | None], object],
    corpus: pd.DataFrame,
    *,
    seed: int | None = None,
    rescale: str | None = "rolling",
    window: int = 6400,
    desc: str = "NAB",
    progress: bool = True,
) -> pd.DataFrame:
    """Fit and score one detector on every series of a NAB corpus frame.

    ``corpus`` is long (``series, category, timestamp, value, in_window``, as
    ``datasets.nab_corpus_frame`` makes it). Each series gets a fresh
    ``make_detector(seed)`` fitted on its probationary rows only. Its raw
    scores (e.g. forecast errors) are mapped to [0, 1], label-free:

    - ``rescale="rolling"``: the two-sided Gaussian tail probability of each
      score under the mean and std of the previous ``window`` scores (the
      windowed-Gaussian rule applied to the detector's scores; it follows
      drift in the error level, which one corpus-wide threshold needs);
    - ``rescale="probation"``: :func:`unit_interval` against the probationary
      scores (fixed per series; saturates when the error level drifts);
    - ``rescale="likelihood"``: HTM's anomaly likelihood on a log scale, with its spatial-novelty rule
      (:func:`anomalylab.models.likelihood.likelihood_scores`, NAB's periods), of the ``"probation"`` scores:
      it keeps its resolution near 1, where the rolling rule saturates;
    - ``rescale="likelihood_two_sided"``: the same with a short-term mean far *below* the usual scored as
      unusual too (a forecast error that falls, as on a flatline);
    - ``rescale="likelihood_quiet"``: the likelihood, then quiet for ``window`` rows after each red-zone alarm
      (:func:`~anomalylab.models.likelihood.quiet_after`);
    - ``rescale=None``: for detectors that already score in [0, 1].

    Rows without a score (the detector's first history) score 0. Returns the
    corpus with ``raw_score``, ``anomaly_score`` and ``fit_seconds`` columns.
    """
    return nab_runs(make_detector, corpus, seeds=(seed,), rescale=rescale, window=window, desc=desc,
                    progress=progress)[seed]


def nab_runs(
    make_detector: Callable[[int | None], object],
    corpus: pd.DataFrame,
    *,
    seeds: Sequence[int | None] = (None,),
    rescale: str | None = "rolling",
    window: int = 6400,
    desc: str = "NAB",
    progress: bool = True,
) -> dict:
    """:func:`nab_run` for several seeds at once: every (seed, series) is one task on :mod:`anomalylab.runner`,
    the corpus goes to each worker once. Returns ``{seed: run}``."""
    need = {"series", "category", "timestamp", "value", "in_window"}
    if not need <= set(corpus.columns):
        raise InputError(f"the NAB corpus frame lacks {sorted(need - set(corpus.columns))}.")
    if rescale not in RESCALES:
        raise InputError(f"rescale must be one of {RESCALES}, got {rescale!r}.")
    if not seeds:
        raise InputError("seeds is empty; pass (None,) for a deterministic detector.")
    groups = dict(list(corpus.groupby("series", sort=False)))
    names = list(groups)
    # NAB scores its rows as they are (repeated timestamps, one step back): datasets.keep_file_order
    values = {name: datasets.keep_file_order(one.set_index("timestamp")["value"]) for name, one in groups.items()}
    tasks = [runner.Task(f"{desc}: {name} seed {seed}", _series_task,
                         {"make_detector": make_detector, "seed": seed, "name": name})
             for seed in seeds for name in names]  # fmt: skip
    done = runner.run(tasks, shared={"values": values}, desc=desc, progress=progress)
    if note := cache_note(done):
        print(f"{desc}: {note}")
    results = ({k: v for k, v in result.items() if k != "from_cache"} for result in done)
    runs = {}
    for seed in seeds:
        out = [groups[name].assign(**next(results)) for name in names]
        runs[seed] = nab_rescale(pd.concat(out, ignore_index=True), rescale, window)
    return runs


@cached(score_series, nab_probationary_length)
def _series_task(make_detector, seed, name: str, values: dict) -> dict:
    """One (seed, series) of :func:`nab_runs`: a fresh detector fitted on the series' probationary rows,
    its raw score of every row and the fit's seconds."""
    one = values[name]
    detector = make_detector(seed)
    start = time.perf_counter()
    detector.fit(one.iloc[: nab_probationary_length(len(one))])
    fit_seconds = time.perf_counter() - start
    return {"raw_score": score_series(detector, one).to_numpy(), "fit_seconds": fit_seconds}


def nab_rescale(run: pd.DataFrame, rescale: str | None = "rolling", window: int = 6400) -> pd.DataFrame:
    """``run`` with ``anomaly_score`` in [0, 1] computed from its ``raw_score`` per series, label-free
    (see :func:`nab_run` for the three rules). Rows without a raw score score 0. Cheap: no refit, so the
    rescaling can be chosen on the development half of the corpus after one run."""
    if rescale not in RESCALES:
        raise InputError(f"rescale must be one of {RESCALES}, got {rescale!r}.")
    out = []
    for name, one in run.groupby("series", sort=False):
        raw = one["raw_score"].to_numpy(dtype=float)
        probation = nab_probationary_length(len(raw))
        if rescale == "rolling":
            first = int(np.argmax(~np.isnan(raw))) if (~np.isnan(raw)).any() else len(raw)
            scored = raw[first:]  # skip the detector's unscored history
            gaussian = WindowedGaussian(window=window)
            score = gaussian.fit(scored).score_samples(scored).to_numpy()[gaussian.history :] if len(scored) else scored
            score = np.r_[np.zeros(len(raw) - len(score)), score]
        elif rescale == "probation":
            score = unit_interval(raw, raw[:probation])
        elif rescale in ("likelihood", "likelihood_two_sided", "likelihood_quiet"):
            score = likelihood_scores(unit_interval(raw, raw[:probation]), one["value"], probation,
                                      two_sided=rescale == "likelihood_two_sided",
                                      quiet=window if rescale == "likelihood_quiet" else 0)  # fmt: skip
        else:
            score = np.nan_to_num(raw, nan=0.0)
        if not ((score >= 0) & (score <= 1)).all():
            raise InputError(f"{name}: scores must lie in [0, 1] for NAB; use rescale='rolling'.")
        out.append(one.assign(anomaly_score=score))
    return pd.concat(out, ignore_index=True)


def nab_blend(run: pd.DataFrame, partner: pd.DataFrame, how: str = "mean") -> pd.DataFrame:
    """``run`` with its ``raw_score`` replaced, per series, by the ``how`` (``"mean"`` or ``"max"``) of its own and
    ``partner``'s raw scores, each first put on :func:`unit_interval` against its probationary rows (so that two
    detectors' errors share a scale): an ensemble of two detectors' evidence, rescaled like one detector's
    (:func:`nab_rescale`). ``partner`` is another run of the same corpus (same series and rows, in the same
    order, each series' rows together, as :func:`nab_run` makes them); rows a detector left unscored count 0. Its
    ``fit_seconds`` are both detectors' (the blend needs both)."""
    if how not in BLENDS:
        raise InputError(f"how must be one of {BLENDS}, got {how!r}.")
    keys = ["series", "timestamp"]
    if len(run) != len(partner) or not run[keys].reset_index(drop=True).equals(partner[keys].reset_index(drop=True)):
        raise InputError("the partner run does not cover the same series and rows in the same order; blend two "
                         "runs of the same corpus frame.")  # fmt: skip
    units = [nab_rescale(one, "probation")["anomaly_score"].to_numpy() for one in (run, partner)]
    blended = np.maximum(*units) if how == "max" else (units[0] + units[1]) / 2
    out = run.assign(raw_score=blended)
    if "fit_seconds" in run and "fit_seconds" in partner:
        out["fit_seconds"] = run["fit_seconds"].to_numpy() + partner["fit_seconds"].to_numpy()
    return out


def _nab_parts(run: pd.DataFrame, windows: pd.DataFrame) -> list[tuple]:
    by_series = {k: list(zip(g["start"], g["end"])) for k, g in windows.groupby("series")}
    return [
        (one["anomaly_score"].to_numpy(), pd.DatetimeIndex(one["timestamp"]), by_series.get(name, []))
        for name, one in run.groupby("series", sort=False)
    ]


nab_parts = _nab_parts  # public: what a half of the corpus is scored from (the command line's evaluate reads it)


def _has_windows(parts: list[tuple]) -> bool:
    return any(w for _, _, w in parts)


def _category_rows(run, windows, profile, metric, threshold, **keys) -> list[dict]:
    """Per-category rows (``series="<category>/*"``) of ``run`` at one fixed ``threshold``; a category without
    windows has no NAB score and no row."""
    rows = []
    for category, part in run.groupby("category", sort=True):
        parts = _nab_parts(part, windows)
        if _has_windows(parts):
            one = nab_score(parts, profile, threshold=threshold)
            rows += result_rows({metric: one["score"]}, series=f"{category}/*", threshold=threshold, **keys)
    return rows


def nab_rows(
    run: pd.DataFrame, windows: pd.DataFrame, *, model: str, seed: int | None = None, split: pd.Series | None = None
) -> list[dict]:
    """NAB score rows of one detector run, for every profile.

    - ``protocol="nab_v1.1"``, ``series=""``: the whole corpus at NAB's corpus-optimised threshold (kind
      ``protocol``: tuned on the labels it scores), and per category (``series="<category>/*"``) at that
      threshold;
    - with ``split`` (series -> ``dev``/``eval``, :func:`anomalylab.datasets.nab_split`): the threshold that
      maximises the score of the **development** half alone (``nab_dev_optimised``, kind ``ours``) applied to
      the evaluation half (``protocol="nab_v1.1_eval_half"``, also per category) and to the whole corpus;
      beside it, the evaluation half at its own corpus-optimised threshold (``protocol``); and per series
      (:func:`nab_series_rows`) at the development half's thresholds.
    """
    rows, dev_thresholds = [], {}
    keys = {"dataset": "nab", "model": model, "seed": seed}
    halves = {}
    if split is not None:
        half_of = run["series"].map(split)
        if half_of.isna().any():
            raise InputError(f"series without a half in split: {sorted(set(run['series'][half_of.isna()]))[:3]}.")
        halves = {h: run[half_of == h] for h in ("dev", "eval")}
        if not all(len(part) and _has_windows(_nab_parts(part, windows)) for part in halves.values()):
            halves = {}  # a half without windows (a small quick-mode corpus): no half rows
    whole_parts = _nab_parts(run, windows)
    for profile, metric in NAB_PROFILE_METRIC.items():
        whole = nab_score(whole_parts, profile)
        corpus = {"protocol": PROTOCOL, "threshold_rule": CORPUS_OPTIMISED, **keys}
        rows += result_rows({metric: whole["score"]}, series="", threshold=whole["threshold"], **corpus)
        rows += _category_rows(run, windows, profile, metric, whole["threshold"], **corpus)
        if not halves:
            continue
        dev_threshold = nab_score(_nab_parts(halves["dev"], windows), profile)["threshold"]
        dev_thresholds[profile] = dev_threshold
        eval_parts = _nab_parts(halves["eval"], windows)
        scored = {
            (EVAL_HALF, DEV_OPTIMISED): nab_score(eval_parts, profile, threshold=dev_threshold),
            (EVAL_HALF, CORPUS_OPTIMISED): nab_score(eval_parts, profile),
            (PROTOCOL, DEV_OPTIMISED): nab_score(whole_parts, profile, threshold=dev_threshold),
        }
        for (protocol, rule), result in scored.items():
            rows += result_rows({metric: result["score"]}, series="", protocol=protocol, threshold_rule=rule,
                                threshold=result["threshold"], **keys)  # fmt: skip
        rows += _category_rows(halves["eval"], windows, profile, metric, dev_threshold, protocol=EVAL_HALF,
                               threshold_rule=DEV_OPTIMISED, **keys)  # fmt: skip
    if dev_thresholds:
        rows += nab_series_rows(run, windows, dev_thresholds, model=model, seed=seed)
    return rows


def nab_half_score(
    run: pd.DataFrame, windows: pd.DataFrame, split: pd.Series, half: str = "dev", profile: str = "standard"
) -> float:
    """The NAB score of one half of the corpus (``split``: series -> ``dev``/``eval``) at the threshold that
    maximises that half's score: what a choice made on the development half is judged by."""
    part = run[run["series"].map(split) == half]
    if part.empty:
        raise InputError(f"no series of the run lies in the {half!r} half.")
    return nab_score(_nab_parts(part, windows), profile)["score"]


def export_nab_results(run: pd.DataFrame, detector: str, out_dir: Path) -> list[Path]:
    """Write NAB's results layout: ``<out_dir>/<detector>/<category>/<detector>_<file>.csv``
    with columns ``timestamp,value,anomaly_score,label`` (label = inside a window), one file per series."""
    if not detector or "/" in detector:
        raise InputError(f"detector must be a bare name like 'deepant', got {detector!r}.")
    if "_" in detector:
        raise InputError(f"NAB's runner files a detector under the part of its name before the first underscore, "
                         f"so {detector!r} would be read as {detector.split('_')[0]!r}; use a name without "
                         f"underscores, like {detector.replace('_', '')!r}.")  # fmt: skip
    written = []
    for name, one in run.groupby("series", sort=False):
        category, stem = name.split("/", 1)
        target = Path(out_dir) / detector / category / f"{detector}_{stem}.csv"
        frame = one.assign(label=one["in_window"].astype(int))[NAB_RESULT_COLUMNS]
        with atomic_path(target) as tmp:
            frame.to_csv(tmp, index=False, date_format="%Y-%m-%d %H:%M:%S")
        written.append(target)
    return written


SERIES_PROTOCOL = "nab_v1.1_per_series"


def nab_series_rows(
    run: pd.DataFrame,
    windows: pd.DataFrame,
    thresholds: dict[str, float],
    *,
    model: str,
    seed: int | None = None,
    threshold_rule: str = DEV_OPTIMISED,
    kind: str = "ours",
) -> list[dict]:
    """Per-series rows of one detector run (``protocol="nab_v1.1_per_series"``, ``series=<name>``): the NAB
    score of each profile at the corpus threshold ``thresholds[profile]``, and on the scored rows (after the
    probationary period) VUS-ROC, VUS-PR and, at the standard profile's threshold, range-based precision,
    recall and F1 with the number of labelled windows.

    Series without a scorable window (NAB's ``artificialNoAnomaly`` and the like) have no per-series score and
    no rows: rank tests compare series where a detector can be right.
    """
    missing = sorted(set(NAB_PROFILE_METRIC) - set(thresholds))
    if missing:
        raise InputError(f"thresholds lacks profile(s) {missing}; give one threshold per NAB profile.")
    parts = dict(zip(run["series"].drop_duplicates(), _nab_parts(run, windows)))
    keys = {"dataset": "nab", "protocol": SERIES_PROTOCOL, "model": model, "seed": seed,
            "threshold_rule": threshold_rule, "kind": kind}  # fmt: skip
    per_profile = {p: nab_series_scores(parts, p, threshold=thresholds[p]) for p in NAB_PROFILE_METRIC}
    rows = []
    for name, one in run.groupby("series", sort=False):
        if np.isnan(per_profile["standard"][name]):
            continue
        scored = slice(nab_probationary_length(len(one)), None)
        labels = one["in_window"].to_numpy()[scored].astype("int8")
        scores = one["anomaly_score"].to_numpy(dtype=float)[scored]
        for profile, metric in NAB_PROFILE_METRIC.items():
            rows += result_rows({metric: per_profile[profile][name]}, series=name, threshold=thresholds[profile],
                                **keys)  # fmt: skip
        flags = (scores >= thresholds["standard"]).astype("int8")
        report = {**vus(labels, scores), **range_metrics(labels, flags), "n_events": float(len(runs(labels)))}
        rows += result_rows(report, series=name, threshold=thresholds["standard"], **keys)
    return rows


def nab_detector_rows(names=None, split: pd.Series | None = None) -> list[dict]:
    """:func:`nab_series_rows` of NAB's own detectors (:data:`anomalylab.datasets.NAB_DETECTORS`, named
    ``"<detector> (NAB)"`` apart from ours: both have a ``random`` and a windowed Gaussian) from their
    shipped result files at their shipped thresholds (kind ``published``, rule ``nab_shipped``: NAB tuned them
    on all 58 series), and each one's corpus score at those thresholds (``series=""``), which equals NAB's
    ``final_results.json``; with ``split`` also the score of the evaluation half at those thresholds
    (``protocol="nab_v1.1_eval_half"``), beside ours on the same series."""
    thresholds = datasets.nab_detector_thresholds()
    windows = datasets.nab_windows_frame(names)
    rows = []
    for detector in datasets.NAB_DETECTORS:
        run = datasets.load_nab_detector_results(detector, names)
        shipped = thresholds.loc[detector].to_dict()
        keys = {"model": f"{detector} (NAB)", "threshold_rule": SHIPPED, "kind": "published"}
        parts = {PROTOCOL: _nab_parts(run, windows)}
        if split is not None:
            parts[EVAL_HALF] = _nab_parts(run[run["series"].map(split) == "eval"], windows)
        for (protocol, part), (profile, metric) in itertools.product(parts.items(), NAB_PROFILE_METRIC.items()):
            score = nab_score(part, profile, threshold=shipped[profile])["score"]
            rows += result_rows({metric: score}, dataset="nab", protocol=protocol, threshold=shipped[profile],
                                **keys)  # fmt: skip
        rows += nab_series_rows(run, windows, shipped, **keys)
    return rows
