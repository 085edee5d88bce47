"""Every experiment grid of the rooms, by name, with the notebook that runs it (``anomalylab experiments``)."""

from __future__ import annotations

from collections.abc import Callable

from anomalylab.config import RunConfig
from anomalylab.errors import InputError
from anomalylab.evaluation import Experiment
from anomalylab.suites import kdd, mixtiles, nab, spike

# grid name -> (the notebook that runs it, its seeds and epochs as that notebook's RunConfig sets them, the grid)
GRIDS: dict[str, tuple[str, int, int, Callable[[RunConfig], tuple[Experiment, ...]]]] = {
    "mixtiles.selection": ("02", mixtiles.SEEDS, mixtiles.EPOCHS, mixtiles.selection_experiments),
    "mixtiles.comparison": ("02", mixtiles.SEEDS, mixtiles.EPOCHS, mixtiles.comparison_experiments),
    "spike": ("02", mixtiles.SEEDS, mixtiles.EPOCHS, spike.spike_experiments),
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


__all__ = ["GRIDS", "grid"]
