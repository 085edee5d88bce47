"""One room per benchmark: ``mixtiles``, ``nab``, ``spike``, ``kdd`` (a subpackage each), holding what is
particular to that benchmark above the shared engine (``datasets``, ``models``, ``evaluation``, ``metrics``,
``reporting``).

A room's ``experiments`` module holds its experiment grids as data (:class:`~anomalylab.evaluation.Experiment`:
a detector spec, seeds and named threshold rules), its named rules and the constants its notebook runs them with;
the notebooks choose, run and show these grids. :data:`GRIDS` lists every grid by name, and
``python -m anomalylab experiments`` prints them. The rooms are being filled benchmark by benchmark (issue 30):
today they hold the grids of notebooks 02, 03 and 05; the data loading, protocols and findings of each benchmark still
live in the shared layers (``docs/package.md``).
"""

from __future__ import annotations

from collections.abc import Callable

from anomalylab.config import RunConfig
from anomalylab.errors import InputError
from anomalylab.evaluation import Experiment
from anomalylab.suites.kdd import experiments as kdd
from anomalylab.suites.mixtiles import experiments as mixtiles
from anomalylab.suites.nab import experiments as nab
from anomalylab.suites.spike import experiments as spike

# grid name -> (the notebook that runs it, its seeds and epochs as that notebook's RunConfig sets them, the grid)
GRIDS: dict[str, tuple[str, int, int, Callable[[RunConfig], tuple[Experiment, ...]]]] = {
    "mixtiles.selection": ("02", mixtiles.SEEDS, mixtiles.EPOCHS, mixtiles.selection_experiments),
    "mixtiles.comparison": ("02", mixtiles.SEEDS, mixtiles.EPOCHS, mixtiles.comparison_experiments),
    "spike": ("02", mixtiles.SEEDS, mixtiles.EPOCHS, spike.experiments),
    "nab.forecasters": ("02", mixtiles.SEEDS, mixtiles.EPOCHS, nab.forecaster_experiments),
    "nab.baselines": ("02", mixtiles.SEEDS, mixtiles.EPOCHS, nab.baseline_experiments),
    "mixtiles.attention": ("03", mixtiles.SEEDS, mixtiles.EPOCHS, mixtiles.attention_experiments),
    "nab.attention": ("03", mixtiles.SEEDS, mixtiles.EPOCHS, nab.attention_experiments),
    "kdd.hybrid": ("05", kdd.HYBRID_SEEDS, kdd.HYBRID_EPOCHS, kdd.hybrid_experiments),
    "kdd.hybrid_semi_supervised": ("05", kdd.HYBRID_SEEDS, kdd.HYBRID_EPOCHS, kdd.semi_supervised_experiments),
}


def grid(name: str, quick: bool = False) -> tuple[Experiment, ...]:
    """The experiments of grid ``name`` as its notebook runs them in full (or quick) mode."""
    if name not in GRIDS:
        raise InputError(f"no experiment grid named {name!r}; there are: {', '.join(GRIDS)}.")
    _, seeds, epochs, make = GRIDS[name]
    return make(RunConfig.create(quick, n_seeds=seeds, epochs=epochs))


__all__ = ["GRIDS", "grid", "kdd", "mixtiles", "nab", "spike"]
