"""What the explorer page holds: one entry per dataset (or NAB series), built from the score files and the tables.

Every array the page computes with comes from ``figures/scores`` unchanged (float64 scores, 0/1 labels); the
curves and histograms are drawn from the same arrays; the summary rows (mean ± 95 % interval over seeds, with
each row's ``kind``) come from :func:`anomalylab.reporting.summary_table` over ``figures/tables``.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from anomalylab import reporting
from anomalylab.errors import InputError

# dataset name in the score files -> (title on the page, summary spec key)
DATASETS = {
    "mixtiles": ("Mixtiles hourly traffic", "mixtiles"),
    "spike_series": ("Spike series", "spike"),
    "nab": ("NAB", "nab_eval"),
    "kdd_k1_whole": ("KDD Cup 99 K1, whole file (sample)", "kdd_k1_whole"),
    "kdd_k2": ("KDD Cup 99 K2 (sample)", "kdd_k2"),
}
GROUPS = {  # dataset -> the benchmark it is listed under in the page's dataset list
    "mixtiles": "Mixtiles", "spike_series": "Spike series", "nab": "NAB", "kdd_k1_whole": "KDD Cup 99",
    "kdd_k2": "KDD Cup 99",
}  # fmt: skip
USER_GROUP = "your data"
CURVE_POINTS = 300  # points per ROC or PR curve on the page
HIST_BINS = 40


def thin(x: np.ndarray, y: np.ndarray, n: int = CURVE_POINTS) -> tuple[list, list]:
    """At most ``n`` points of a curve, its first and last kept."""
    if len(x) > n:
        keep = np.unique(np.linspace(0, len(x) - 1, n).round().astype(int))
        x, y = x[keep], y[keep]
    return np.round(x, 5).tolist(), np.round(y, 5).tolist()


def curves(labels: np.ndarray, scores: np.ndarray) -> dict:
    """ROC and PR curves (scikit-learn's) of the scored test rows, thinned for the page."""
    if labels.min() == labels.max():
        return {"roc": ([], []), "pr": ([], [])}
    fpr, tpr, _ = roc_curve(labels, scores)
    precision, recall, _ = precision_recall_curve(labels, scores)
    return {"roc": thin(fpr, tpr), "pr": thin(recall[::-1], precision[::-1])}


def histograms(scores: np.ndarray, classes: np.ndarray, bins: int = HIST_BINS) -> dict:
    """Counts per class on shared bins between the 0.5th and 99.5th percentiles (the tails in the end bins)."""
    lo, hi = np.quantile(scores, [0.005, 0.995])
    if hi <= lo:
        lo, hi = float(scores.min()), float(scores.max()) + 1e-9
    edges = np.linspace(lo, hi, bins + 1)
    clipped = np.clip(scores, lo, hi)
    counts = {str(c): np.histogram(clipped[classes == c], edges)[0].tolist() for c in pd.unique(classes)}
    return {"edges": edges.tolist(), "counts": counts}


SUMMARY_TITLES = {spec.key: spec.title for spec in reporting.SUMMARIES}


def summary_rows(tables: pd.DataFrame | None) -> dict[str, dict[str, list[list[str]]]]:
    """Per summary key and model, the rows of its summary table as text cells: rule, kind, the headline metric
    (mean ± 95 % interval) and the number of runs."""
    out = {}
    if tables is None:
        return out
    specs = {spec.key: spec for spec in reporting.SUMMARIES}
    for _, key in DATASETS.values():
        try:
            table = reporting.summary_table(tables, specs[key])
        except InputError:
            continue
        metric = specs[key].metrics[0]
        out[key] = {}
        best = set(next((g for g in table["group"] if g), ""))  # the letters of the best ranked row
        for _, row in table.iterrows():  # in the summary's order: ranked ours rows first
            # the best row and every row the tests cannot tell from it (a shared letter)
            kind = f"{row['kind']} ★ best" if row["kind"] == "ours" and best & set(row["group"]) else row["kind"]
            cells = [row["threshold rule"] or "—", kind, f"{metric} {row.get(metric, '')}", row["runs"]]
            out[key].setdefault(row["model"], []).append([html.escape(str(c)) for c in cells])
    return out


def entries(points: pd.DataFrame, scores: pd.DataFrame, tables: pd.DataFrame | None = None) -> list[dict]:
    """The page's entries: per (dataset, series) the test rows' labels (and values or categories), and per model
    its scores on those rows, its own threshold, rule, kind and seed, its curves and, for tables, histograms."""
    summaries = summary_rows(tables)
    out = []
    for (dataset, series), pts in points.groupby(["dataset", "series"], sort=False, observed=True):
        if dataset not in DATASETS:
            raise InputError(f"unknown dataset {dataset!r} in the score files; known: {sorted(DATASETS)}.")
        pts = pts.drop_duplicates("position").sort_values("position")
        test = pts[pts["split"] == "test"]
        title, spec_key = DATASETS[dataset]
        is_series = "value" in test and test["value"].notna().all()
        entry = {
            "key": f"{dataset}/{series}" if series else dataset,
            "title": f"{title} · {series}" if series else title,
            "group": GROUPS.get(dataset, title),
            "has_labels": True,
            "kind": "series" if is_series else "table",
            "labels": test["label"].to_numpy(np.int8),
            "models": {},
            "summary_title": SUMMARY_TITLES.get(spec_key, ""),  # which rows the summary table shows
        }
        if is_series:
            entry["value"] = test["value"].to_numpy(np.float32)
            has_time = "timestamp" in test and test["timestamp"].notna().all()
            entry["x"] = (pd.to_datetime(test["timestamp"]).to_numpy("datetime64[ms]").astype("int64") if has_time
                          else test["position"].to_numpy()).astype(float)  # milliseconds since 1970 for a time axis
            entry["x_is_time"] = bool(has_time)
        classes = (test["category"].astype(str) if "category" in test and test["category"].notna().all()
                   else test["label"].map({0: "normal", 1: "anomaly"}).astype(str)).to_numpy()
        mine = scores[(scores["dataset"] == dataset) & (scores["series"] == series)]
        mine = mine.drop_duplicates(["model", "position"])  # a model kept by two notebooks: the first file's
        ranked = list(summaries.get(spec_key, {}))  # the summary's order: the page shows its best models first
        rank = {m: i for i, m in enumerate(ranked)}
        order = sorted(mine["model"].astype(str).unique(), key=lambda m: rank.get(m, len(rank)))
        for model in order:
            rows = mine[mine["model"].astype(str) == model]
            aligned = rows.set_index("position")["score"].reindex(test["position"]).to_numpy(np.float64)
            scored = np.isfinite(aligned)
            if not scored.any():
                continue
            first = rows.iloc[0]
            item = {
                "score": aligned,
                "threshold": float(first["threshold"]),
                "rule": str(first["threshold_rule"]),
                "kind": str(first["kind"]),
                "seed": None if pd.isna(first["seed"]) else int(first["seed"]),
                "summary": summaries.get(spec_key, {}).get(str(model), []),
                **curves(entry["labels"][scored], aligned[scored]),
            }
            if not is_series:
                item["hist"] = histograms(aligned[scored], classes[scored])
            entry["models"][str(model)] = item
        if entry["models"]:
            out.append(entry)
    if not out:
        raise InputError("the score files hold no scored test rows; run the notebooks first (make reproduce).")
    return out


def user_entries(values: pd.DataFrame, scores: pd.Series, threshold: float, *, model: str, rule: str,
                 source: str) -> list[dict]:
    """Entries for a user's own series (``detect --explorer``): one per value column, every row with a score,
    the detector's threshold and the score to move it along; no labels, so the page shows what is flagged (no
    precision or recall, no curves)."""
    kept = scores.notna().to_numpy()
    if not kept.any():
        raise InputError("no row has a score; the explorer page needs at least one.")
    index = values.index[kept]
    x = (pd.DatetimeIndex(index).tz_localize(None) if getattr(index, "tz", None) is not None else index)
    x = pd.DatetimeIndex(x).to_numpy("datetime64[ms]").astype("int64").astype(float)
    score = scores.to_numpy(np.float64)[kept]
    out = []
    for column in values.columns:
        out.append({
            "key": f"user/{column}", "title": f"{source} · {column}", "group": USER_GROUP, "has_labels": False,
            "kind": "series", "labels": np.zeros(int(kept.sum()), np.int8), "summary_title": "",
            "value": values[column].to_numpy(np.float32)[kept], "x": x, "x_is_time": True,
            "models": {model: {"score": score, "threshold": float(threshold), "rule": rule, "kind": "yours",
                               "seed": None, "summary": [], "roc": ([], []), "pr": ([], [])}},
        })  # fmt: skip
    return out
