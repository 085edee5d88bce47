"""The task runner: results in task order, failures named, and the same rows whatever the schedule
(in-process, a LocalCluster, and a scheduler plus two workers started with the ``dask`` command line)."""

import hashlib
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomalylab import evaluation, runner
from anomalylab.errors import InputError
from anomalylab.models.classical import RollingZScore
from anomalylab.models.forecasters import CNNForecaster


def _square(x, offset):
    if x == 2:
        raise ValueError("two is refused")
    return x * x + offset


def _slow_first(x, offset, lookup):
    time.sleep(0.5 if x == 0 else 0.0)  # the first task finishes last
    return x + offset + lookup[x % 2]


def _seeded_draw_after_a_pause(seconds):
    random.seed(0)
    time.sleep(seconds)  # the worker's own threads run meanwhile
    return random.random(), random.randint(1, 10**9)


def _pca_fingerprint(rows, X):
    from anomalylab.models.classical import PCAReconstruction

    scores = PCAReconstruction(n_components=0.95).fit(X[rows]).score_samples(X)
    return X.ctypes.data % 16, hashlib.sha1(np.asarray(scores, dtype=np.float64).tobytes()).hexdigest()


@pytest.fixture(scope="module")
def local():
    yield "local"
    runner.shutdown()


def test_serial_and_local_results_in_task_order_whatever_finishes_first(local):
    tasks = [runner.Task(f"task {i}", _slow_first, {"x": i}) for i in range(6)]
    shared = {"offset": 10, "lookup": {0: 100, 1: 200}}  # a dict goes to the tasks whole
    expected = [i + 10 + (100, 200)[i % 2] for i in range(6)]
    assert runner.run(tasks, shared=shared, scheduler="serial", progress=False) == expected
    assert runner.run(tasks, shared=shared, scheduler=local, progress=False) == expected


@pytest.mark.parametrize("scheduler", ["serial", "local"])
def test_a_failed_task_is_named_and_the_others_are_kept(scheduler, local):
    tasks = [runner.Task(f"square {i}", _square, {"x": i}) for i in range(4)]
    with pytest.raises(runner.TaskError, match=r"1 of 4 tasks failed") as info:
        runner.run(tasks, shared={"offset": 1}, scheduler=scheduler, progress=False)
    assert info.value.results == [1, 2, None, 10]
    assert list(info.value.failures) == [2]
    name, error = info.value.failures[2]
    assert name == "square 2" and "ValueError: two is refused" in error
    assert "task 2 (square 2): ValueError: two is refused" in str(info.value)


def test_a_task_keeps_its_seeded_python_random_stream_on_a_worker(local):
    """Keras draws its layers' default seeds from Python's ``random`` after ``set_seed``; a dask worker's own
    threads draw from it too, so without per-thread streams a task's weights depended on the worker's timing."""
    random.seed(0)
    expected = (random.random(), random.randint(1, 10**9))
    tasks = [runner.Task(f"draw {i}", _seeded_draw_after_a_pause, {"seconds": 1.0}) for i in range(4)]
    assert runner.run(tasks, scheduler=local, progress=False) == [expected] * 4


def test_arrays_reach_a_worker_aligned_so_blas_sums_as_in_process(local):
    """Dask hands a worker its data at arbitrary byte offsets; BLAS then sums in another order, and
    scikit-learn's PCA scored K2 differently in the last bits on a worker than in-process."""
    X = np.random.default_rng(0).normal(size=(100_000, 40)).astype("float32") @ np.diag(np.linspace(1, 3, 40)).astype(
        "float32")
    tasks = [runner.Task(f"pca {i}", _pca_fingerprint, {"rows": np.arange(i, 60_000 + i)}) for i in range(4)]
    serial = runner.run(tasks, shared={"X": X}, scheduler="serial", progress=False)
    assert runner.run(tasks, shared={"X": X}, scheduler=local, progress=False) == serial
    assert all(offset == 0 for offset, _ in serial)


def test_bad_settings_say_what_to_use(monkeypatch):
    monkeypatch.setenv(runner.SCHEDULER_ENV, "cluster-please")
    with pytest.raises(InputError, match="serial.*local.*tcp://"):
        runner.scheduler_setting()
    monkeypatch.setenv(runner.SCHEDULER_ENV, "serial")
    assert runner.scheduler_setting() == "serial"
    assert runner.scheduler_setting("tcp://10.0.0.1:8786") == "tcp://10.0.0.1:8786"
    monkeypatch.setenv(runner.WORKERS_ENV, "two")
    with pytest.raises(InputError, match="positive whole number"):
        runner.n_workers()
    monkeypatch.setenv(runner.WORKERS_ENV, "3")
    assert runner.n_workers() == 3
    with pytest.raises(InputError, match="runner.Task"):
        runner.run([lambda: 1], scheduler="serial")
    with pytest.raises(InputError, match="`shared` passes too"):
        runner.run([runner.Task("t", _square, {"x": 1, "offset": 2})], shared={"offset": 3}, scheduler="serial")


def test_an_unreachable_scheduler_says_how_to_start_one():
    with pytest.raises(InputError, match="dask scheduler"):
        runner.client("tcp://127.0.0.1:9")


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 360
    values = 10 + np.sin(np.arange(n) * 2 * np.pi / 24) + rng.normal(0, 0.1, n)
    labels = np.zeros(n, dtype=int)
    labels[[150, 250, 300, 330]] = 1
    values[labels == 1] += 4
    split = np.array(["train"] * 220 + ["val"] * 60 + ["test"] * 80)
    index = pd.date_range("2024-01-01", periods=n, freq="h")
    return pd.DataFrame({"value": values, "is_anomaly": labels, "split": split}, index=index)


def _grid(scheduler: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small grid through the runner: a forecaster over two seeds and a deterministic baseline, and a
    rolling-origin selection over two seeds and two folds."""
    os.environ[runner.SCHEDULER_ENV] = scheduler
    try:
        frame = _frame()
        rules = {"val_mean_3sd": evaluation.rule_val_mean_k_sigma(3),
                 "trainval_best_f2": evaluation.rule_trainval_best_fbeta(2)}  # fmt: skip
        models = {
            "cnn": (lambda seed: CNNForecaster(lookback=24, filters=(8, 8), dense_units=8, epochs=3, seed=seed),
                    (0, 1), rules),
            "zscore": (lambda seed: RollingZScore(24), (None,), rules),
        }  # fmt: skip
        table, _ = evaluation.evaluate_series_grid(models, frame, dataset="synthetic", progress=False)
        selection = evaluation.select_variant({"cnn": models["cnn"]}, frame, first=160, n_folds=2,
                                              dataset="synthetic", progress=False)  # fmt: skip
    finally:
        del os.environ[runner.SCHEDULER_ENV]
    timing = table["metric"].isin(["fit_seconds", "score_seconds"])
    return table[~timing].reset_index(drop=True), selection


def _start_cli_cluster(tmp_path: Path) -> tuple[str, list]:
    dask = shutil.which("dask", path=str(Path(sys.executable).parent))
    if dask is None:
        pytest.fail("the `dask` command line is missing from the environment (install distributed).")
    scheduler_file = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    processes = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                   "--scheduler-file", str(scheduler_file), *common],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]  # fmt: skip
    deadline = time.time() + 60
    while not scheduler_file.exists() and time.time() < deadline:
        time.sleep(0.2)
    processes += [subprocess.Popen([dask, "worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                                    "--host", "127.0.0.1", *common],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]  # fmt: skip
    import json

    address = json.loads(scheduler_file.read_text())["address"]
    runner.client(address).wait_for_workers(2, timeout=60)
    return address, processes


def test_same_rows_serially_on_a_local_cluster_and_on_command_line_workers(tmp_path, local):
    serial_table, serial_selection = _grid("serial")
    assert set(serial_table["model"]) == {"cnn", "zscore"} and len(serial_selection)
    local_table, local_selection = _grid(local)
    pd.testing.assert_frame_equal(serial_table, local_table)
    pd.testing.assert_frame_equal(serial_selection, local_selection)
    address, processes = _start_cli_cluster(tmp_path)
    try:
        assert len(runner.client(address).scheduler_info()["workers"]) == 2
        cli_table, cli_selection = _grid(address)
    finally:
        runner.shutdown()
        for process in processes[::-1]:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
    pd.testing.assert_frame_equal(serial_table, cli_table)
    pd.testing.assert_frame_equal(serial_selection, cli_selection)
