"""The package's layering (``anomalylab.LAYERS``) holds: no module imports a later layer, and no import cycle, counting
imports inside functions (they run when the function does)."""

import importlib.util
from pathlib import Path

import anomalylab

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("notebook_deps", ROOT / "tools" / "notebook_deps.py")
deps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(deps)

MODULES = deps.package_modules()
GRAPH = {module: deps.explicit_imports(module) for module in MODULES}
ENTRY_POINTS = {"anomalylab", "anomalylab.__main__"}  # the package itself and `python -m anomalylab`


def _layer(module: str) -> str:
    return module.split(".")[1]


def test_every_module_belongs_to_a_layer():
    layers = {_layer(m) for m in MODULES if m not in ENTRY_POINTS}
    assert layers == set(anomalylab.LAYERS), sorted(layers ^ set(anomalylab.LAYERS))


def test_no_module_imports_a_later_layer():
    rank = {layer: i for i, layer in enumerate(anomalylab.LAYERS)}
    upward = sorted(f"{m} -> {other}" for m, imports in GRAPH.items() if m not in ENTRY_POINTS
                    for other in imports
                    if other not in ENTRY_POINTS and rank[_layer(other)] > rank[_layer(m)])  # fmt: skip
    assert upward == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    assert _cycles(GRAPH) == []


def test_the_checks_would_see_a_cycle_and_an_upward_import():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert "anomalylab.preprocessing" not in GRAPH["anomalylab.datasets.kdd"]  # the old upward import is gone
    assert "anomalylab.models.registry" in GRAPH["anomalylab.models.persistence"]  # and a real edge is seen
