"""The ledger of held-out reads (``docs/held_out_ledger.csv``): every time a held-out part was scored and its numbers
committed, with what was compared and the later choice it preceded.

A held-out part is meant to be read once, after every choice. The ledger makes the reads that happened anyway
countable: a rerun that reproduced the same numbers is a read that informed nothing (``later_choice`` ``none``);
a read followed by a design choice (a new variant, a new grid axis) is counted apart, so a reader can weigh the
later numbers of that part. New design choices cite development data only; add a row whenever a full run scores a
held-out part.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from anomalylab import paths
from anomalylab.errors import InputError

LEDGER_FILE = Path("docs") / "held_out_ledger.csv"
PARTS = {
    "nab_eval_half": "NAB's evaluation half",
    "mixtiles_test_hours": "Mixtiles' test hours",
    "kdd_test_rows": "KDD's test rows",
}
COLUMNS = ["date", "commit", "part", "read", "later_choice"]


def read_ledger(path: Path | None = None) -> pd.DataFrame:
    """The ledger, checked: the five columns, known parts, ISO dates, abbreviated commit hashes, no empty cell."""
    path = Path(path) if path is not None else paths.ROOT / LEDGER_FILE
    if not path.is_file():
        raise InputError(f"{path} does not exist; the ledger of held-out reads lives in {LEDGER_FILE}.")
    ledger = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(ledger.columns) != COLUMNS:
        raise InputError(f"{path} must have the columns {COLUMNS}, got {list(ledger.columns)}.")
    problems = []
    for i, row in ledger.iterrows():
        line = i + 2  # the header is line 1
        if row["part"] not in PARTS:
            problems.append(f"line {line}: unknown part {row['part']!r} (known: {sorted(PARTS)})")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"]) or pd.isna(pd.to_datetime(row["date"], errors="coerce")):
            problems.append(f"line {line}: date {row['date']!r} is not YYYY-MM-DD")
        if not re.fullmatch(r"[0-9a-f]{7,40}", row["commit"]):
            problems.append(f"line {line}: commit {row['commit']!r} is not a git hash")
        if not row["read"].strip() or not row["later_choice"].strip():
            problems.append(f"line {line}: 'read' and 'later_choice' must say something ('none' when nothing)")
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else ""))
    return ledger


def informed(ledger: pd.DataFrame) -> pd.Series:
    """Whether each read preceded a later choice (its ``later_choice`` is not ``none`` or ``none recorded...``)."""
    return ~ledger["later_choice"].str.strip().str.lower().str.startswith("none")


def ledger_counts(ledger: pd.DataFrame) -> pd.DataFrame:
    """Per held-out part: the reads, and those that preceded a later choice."""
    counts = pd.DataFrame({"reads": ledger.groupby("part").size(),
                           "before_a_choice": informed(ledger).groupby(ledger["part"]).sum()})  # fmt: skip
    return counts.reindex(list(PARTS)).fillna(0).astype(int)


def ledger_sentence(ledger: pd.DataFrame) -> str:
    """One sentence for the README: how often each held-out part has been read, and how often before a choice."""
    counts = ledger_counts(ledger)
    parts = "; ".join(f"{PARTS[part]} {row.reads} ({row.before_a_choice})" for part, row in counts.iterrows())
    return (f"Held-out parts read so far ([ledger]({LEDGER_FILE.as_posix()}); in brackets, the reads a design choice "
            f"followed): {parts}.")
