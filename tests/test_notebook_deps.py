"""The Make stamps follow the package files each notebook really uses (tools/notebook_deps.py)."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("notebook_deps", ROOT / "tools" / "notebook_deps.py")
deps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(deps)
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "anomalylab" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_imports_are_followed_through_functions_relative_imports_and_data_files(tmp_path):
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "def f():\n    from anomalylab import b\n    return b\n",
        "b.py": "from .sub import c  # relative\n",
        "sub/__init__.py": "",
        "sub/c.py": "from pathlib import Path\nTABLE = Path(__file__).parent.parent / 'table.csv'\n",
        "table.csv": "x\n1\n",
        "unused.py": "import anomalylab.a\n",
    })
    files = {str(p.relative_to(root)) for p in deps.closure({"anomalylab.a"}, root)}
    assert files == {"anomalylab/__init__.py", "anomalylab/a.py", "anomalylab/b.py", "anomalylab/sub/__init__.py",
                     "anomalylab/sub/c.py", "anomalylab/table.csv"}  # fmt: skip


def test_a_notebook_depends_on_what_it_uses_and_not_on_the_command_line_or_the_explorer():
    for notebook in NOTEBOOKS:
        files = deps.notebook_files(notebook)
        assert "anomalylab/config.py" in files, notebook.name
        assert not [f for f in files if f.startswith(("anomalylab/cli/", "anomalylab/explorer/"))], notebook.name
    by_name = {nb.stem[:2]: set(deps.notebook_files(nb)) for nb in NOTEBOOKS}
    # 04 builds GOAD, whose network imports models/layers.py inside _build: followed
    assert {"anomalylab/models/selfsupervised.py", "anomalylab/models/layers.py"} <= by_name["04"]
    assert {"anomalylab/nab_split.csv", "anomalylab/registry.txt"} <= by_name["02"]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_make_reruns_a_notebook_only_when_a_file_it_uses_changes(tmp_path):
    for name in ("Makefile", "tools", "anomalylab", "pyproject.toml", "requirements.lock"):
        source = ROOT / name
        copy = shutil.copytree if source.is_dir() else shutil.copy
        copy(source, tmp_path / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if source.is_dir() else {}))
    (tmp_path / "notebooks").mkdir()
    for notebook in NOTEBOOKS[:4]:  # 01 to 04
        shutil.copy(notebook, tmp_path / "notebooks")
    make = ["make", "-n", f"PYTHON={sys.executable}", "-o", ".venv/.installed", "-o", "data/raw/.verified",
            "-o", "build/stamps/seeds"]  # fmt: skip
    subprocess.run([*make, "build/notebook-deps.mk"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["make", f"PYTHON={sys.executable}", "build/notebook-deps.mk"], cwd=tmp_path, check=True,
                   capture_output=True)  # fmt: skip
    stamps = tmp_path / "build" / "stamps"
    stamps.mkdir(parents=True)
    for i, notebook in enumerate(NOTEBOOKS[:4]):  # every stamp newer than everything it depends on
        path = stamps / f"{notebook.stem}.full"
        path.touch()
        os.utime(path, (2_000_000_000 + i, 2_000_000_000 + i))
    target = f"build/stamps/{NOTEBOOKS[3].stem}.full"

    def reruns(*changed: str) -> list[str]:
        args = [arg for f in changed for arg in ("-W", f)]
        out = subprocess.run([*make, *args, target], cwd=tmp_path, check=True, capture_output=True, text=True).stdout
        return sorted({line.split("notebooks/")[1].split(".ipynb")[0] for line in out.splitlines()
                       if "-m papermill" in line})  # fmt: skip

    assert reruns() == []
    assert reruns("anomalylab/cli/command.py", "anomalylab/explorer/page.py") == []
    assert reruns("anomalylab/models/selfsupervised.py") == [NOTEBOOKS[0].stem, NOTEBOOKS[3].stem]
    assert reruns(f"notebooks/{NOTEBOOKS[3].name}") == [NOTEBOOKS[3].stem]
