"""The package files each notebook really uses, as Make prerequisites of its stamps.

A notebook's stamp (``build/stamps/<name>.full`` and ``.quick``) depends on the ``anomalylab`` modules its code
cells import, directly or through imports (an import inside a function counts: it runs when the function is
called), and on the package's data files that those modules name (``registry.txt``, ``nab_split.csv``). Editing the
command line or the explorer then stales no notebook; editing a model stales the notebooks that use it.

Standard library only (``ast``), so Make can run it before ``.venv`` exists::

    python3 tools/notebook_deps.py notebooks/*.ipynb > build/notebook-deps.mk
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "anomalylab"


def module_file(module: str, root: Path = ROOT) -> Path | None:
    """The file of ``anomalylab.x.y`` (``x/y.py`` or ``x/y/__init__.py``), or None if it is not a module."""
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts[:-1])


def _named_imports(tree: ast.AST, package: str = "") -> set[str]:
    """Every dotted name an import of ``tree`` names (``from a import b`` names ``a`` and ``a.b``), relative
    imports resolved against ``package``."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                base = ".".join([*parts[: len(parts) - node.level + 1], *([node.module] if node.module else [])])
            found |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return found


def imported_modules(tree: ast.AST, package: str = "", root: Path = ROOT) -> set[str]:
    """The ``anomalylab`` modules a syntax tree imports anywhere (``from a import b`` counts ``a.b`` when ``b`` is
    a module, and ``a`` always: its ``__init__`` runs). ``package`` resolves relative imports."""
    found: set[str] = set()
    for name in _named_imports(tree, package):
        if name == PACKAGE or name.startswith(PACKAGE + "."):
            parts = name.split(".")  # a module and its parents: importing a.b.c runs a and a.b first
            found |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {m for m in found if module_file(m, root) is not None}


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    out = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        if "__pycache__" not in path.parts:
            parts = path.relative_to(root).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def explicit_imports(module: str, root: Path = ROOT) -> set[str]:
    """The package modules that ``module`` names in its imports (anywhere in it), without the packages that hold
    it: those are imported before it in any case, so they are not an edge of the import graph."""
    path = module_file(module, root)
    package = module if path.name == "__init__.py" else _package_of(path, root)
    names = _named_imports(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), package)
    return {name for name in names if name != module and not module.startswith(name + ".")
            and name.split(".")[0] == PACKAGE and module_file(name, root) is not None}  # fmt: skip


def _data_files(root: Path) -> dict[str, Path]:
    """The package's non-Python files, by file name."""
    return {p.name: p for p in (root / PACKAGE).rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
            and "__pycache__" not in p.parts}  # fmt: skip


def closure(modules: set[str], root: Path = ROOT) -> set[Path]:
    """Every file reached from ``modules``: the modules, what they import (transitively), and the package data
    files that their string constants name."""
    data = _data_files(root)
    seen: set[str] = set()
    files: set[Path] = set()
    todo = sorted(modules)
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        path = module_file(module, root)
        files.add(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = module if path.name == "__init__.py" else _package_of(path, root)
        todo += sorted(imported_modules(tree, package, root) - seen)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in data:
                files.add(data[node.value])
    return files


def notebook_modules(notebook: Path, root: Path = ROOT) -> set[str]:
    """The ``anomalylab`` modules a notebook's code cells import (IPython's ``%`` and ``!`` lines skipped)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    modules: set[str] = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        modules |= imported_modules(ast.parse(code), root=root)
    return modules


def notebook_files(notebook: Path, root: Path = ROOT) -> list[str]:
    """The package files (relative to ``root``) that ``notebook`` depends on, sorted."""
    return sorted(str(p.relative_to(root)) for p in closure(notebook_modules(notebook, root), root))


def make_rules(notebooks: list[Path], root: Path = ROOT) -> str:
    """One Make rule per notebook: its stamps depend on the package files it uses."""
    lines = ["# generated by tools/notebook_deps.py: the package files each notebook uses (do not edit)"]
    for notebook in notebooks:
        name = notebook.stem
        files = " \\\n  ".join(notebook_files(notebook, root))
        lines.append(f"build/stamps/{name}.full build/stamps/{name}.quick: \\\n  {files}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    paths = [Path(p).resolve() for p in sys.argv[1:]]
    if not paths:
        sys.exit("usage: python3 tools/notebook_deps.py notebooks/*.ipynb > build/notebook-deps.mk")
    sys.stdout.write(make_rules(paths))
