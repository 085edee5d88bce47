"""Optional dependencies: ``pip install anomalylab`` brings what ``detect`` with a classical detector needs; the
rest comes with extras (``pyproject.toml``): ``[deep]`` TensorFlow and Keras, ``[series]`` stumpy and statsmodels,
``[tabular]`` PyOD, ``[grid]`` Dask, ``[explorer]`` Bokeh, ``[research]`` all of them plus what the notebooks'
tables need. :func:`require` turns a missing one into an error that names the extra to install."""

from __future__ import annotations

import importlib.util
import sys

from anomalylab.errors import AnomalyLabError

EXTRAS = {  # importable module -> (distribution, extra)
    "tensorflow": ("tensorflow", "deep"),
    "keras": ("keras", "deep"),
    "stumpy": ("stumpy", "series"),
    "statsmodels": ("statsmodels", "series"),
    "pyod": ("pyod", "tabular"),
    "distributed": ("dask[distributed]", "grid"),
    "bokeh": ("bokeh", "explorer"),
    "scikit_posthocs": ("scikit-posthocs", "research"),
    "pyarrow": ("pyarrow", "research"),
}


class MissingExtra(AnomalyLabError, ImportError):
    """An optional dependency is not installed; the message names the extra that brings it."""


def require(*modules: str, what: str) -> None:
    """Raise :class:`MissingExtra` naming ``what`` needs them and the ``pip install`` that brings them, unless every
    module in ``modules`` can be imported."""
    missing = [m for m in modules if not _installed(m)]
    if missing:
        extras = sorted({EXTRAS[m][1] for m in missing})
        names = ", ".join(EXTRAS[m][0] for m in missing)
        verb = "is" if len(missing) == 1 else "are"
        raise MissingExtra(f"{what} cannot run here: {names} {verb} not installed. Install with "
                           f"pip install 'anomalylab[{','.join(extras)}]' (or everything: 'anomalylab[research]').")


def _installed(module: str) -> bool:
    if module in sys.modules:
        return sys.modules[module] is not None  # None: an import that Python was told to refuse
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a finder that refuses the name (or a broken package)
        return False
