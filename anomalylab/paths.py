"""Where things live, resolved from this file and never from the working directory.

nbval and papermill run notebooks from ``notebooks/``; the tests run from the
repository root. Both see the same paths because everything here hangs off
``ROOT``, the folder that holds the ``anomalylab`` package.
"""

import glob
import os
import re
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from anomalylab.errors import InputError

PACKAGE_DIR = Path(__file__).resolve().parent
HOME_ENV = "ANOMALYLAB_HOME"


def _root() -> Path:
    """Where data, figures and tables go: ``$ANOMALYLAB_HOME`` if set; else the repository when the package runs
    from a checkout (a ``pyproject.toml`` and ``notebooks/`` beside it); else the working directory (an
    installed copy never writes into site-packages)."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser().resolve()
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir():
        return checkout
    return Path.cwd().resolve()


ROOT = _root()
DATA_DIR = ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
FIGURES_DIR = ROOT / "figures"
TABLES_DIR = FIGURES_DIR / "tables"
BUILD_DIR = ROOT / "build"
QUICK_DIR = BUILD_DIR / "quick"
NOTEBOOKS_DIR = ROOT / "notebooks"


OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
ORPHAN_SECONDS = 600  # a temporary file this old was left by an interrupted write (a live one is seconds old)


def check_output_name(name: str, what: str, example: str) -> str:
    """Refuse an output name that is not a bare file name (no folder, no ``..``, no leading dot)."""
    if not isinstance(name, str) or not OUTPUT_NAME.match(name):
        raise InputError(f"{what} name must be a bare name of letters, digits, '_' and '-' like {example!r}, "
                         f"got {name!r}.")  # fmt: skip
    return name


def _remove_orphans(target: Path) -> None:
    """Delete temporary files of earlier writes to ``target`` that were interrupted (e.g. killed)."""
    now = time.time()
    for orphan in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        try:
            if now - orphan.stat().st_mtime > ORPHAN_SECONDS:
                orphan.unlink()
        except OSError:
            pass


@contextmanager
def atomic_paths(targets: Sequence[Path]):
    """Yield one temporary path beside each target; once the block succeeds, move them all into place.

    The slow part (writing) happens before any target is touched, and the replacements follow one another
    at once, so an interruption leaves the old set or the new set, not a mix of the two. A failing or
    interrupted write removes its temporary files; files orphaned by a killed process are removed by the
    next write to the same target.
    """
    targets = [Path(t) for t in targets]
    temps = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            _remove_orphans(target)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            os.close(fd)
            temps.append(Path(tmp))
        yield temps
        umask = os.umask(0)
        os.umask(umask)
        for tmp in temps:
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give them the usual mode
        for tmp, target in zip(temps, targets):
            os.replace(tmp, target)
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside ``target``; move it into place only on success.

    An interrupted or failing write leaves ``target`` as it was and removes the
    temporary file, so no half-written output is ever left behind.
    """
    with atomic_paths([target]) as (tmp,):
        yield tmp
