"""Where things live, resolved from this file and never from the working directory.

nbval and papermill run notebooks from ``notebooks/``; the tests run from the
repository root. Both see the same paths because everything here hangs off
``ROOT``, the folder that holds the ``anomalylab`` package.
"""

import os
import tempfile
from contextlib import contextmanager
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


@contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside ``target``; move it into place only on success.

    An interrupted or failing write leaves ``target`` as it was and removes the
    temporary file, so no half-written output is ever left behind.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give them the usual mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
