"""Where things live, resolved from this file and never from the working directory.

nbval and papermill run notebooks from ``notebooks/``; the tests run from the
repository root. Both see the same paths because everything here hangs off
``ROOT``, the folder that holds the ``anomalylab`` package.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
FIGURES_DIR = ROOT / "figures"
TABLES_DIR = FIGURES_DIR / "tables"
BUILD_DIR = ROOT / "build"
QUICK_DIR = BUILD_DIR / "quick"
NOTEBOOKS_DIR = ROOT / "notebooks"
