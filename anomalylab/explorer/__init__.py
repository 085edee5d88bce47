"""The results explorer: one static page (``explorer/index.html``) to look at any model's stored scores.

- ``data``: the page's entries from the score files (``figures/scores``) and the tables (``figures/tables``);
- ``page``: the Bokeh page and its one JavaScript callback (``explorer.js``), everything inline.

``make explorer`` (``python -m anomalylab.explorer``) builds it; it opens offline from the file system.
"""

from __future__ import annotations

import time
from pathlib import Path

from anomalylab import paths, reporting
from anomalylab.errors import InputError
from anomalylab.extras import require

require("bokeh", what="the explorer")
from anomalylab.explorer.data import DATASETS, entries, user_entries  # noqa: E402 (after the check that names the extra)
from anomalylab.explorer.page import build_page, write_page  # noqa: E402
from anomalylab.models.registry import DETECTORS, describe  # noqa: E402

EXPLORER_PATH = paths.ROOT / "explorer" / "index.html"
NOTES = {
    "mixtiles": "The threshold of each model is the one its rule chose on the training and validation hours.",
    "spike_series": "Threshold: mean + 3 std of the training errors.",
    "nab": "Rows: the scored rows of this series. Threshold: the corpus threshold that maximises the NAB score of the "
           "development half (ours), on the rescaled score; metrics here are point-wise on NAB's windows.",
    "kdd_k1_whole": "A fixed seeded sample of the test rows, the same rows in notebooks 04 and 05. Threshold: each "
                    "model's own rule (04's models: 95th percentile of the validation inliers' scores; 05's hybrids: "
                    "the rule named beside the slider).",
    "kdd_k2": "A fixed seeded sample of the test rows. As in DAGMM and ALAD, the attacks are the majority the models "
              "learn and the normal connections are the anomalies. Threshold: 99th percentile of the validation "
              "inliers' scores.",
}


def build_explorer(scores_dir: Path | None = None, tables_dir: Path | None = None, out: Path | None = None) -> dict:
    """Build the page from the score files and tables; returns its path, size in bytes, entries (their keys under
    ``keys``) and seconds."""
    start = time.perf_counter()
    points, scores = reporting.read_scores(scores_dir)
    try:
        tables = reporting.read_tables(tables_dir)
    except InputError:
        tables = None  # the page still works; the summary rows are empty
    shown = entries(points, scores, tables)
    path = write_page(build_page(shown, NOTES), Path(out) if out is not None else EXPLORER_PATH)
    return {"path": path, "bytes": path.stat().st_size, "entries": len(shown), "keys": [e["key"] for e in shown],
            "seconds": time.perf_counter() - start}


def build_user_page(values, scores, threshold: float, out: Path, *, model: str, rule: str, source: str,
                    detector: type | None = None) -> Path:
    """The explorer page of a user's own series (``anomalylab detect ... --explorer page.html``); ``detector``, the
    class that scored it, is named and described from the detector registry."""
    shown = user_entries(values, scores, threshold, model=model, rule=rule, source=source)
    note = {"user": "Your series, scored by the command line; move the threshold to see what it flags. There are no "
                    "labels here, so the page counts flags instead of precision and recall."}  # fmt: skip
    intro = ("Your series as the command line scored it: every row with a score. Move the threshold and watch what it "
             "flags; the detector's own threshold is where the slider starts. There are no labels, so the page "
             "counts flags instead of computing precision and recall.")  # fmt: skip
    if detector is not None and DETECTORS.get(detector.__name__) is detector:
        intro += f" {model} is a {detector.__name__}: {describe(detector)}."
    page = build_page(shown, note, title=f"anomalylab: {source}", intro=intro,
                      series_title="series (every row with a score) and the flagged rows")  # fmt: skip
    return write_page(page, Path(out))


__all__ = ["DATASETS", "EXPLORER_PATH", "NOTES", "build_explorer", "build_page", "build_user_page", "entries",
           "user_entries", "write_page"]
