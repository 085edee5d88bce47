"""Shared fixtures. Tests that need the real raw data get it through anomalylab.datasets.fetch
(make test fetches it first; offline, ANOMALYLAB_DATA_MIRROR points at shared/datasets)."""

import os
from pathlib import Path

import pytest

from anomalylab import paths

SHARED_DATASETS = paths.ROOT.parent / "shared" / "datasets"


@pytest.fixture
def shared_datasets() -> Path:
    mirror = os.environ.get("ANOMALYLAB_DATA_MIRROR")
    for candidate in [Path(mirror) if mirror else None, SHARED_DATASETS]:
        if candidate is not None and (candidate / "SHA256SUMS").is_file():
            return candidate.resolve()
    pytest.skip("no shared/datasets mirror beside the checkout")


@pytest.fixture(autouse=True)
def _tasks_in_process(monkeypatch):
    """Unit tests run the runner's tasks in-process (``serial``) unless they set a scheduler themselves;
    tests/test_runner.py checks that a LocalCluster and command-line workers give the same rows. The notebooks
    under nbval are not affected: they use the default LocalCluster."""
    monkeypatch.setenv("ANOMALYLAB_DASK_SCHEDULER", "serial")
