"""Provenance beside every table: the commit (``-dirty`` when the code that makes the numbers changed), the
machine (CPU, cores, instruction sets, TensorFlow's thread settings), package versions and the run configuration."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from anomalylab import paths

PROVENANCE_PACKAGES = [
    "anomalylab", "tensorflow", "keras", "numpy", "pandas", "scikit-learn", "pooch", "matplotlib", "seaborn", "dask",
    "distributed",
]  # fmt: skip



# what makes the numbers: a change here (committed or not) is what "-dirty" reports
SOURCE_PATHS = ("anomalylab", "notebooks", "pyproject.toml", "requirements.lock", "environment.yml")


def _code_cells(text: str) -> list[str]:
    """The sources of a notebook's code cells (outputs, counts and metadata left out)."""
    cells = json.loads(text).get("cells", [])
    return ["".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"]


def git_sha(root: Path | None = None) -> str:
    """The repository's current commit, ``-dirty`` when the code that makes the numbers differs from it (the
    package, the pins, or a notebook's code cells), or ``unknown`` outside git.

    A notebook whose outputs alone changed is not a change of code: ``make reproduce`` replaces each notebook with
    its executed copy before the next one runs, and the later notebooks' tables must still name a clean commit.
    """
    root = paths.ROOT if root is None else Path(root)

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout

    try:
        sha = git("rev-parse", "--short=12", "HEAD").strip()
        changed = git("status", "--porcelain", "--untracked-files=no", "--", *SOURCE_PATHS).splitlines()
        for line in changed:
            path = line[3:]
            same_code = (
                path.endswith(".ipynb") and line[:2] in (" M", "M ", "MM")
                and _code_cells((root / path).read_text()) == _code_cells(git("show", f"HEAD:{path}"))
            )  # fmt: skip
            if not same_code:
                return f"{sha}-dirty"
        return sha
    except (OSError, ValueError, subprocess.CalledProcessError):
        return "unknown"


def hardware() -> dict:
    """The machine the numbers came from: CPU model, logical cores and those this process may use (``taskset``),
    the instruction-set flags that change floating-point kernels (AVX2, AVX-512, FMA), and TensorFlow's thread
    and oneDNN settings."""
    from anomalylab.config import TF_SETTINGS

    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    return {
        "cpu": model, "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "isa_flags": {f: f in flags for f in ("avx2", "avx512f", "fma")},
        "tensorflow_settings": {k: os.environ.get(k) for k in TF_SETTINGS},
        "task_runner": _task_runner(),
    }  # fmt: skip


def _task_runner() -> dict:
    """Where the runner sends tasks (``serial``, ``local`` or an address) and the LocalCluster's workers."""
    from anomalylab import runner

    try:
        setting = runner.scheduler_setting()
    except ValueError as exc:
        return {"scheduler": f"invalid ({exc})"}
    return {"scheduler": setting, "local_workers": runner.n_workers() if setting == "local" else None}


def provenance(config=None) -> dict:
    """Git sha, time, Python, platform, hardware, package versions and the run configuration."""
    versions = {}
    for name in PROVENANCE_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "git_sha": git_sha(),
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hardware": hardware(),
        "packages": versions,
        "config": config.as_dict() if hasattr(config, "as_dict") else config,
    }
