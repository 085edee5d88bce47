"""Shared fixtures. Tests that need the real raw data get it through anomalylab.datasets.fetch
(make test fetches it first; offline, ANOMALYLAB_DATA_MIRROR points at shared/datasets)."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
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


@pytest.fixture
def hourly_frame() -> pd.DataFrame:
    """A small hourly series with a daily cycle, one spike (row 300) and a chronological train/val/test split: the
    frame ``evaluation.evaluate_series_grid`` takes (``value``, ``is_anomaly``, ``split``)."""
    n = 24 * 20
    t = np.arange(n)
    value = 10 + np.sin(2 * np.pi * t / 24) + np.random.default_rng(1).normal(0, 0.1, n)
    value[300] += 5
    split = np.where(t < n // 2, "train", np.where(t < 3 * n // 4, "val", "test"))
    return pd.DataFrame({"value": value, "is_anomaly": (t == 300).astype(int), "split": split},
                        index=pd.date_range("2020-01-01", periods=n, freq="h"))  # fmt: skip
