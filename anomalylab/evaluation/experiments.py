"""Experiments as data: a detector as a registered class and its constructor's arguments (:class:`DetectorSpec`),
and an experiment as a named detector spec with its seeds and threshold rules (:class:`Experiment`).

Both are frozen and compare and hash by content, so a grid of experiments can be listed
(``python -m anomalylab experiments``), compared, cached and reused outside the notebook that runs it. A spec is
called with a seed to build a fresh detector, so it goes wherever the evaluation takes a ``make_detector``
(:func:`~anomalylab.evaluation.evaluate_series_grid`, :func:`~anomalylab.evaluation.evaluate_table_grid`,
:func:`~anomalylab.evaluation.nab_runs`); the fit cache keys a task by the detector the spec builds, so a spec and
the lambda it replaces share their cached fits. Only data is accepted as an argument (numbers, strings, tuples,
arrays, frames, classes and a nested spec, which is built with the same seed): a lambda is refused, because nothing
about it can be listed or compared.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from anomalylab.errors import InputError
from anomalylab.evaluation.fitcache import _Undescribable, describe
from anomalylab.evaluation.rows import Rule
from anomalylab.models.registry import DETECTORS


def _registered(model) -> type:
    import anomalylab.models  # noqa: F401  (importing the package registers every detector class)

    name = model if isinstance(model, str) else getattr(model, "__name__", repr(model))
    cls = DETECTORS.get(name)
    if cls is None or (not isinstance(model, str) and cls is not model):
        raise InputError(f"{name!r} is not a registered detector class; known: {', '.join(sorted(DETECTORS))}.")
    return cls


def _takes(cls: type, name: str) -> bool | None:
    """Whether ``cls(...)`` takes the argument ``name``: in its own constructor, or in a parent's constructor that it
    passes ``**kwargs`` on to. None when a ``**kwargs`` goes elsewhere (to an inner detector) and nobody can say."""
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        if klass is object:
            return None
        parameters = inspect.signature(klass.__init__).parameters
        if name in parameters:
            return True
        if not any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
            return False
    return None


@dataclass(frozen=True)
class Chosen:
    """A placeholder for an argument that a notebook chooses from data before it runs the grid (a code size tuned on
    validation rows, the labelled rows set aside): the grid stays listable, and :meth:`DetectorSpec.bind` or
    :func:`bind` puts the chosen value in. ``how`` says how it is chosen."""

    name: str
    how: str = ""

    def __str__(self) -> str:
        return f"<{self.name}>"


def _text(value) -> str:
    if isinstance(value, Chosen | DetectorSpec):
        return str(value)
    if isinstance(value, type):
        return value.__name__
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"<{type(value).__name__} of shape {tuple(value.shape)}>"
    return repr(value)


@dataclass(frozen=True, eq=False)
class DetectorSpec:
    """A detector as data: the name of a registered detector class and its constructor's arguments, the seed left
    open. ``spec(seed)`` builds the detector, passing ``seed=seed`` when the constructor takes a seed that the
    arguments do not fix (a deterministic detector ignores the seed)."""

    model: str
    params: tuple[tuple[str, object], ...] = ()
    key: str = field(init=False, repr=False)

    def __post_init__(self):
        cls = _registered(self.model)
        params = tuple(sorted(dict(self.params).items()))
        unknown = [name for name, _ in params if _takes(cls, name) is False]
        if unknown:
            allowed = list(dict.fromkeys(
                name for klass in cls.__mro__ if "__init__" in vars(klass) and klass is not object
                for name, p in inspect.signature(klass.__init__).parameters.items()
                if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)))  # fmt: skip
            raise InputError(f"{self.model} takes no argument(s) {unknown}; its arguments are {allowed}.")
        try:
            described = {name: describe(value) for name, value in params}
        except _Undescribable as exc:
            raise InputError(f"{self.model}: argument value {exc} is not data (a lambda or an object of unknown type); "
                             "pass numbers, strings, tuples, arrays, frames, classes or a DetectorSpec.") from None
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "key", json.dumps({"model": self.model, "params": described}, sort_keys=True))

    @property
    def cls(self) -> type:
        return _registered(self.model)

    @property
    def kwargs(self) -> dict:
        """The constructor's arguments (nested specs unbuilt)."""
        return dict(self.params)

    @property
    def seeded(self) -> bool:
        """Whether the built detector takes the seed (its constructor has a ``seed`` the arguments leave open)."""
        return "seed" not in self.kwargs and bool(_takes(self.cls, "seed"))

    @property
    def placeholders(self) -> list[Chosen]:
        """The :class:`Chosen` placeholders not yet bound (nested specs included), each once."""
        found = []
        for _, value in self.params:
            if isinstance(value, DetectorSpec):
                found += [c for c in value.placeholders if c not in found]
            elif isinstance(value, Chosen) and value not in found:
                found.append(value)
        return found

    @property
    def open(self) -> list[str]:
        """The names of the :class:`Chosen` placeholders not yet bound."""
        return [c.name for c in self.placeholders]

    def bind(self, **values) -> DetectorSpec:
        """The spec with each :class:`Chosen` placeholder named in ``values`` replaced by its value."""
        params = {}
        for name, value in self.params:
            if isinstance(value, Chosen) and value.name in values:
                value = values[value.name]
            elif isinstance(value, DetectorSpec):
                value = value.bind(**values)
            params[name] = value
        return DetectorSpec(self.model, tuple(params.items()))

    def build(self, seed: int | None = None):
        """A fresh, unfitted detector for ``seed`` (nested specs built with the same seed)."""
        if self.open:
            raise InputError(f"{self}: argument(s) {self.open} are chosen from data and not bound yet; "
                             "bind them first (spec.bind(name=value) or evaluation.bind(experiments, name=value)).")
        arguments = {name: value.build(seed) if isinstance(value, DetectorSpec) else value
                     for name, value in self.params}  # fmt: skip
        if self.seeded:
            arguments["seed"] = seed
        return self.cls(**arguments)

    __call__ = build

    def with_params(self, **changes) -> DetectorSpec:
        """The same detector with some arguments changed or added."""
        return DetectorSpec(self.model, tuple({**self.kwargs, **changes}.items()))

    def __eq__(self, other) -> bool:
        return isinstance(other, DetectorSpec) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return f"{self.model}({', '.join(f'{k}={_text(v)}' for k, v in self.params)})"


def detector(model, /, **params) -> DetectorSpec:
    """``detector(CNNForecaster, lookback=72, epochs=50)``: the spec of a registered class (or its name)."""
    cls = _registered(model)
    return DetectorSpec(cls.__name__, tuple(params.items()))


@dataclass(frozen=True)
class Experiment:
    """A named detector spec run over ``seeds`` (``(None,)`` for a deterministic detector), each fit's scores
    judged under ``rules`` (named :class:`~anomalylab.evaluation.Rule` objects; their names become the rows'
    ``threshold_rule``). ``name`` is the rows' ``model``."""

    name: str
    detector: DetectorSpec
    seeds: tuple[int | None, ...] = (None,)
    rules: tuple[Rule, ...] = ()

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"an experiment needs a non-empty name, got {self.name!r}.")
        if not isinstance(self.detector, DetectorSpec):
            raise InputError(f"{self.name}: detector must be a DetectorSpec (evaluation.detector(cls, **arguments)), "
                             f"got {type(self.detector).__name__}.")
        seeds, rules = tuple(self.seeds), tuple(self.rules)
        if not seeds:
            raise InputError(f"{self.name}: seeds is empty; pass (None,) for a deterministic detector.")
        bad = [rule for rule in rules if not isinstance(rule, Rule) or not rule.name]
        if bad:
            raise InputError(f"{self.name}: every rule must be a named Rule (the rule_* and table_rule_* functions "
                             f"name theirs); got {bad}.")
        names = [rule.name for rule in rules]
        if len(set(names)) < len(names):
            raise InputError(f"{self.name}: two rules share a name in {names}; a name stands for one rule.")
        object.__setattr__(self, "seeds", seeds)
        object.__setattr__(self, "rules", rules)

    @property
    def rule_map(self) -> dict[str, Rule]:
        return {rule.name: rule for rule in self.rules}

    def describe(self) -> dict:
        """One row of a listing: name, detector, seeds, rules, and how each open placeholder is chosen."""
        return {"experiment": self.name, "detector": str(self.detector),
                "seeds": "none (deterministic)" if self.seeds == (None,) else ", ".join(map(str, self.seeds)),
                "rules": ", ".join(self.rules_names()),
                "chosen from data": "; ".join(f"{c.name}: {c.how}" for c in self.detector.placeholders)}  # fmt: skip

    def rules_names(self) -> list[str]:
        return [rule.name for rule in self.rules]

    def bind(self, **values) -> Experiment:
        """The experiment with its detector's :class:`Chosen` placeholders bound (see :meth:`DetectorSpec.bind`)."""
        return Experiment(self.name, self.detector.bind(**values), self.seeds, self.rules)


def bind(experiments: Iterable[Experiment], **values) -> tuple[Experiment, ...]:
    """Every experiment with its placeholders bound to ``values``; a value that no experiment asks for, or a
    placeholder left open, is an error (a typo would otherwise run the wrong grid)."""
    experiments = tuple(experiments)
    wanted = {name for e in experiments for name in e.detector.open}
    unknown = sorted(set(values) - wanted)
    if unknown:
        raise InputError(f"no experiment has a placeholder named {unknown}; the open ones are {sorted(wanted)}.")
    bound = tuple(e.bind(**values) for e in experiments)
    still = sorted({name for e in bound for name in e.detector.open})
    if still:
        raise InputError(f"placeholder(s) {still} are still open; pass a value for each.")
    return bound


def experiment_models(models) -> Mapping:
    """The ``{name: (make_detector, seeds, rules)}`` mapping the evaluation runs, from a sequence of
    :class:`Experiment` (a mapping is returned as it is). Two experiments of one name are refused."""
    if isinstance(models, Mapping):
        return models
    experiments = list(models)
    wrong = [type(e).__name__ for e in experiments if not isinstance(e, Experiment)]
    if wrong:
        raise InputError(f"expected Experiment objects or a mapping of name -> (make, seeds, rules); got {wrong}.")
    names = [e.name for e in experiments]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"experiment name(s) {repeated} appear more than once; each name is one model's rows.")
    return {e.name: (e.detector, e.seeds, e.rule_map) for e in experiments}


def find(experiments: Iterable[Experiment], name: str) -> Experiment:
    """The experiment called ``name``; an error naming the ones there are otherwise."""
    experiments = list(experiments)
    for experiment in experiments:
        if experiment.name == name:
            return experiment
    raise InputError(f"no experiment named {name!r}; there are: {', '.join(e.name for e in experiments)}.")


def listing(experiments: Sequence[Experiment]):
    """A frame of the experiments, one row each (for ``python -m anomalylab experiments`` and the notebooks)."""
    import pandas as pd

    columns = ["experiment", "detector", "seeds", "rules", "chosen from data"]
    return pd.DataFrame([e.describe() for e in experiments], columns=columns)
