"""The README is short, points only at files that exist, and quotes no model score that the tables lack."""

import re

import numpy as np
import pandas as pd

from anomalylab import paths, reporting

README = paths.ROOT / "README.md"
NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?!\.?\d)(?![A-Za-z_])")


def hand_written(text: str) -> str:
    """The README without its generated section."""
    before, rest = text.split(reporting.README_START, 1)
    return before + rest.split(reporting.README_END, 1)[1]


def printed_values(tables: pd.DataFrame) -> set[str]:
    """Every value of the tables as it could be printed: single values, and means and stds over seeds of every
    (table, protocol, series, model, threshold rule, metric), rounded to 1, 2 and 3 decimals."""
    keys = ["table", "protocol", "series", "model", "threshold_rule", "metric"]
    frame = tables.assign(series=tables["series"].astype(object).fillna(""),
                          threshold_rule=tables["threshold_rule"].astype(object).fillna(""))  # fmt: skip
    stats = frame.groupby(keys)["value"].agg(["mean", "std"])
    values = np.r_[frame["value"].to_numpy(float), stats["mean"].to_numpy(float), stats["std"].to_numpy(float)]
    values = values[np.isfinite(values)]
    return {f"{v:.{d}f}" for v in values for d in (1, 2, 3)}


def quoted_scores(text: str, models: set[str]) -> list[tuple[str, str]]:
    """(number, line) for every decimal number on a line of ``text`` that names a model of the tables."""
    found = []
    for line in text.splitlines():
        if any(re.search(rf"(?<![\w]){re.escape(m)}(?![\w])", line) for m in models):
            found += [(n, line) for n in NUMBER.findall(line)]
    return found


def test_readme_is_short_enough_to_read_in_five_minutes():
    assert len(README.read_bytes()) < 12_000


def test_every_local_link_of_the_readme_exists():
    links = re.findall(r"\]\(([^)#]+)\)", README.read_text())
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert local, "the README links no local file"
    missing = [link for link in local if not (paths.ROOT / link).exists()]
    assert not missing, f"the README links files that do not exist: {missing}"


def test_every_model_score_in_the_readme_prose_is_in_the_tables():
    tables = reporting.read_tables()
    models = {m for m in tables["model"].unique() if len(m) > 3}
    printed = printed_values(tables)
    stray = [(n, line.strip()) for n, line in quoted_scores(hand_written(README.read_text()), models)
             if n not in printed]  # fmt: skip
    assert not stray, f"numbers next to a model's name that no table holds (type them from the tables): {stray}"


def test_the_check_catches_a_typed_score():
    tables = pd.DataFrame({"table": "t", "protocol": "p", "series": "", "model": "deepant", "threshold_rule": "r",
                           "metric": "f2", "value": [0.5, 0.7]})  # fmt: skip
    text = "deepant scores 0.600 ± 0.141 here.\ndeepant once scored 0.628 ± 0.129.\nNo model: 0.999."
    quoted = quoted_scores(text, {"deepant"})
    stray = [n for n, _ in quoted if n not in printed_values(tables)]
    assert [n for n, _ in quoted] == ["0.600", "0.141", "0.628", "0.129"] and stray == ["0.628", "0.129"]


def test_the_readme_table_ranks_only_ours_and_shows_the_leaders_unranked():
    block = README.read_text().split(reporting.README_START, 1)[1].split(reporting.README_END, 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block.splitlines()
            if line.startswith("| ") and not line.startswith("| dataset")]  # fmt: skip
    kinds = reporting.read_tables().groupby("model")["kind"].agg(set)
    dataset = ""
    nab_leaders = []
    for name, rank, model, *_ in rows:
        dataset = name or dataset
        if rank:  # a ranked row is one of ours
            assert "ours" in kinds[model] and "published" not in model, model
        else:  # an unranked row is a published leader, and says so
            assert "published" in model, model
            nab_leaders += [model] if dataset.startswith("NAB") else []
    assert {"ARTime (NAB) (published)", "numenta (NAB) (published)"} <= set(nab_leaders)
