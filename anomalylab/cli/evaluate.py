"""``anomalylab evaluate nab RESULTS_DIR``: another detector's NAB results, in NAB's own layout, given the project's
whole treatment: NAB scores on the corpus, on the development half and on the evaluation half at the threshold
the development half chose, at the thresholds it ships with (``--thresholds``), per-series VUS and range F1, and
its place in the critical-difference rankings beside ours and NAB's detectors (from the committed tables)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pandas as pd

from anomalylab.cli.flags import ordinal
from anomalylab.errors import InputError

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
MAX_JSON_BYTES = 1 << 20  # a thresholds file is a few hundred bytes; a larger one is not NAB's


def read_thresholds(path: Path, detector: str) -> dict[str, float]:
    """A detector's thresholds from a file in NAB's ``config/thresholds.json`` layout (``{detector: {profile:
    {"threshold": t}}}``, or that detector's entry alone), read as data and checked."""
    if not path.is_file():
        raise InputError(f"--thresholds {path} is not a file; pass NAB's config/thresholds.json or one like it.")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise InputError(f"--thresholds {path} is larger than {MAX_JSON_BYTES:,} bytes; it is not a thresholds file.")
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"--thresholds {path} is not JSON ({exc}).") from None
    entry = data.get(detector, data) if isinstance(data, dict) else None
    if not isinstance(entry, dict) or not all(isinstance(entry.get(p), dict) for p in PROFILES):
        raise InputError(f"--thresholds {path} has no entry for {detector!r} with the profiles {list(PROFILES)} "
                         "(NAB's layout: {detector: {profile: {\"threshold\": t}}}).")  # fmt: skip
    out = {}
    for profile in PROFILES:
        value = entry[profile].get("threshold")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InputError(f"--thresholds {path}: {detector}/{profile}/threshold must be a finite number, got "
                             f"{value!r}.")  # fmt: skip
        out[profile] = float(value)
    return out


def evaluate_nab(results: Path, *, name: str | None = None, thresholds: Path | None = None, out: Path | None = None,
                 tables_dir: Path | None = None) -> dict:
    """Score a detector's NAB results (:func:`anomalylab.datasets.read_nab_results`); returns the tidy rows
    (``rows``), the headline scores (``summary``) and the rank tests (``rankings``); with ``out`` writes them."""
    from anomalylab import datasets, reporting
    from anomalylab.evaluation import nab_series_rows, result_rows
    from anomalylab.evaluation.nab import nab_parts, nab_rows
    from anomalylab.metrics import nab_score
    from anomalylab.metrics.nab import NAB_PROFILE_METRIC

    run = datasets.read_nab_results(results)
    detector = run.attrs["detector"]
    given = read_thresholds(thresholds, detector) if thresholds is not None else None
    split = datasets.nab_split()
    windows = datasets.nab_windows_frame()
    tables = None
    try:
        tables = reporting.read_tables(tables_dir)
    except InputError:
        print("note: no score tables found (run in the repository, or pass --tables DIR): no ranking.",
              file=sys.stderr)  # fmt: skip
    model = name or detector
    if tables is not None and model in set(tables["model"]):
        model = f"{model} (evaluated)"  # NAB's detectors are in the tables as '<name> (NAB)'; ours by their names
    rows = nab_rows(run, windows, model=model, split=split)
    halves = {"corpus": run, "eval": run[run["series"].map(split) == "eval"], "dev": run[run["series"].map(split)
                                                                                          == "dev"]}  # fmt: skip
    parts = {half: nab_parts(frame, windows) for half, frame in halves.items()}
    summary = {}
    for half in ("corpus", "dev", "eval"):
        summary[f"{half}, its own optimum (protocol)"] = nab_score(parts[half], "standard")["score"]
    dev_threshold = nab_score(parts["dev"], "standard")["threshold"]
    summary["eval, the development half's optimum (ours)"] = nab_score(parts["eval"], "standard",
                                                                       threshold=dev_threshold)["score"]
    if given is not None:
        for half, protocol in (("corpus", "nab_v1.1"), ("eval", "nab_v1.1_eval_half")):
            for profile, metric in NAB_PROFILE_METRIC.items():
                score = nab_score(parts[half], profile, threshold=given[profile])["score"]
                rows += result_rows({metric: score}, dataset="nab", protocol=protocol, model=model,
                                    threshold_rule="given_thresholds", threshold=given[profile], kind="protocol")
                if profile == "standard":
                    summary[f"{half}, the given threshold"] = score
        rows += nab_series_rows(run, windows, given, model=model, threshold_rule="given_thresholds",
                                kind="protocol")  # fmt: skip
    table = pd.DataFrame(rows)
    own_sparse = reporting.sparse_alarm(run["anomaly_score"])  # a sparse alarm: no threshold-free ranking
    rankings = {}
    if tables is not None:
        spec = next(s for s in reporting.SUMMARIES if s.key == "nab_eval")
        mine = table[(table["protocol"] == "nab_v1.1_per_series") & (table["threshold_rule"] == "nab_dev_optimised")]
        sparse = reporting.nab_sparse_alarms() | ({model: own_sparse} if own_sparse else {})
        matrices = reporting.nab_series_matrices(pd.concat([tables, mine], ignore_index=True), split, spec.min_runs,
                                                 sparse=sparse)  # fmt: skip
        rankings = {title: reporting.rank_test(m) for title, m in matrices.items() if model in m and len(m) >= 2}
    result = {"model": model, "rows": table, "summary": summary, "rankings": rankings, "sparse": own_sparse,
              "rows_differing": run.attrs.get("rows_differing", {})}  # fmt: skip
    if out is not None:
        _write(result, out)
    return result


def _write(result: dict, out: Path) -> None:
    from anomalylab.paths import atomic_paths

    stem = result["model"].replace(" ", "_").replace("(", "").replace(")", "")
    targets = [out / f"{stem}_nab.csv", out / f"{stem}_nab_ranks.csv"]
    if result["rankings"]:
        targets.append(out / f"{stem}_nab_ranks.png")
    with atomic_paths(targets) as temps:
        result["rows"].to_csv(temps[0], index=False)
        ranks = pd.DataFrame({title: r["ranks"] for title, r in result["rankings"].items()})
        ranks.rename_axis("model").to_csv(temps[1])
        if result["rankings"]:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            from anomalylab import plotting

            plotting.set_style()
            fig, axes = plt.subplots(len(result["rankings"]), 1, figsize=(13, 4.5 * len(result["rankings"])),
                                     squeeze=False)  # fmt: skip
            for ax, (title, r) in zip(axes[:, 0], result["rankings"].items()):
                plotting.plot_cd_diagram(ax, r, f"{title} ({r['blocks']} series)")
            fig.tight_layout()
            fig.savefig(temps[2], format="png")
            plt.close(fig)
    result["written"] = targets


def place(ranks: pd.Series, model: str) -> str:
    """``"3rd of 12 (average rank 4.21)"``: where ``model`` stands in ``ranks`` (1 = best)."""
    order = list(ranks.sort_values().index)
    return f"{ordinal(order.index(model) + 1)} of {len(order)} (average rank {ranks[model]:.2f})"


def report(result: dict) -> str:
    """What the command prints: the headline scores, and its place in each ranking with its nearest rivals."""
    lines = [f"{result['model']}: NAB standard score"]
    lines += [f"  {what}: {score:.2f}" for what, score in result["summary"].items()]
    if result["rows_differing"]:
        lines.append(f"  note: {len(result['rows_differing'])} file(s) have other timestamps than NAB's series in "
                     "some rows; scored row by row, as NAB's scorer does.")  # fmt: skip
    if result.get("sparse"):
        lines.append(f"  note: it {result['sparse']}; it is left out of the VUS-PR ranking.")
    for title, r in result["rankings"].items():
        ranks = r["ranks"].sort_values()
        lines.append(f"{title}: {place(ranks, result['model'])} over {r['blocks']} series; Friedman p = "
                     f"{r['friedman_p']:.2g}, critical difference {r['critical_difference']:.2f}")  # fmt: skip
        lines += [f"  {i}. {m} {v:.2f}" + ("  <-" if m == result["model"] else "")
                  for i, (m, v) in enumerate(ranks.items(), 1)]  # fmt: skip
    for path in result.get("written", []):
        lines.append(f"wrote {path}")
    return "\n".join(lines)
