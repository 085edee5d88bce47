"""Independent tasks (a detector factory x a seed x some data) on ``dask.distributed``, results in task order.

Where the tasks run is one setting, ``ANOMALYLAB_DASK_SCHEDULER`` (or the ``scheduler`` argument):

- unset or ``local``: a ``LocalCluster`` of worker processes that this module starts on first use and stops when
  the Python process exits (or at :func:`shutdown`); one thread per worker, as many workers as usable cores
  (``ANOMALYLAB_DASK_WORKERS`` overrides the count); what the workers print goes to ``build/logs/dask-workers.log``;
- ``tcp://host:8786`` (any scheduler address): an existing cluster, started for example with
  ``dask scheduler`` and ``dask worker tcp://host:8786 --nthreads 1`` on each machine;
- ``serial``: every task in this process, one after another (for debugging, and for stepping through a notebook).

The numbers do not depend on the choice: every task builds its detector from its own seed (``config.set_seed``
runs inside each fit), TensorFlow and the BLAS pools use one thread in every worker when the caller runs
with the fixed numerics (``config.use_fixed_numerics``: LocalCluster workers inherit the setting, remote ones
switch it on before their first task), and results come back in the order of the task
list, whatever order they finish in. Data shared by every task (``shared``) go to each worker once (scatter), not
once per task. A failed task does not stop the others: :func:`run` waits for all of them, then raises
:class:`TaskError` naming every failed task and its error, with the other tasks' results attached.
"""

from __future__ import annotations

import atexit
import copy
import logging
import os
import random
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from anomalylab import paths
from anomalylab.config import fixed_numerics, use_fixed_numerics
from anomalylab.errors import AnomalyLabError, InputError

SCHEDULER_ENV = "ANOMALYLAB_DASK_SCHEDULER"
WORKER_LOG = paths.BUILD_DIR / "logs" / "dask-workers.log"  # what LocalCluster workers print
WORKERS_ENV = "ANOMALYLAB_DASK_WORKERS"
TIMEOUT_ENV = "ANOMALYLAB_TASK_TIMEOUT"
CONNECT_TIMEOUT_ENV = "ANOMALYLAB_DASK_TIMEOUT"  # seconds to wait for a scheduler address to answer (default 20)

_clients: dict[str, object] = {}  # scheduler setting -> dask Client (and its LocalCluster) of this process


@dataclass(frozen=True)
class Task:
    """One independent piece of work: ``fn(**kwargs, **shared)``.

    ``name`` says which task it is (``"deepant seed 3"``) in the progress bar and in errors. ``fn`` must be
    importable or picklable by cloudpickle (a module function, or a notebook's lambda).
    """

    name: str
    fn: Callable
    kwargs: Mapping = field(default_factory=dict)


class TaskError(AnomalyLabError, RuntimeError):
    """Some tasks failed. ``failures`` maps each failed task's position to ``(name, error text)``;
    ``results`` holds every task's result in task order (``None`` where it failed)."""

    def __init__(self, failures: dict[int, tuple[str, str]], results: list):
        self.failures, self.results = failures, results
        lines = [f"  task {i} ({name}): {error}" for i, (name, error) in failures.items()]
        super().__init__(f"{len(failures)} of {len(results)} tasks failed; the others' results are kept in "
                         "`.results`:\n" + "\n".join(lines))  # fmt: skip


def scheduler_setting(scheduler: str | None = None) -> str:
    """``serial``, ``local`` or a scheduler address: the argument, else ``ANOMALYLAB_DASK_SCHEDULER``, else
    ``local``."""
    setting = (scheduler if scheduler is not None else os.environ.get(SCHEDULER_ENV, "")).strip() or "local"
    if setting in ("serial", "local") or "://" in setting:
        return setting
    raise InputError(f"{SCHEDULER_ENV}={setting!r} is not a scheduler: use 'serial', 'local' (a LocalCluster "
                     "of this machine's cores) or a scheduler address such as tcp://host:8786.")  # fmt: skip


def n_workers() -> int:
    """Workers of the LocalCluster: ``ANOMALYLAB_DASK_WORKERS`` if set, else the cores this process may use."""
    value = os.environ.get(WORKERS_ENV, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise InputError(f"{WORKERS_ENV} must be a positive whole number, got {value!r}.")
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _in_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def client(scheduler: str | None = None):
    """The dask ``Client`` for a setting (``local`` or an address), created on first use and kept for this
    process; ``None`` for ``serial``."""
    setting = scheduler_setting(scheduler)
    if setting == "serial":
        return None
    if setting in _clients:
        return _clients[setting]
    from anomalylab.extras import require

    require("distributed", what="the Dask runner (or ANOMALYLAB_DASK_SCHEDULER=serial)")
    from distributed import Client, LocalCluster

    if setting == "local":
        cluster = LocalCluster(n_workers=n_workers(), threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=logging.ERROR)  # fmt: skip
        _clients[setting] = Client(cluster)
        _clients[setting].register_plugin(_worker_log(WORKER_LOG))
    else:
        _clients[setting] = _connect(setting)
    return _clients[setting]


def _connect(address: str):
    """A Client of the scheduler at ``address``, or a clear error within the time limit: a server that is not a
    Dask scheduler (one that never answers, or answers HTTP) must not hang the run or exhaust memory."""
    import socket
    from urllib.parse import urlsplit

    from distributed import Client

    limit = _seconds(CONNECT_TIMEOUT_ENV, None) or 20.0
    hint = (f"start a scheduler with `dask scheduler` and workers with `dask worker {address} --nthreads 1`, or "
            f"unset {SCHEDULER_ENV} to use a LocalCluster.")  # fmt: skip
    parts = urlsplit(address)
    if parts.scheme == "tcp" and parts.hostname:
        try:
            socket.create_connection((parts.hostname, parts.port or 8786), timeout=limit).close()
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot reach the dask scheduler at {address} ({exc}); {hint}") from None
    outcome: dict = {}

    def connect() -> None:
        try:
            outcome["client"] = Client(address, timeout=f"{limit}s")
        except BaseException as exc:  # noqa: BLE001 (MemoryError included: reported below, never swallowed)
            outcome["error"] = exc

    thread = threading.Thread(target=connect, name="anomalylab-dask-connect", daemon=True)
    thread.start()
    thread.join(limit + 5)
    if "client" in outcome:
        return outcome["client"]
    error = outcome.get("error")
    what = "did not answer as a Dask scheduler" if error is None or isinstance(error, MemoryError) else "failed"
    detail = "" if error is None else f" ({type(error).__name__}: {str(error)[:200]})"
    raise InputError(f"{SCHEDULER_ENV}={address} {what} within {limit:g} s{detail}; is it a Dask scheduler's "
                     f"address? {hint}")


def _worker_log(path: Path):
    """A dask WorkerPlugin that sends a LocalCluster worker's own output (TensorFlow's start-up lines, library
    warnings) to ``path`` instead of the notebook, where Jupyter would show every worker's lines under the cell
    that runs the tasks. A task's error still reaches the caller, with its traceback, through
    :class:`TaskError`."""
    from distributed import WorkerPlugin

    class WorkerLog(WorkerPlugin):
        name = "anomalylab-worker-log"

        def setup(self, worker) -> None:  # noqa: ARG002 (dask's WorkerPlugin interface)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)

    return WorkerLog()


def shutdown() -> None:
    """Close this process's clients and stop the LocalCluster it started (an existing cluster keeps running)."""
    for setting in list(_clients):
        c = _clients.pop(setting)
        cluster = getattr(c, "cluster", None)
        c.close()
        if setting == "local" and cluster is not None:
            cluster.close()


atexit.register(shutdown)


class _ThreadRandom(threading.local):
    """One ``random.Random`` per thread (made on a thread's first use)."""

    def __init__(self):
        self.generator = random.Random()


_thread_random: _ThreadRandom | None = None


def _per_thread(name: str):
    return lambda *args, **kwargs: getattr(_thread_random.generator, name)(*args, **kwargs)


def isolate_python_random() -> None:
    """Give every thread of this process its own stream behind the ``random`` module's functions.

    A dask worker's own threads (its event loop, heartbeats) draw from Python's global ``random`` while a task
    runs, and Keras draws the default seeds of its layers from that same stream after ``config.set_seed`` has
    seeded it. Without this, a task's weights would depend on how many draws the worker made meanwhile (seen:
    the same fold of the same variant scored differently in one LocalCluster run out of three). The runner calls
    this in worker processes only; in-process (``serial``) runs need it not, and each thread's stream, once
    seeded, gives the numbers the global stream would.
    """
    global _thread_random
    if _thread_random is not None:
        return
    _thread_random = _ThreadRandom()
    for name in ("seed", "getstate", "setstate", "random", "uniform", "triangular", "randint", "choice", "randrange",
                 "sample", "shuffle", "choices", "normalvariate", "lognormvariate", "expovariate", "vonmisesvariate",
                 "gammavariate", "gauss", "betavariate", "paretovariate", "weibullvariate", "getrandbits",
                 "randbytes", "binomialvariate"):  # fmt: skip
        if hasattr(random, name):
            setattr(random, name, _per_thread(name))


_copies: dict[tuple, dict] = {}  # in a worker: the realigned copy of the current run's shared data


def _call(fn: Callable, kwargs: Mapping, shared: Mapping, keys: tuple = (), fixed: bool = False):
    """Run one task. In a worker, the shared data and the task's arguments arrive as buffers that dask's
    serialisation may place at any byte offset (seen: float32 rows at offsets 23 and 45 modulo 64), and BLAS
    kernels group their sums by alignment: scikit-learn's PCA then scored differently in the last bits than
    in-process. So a worker works on deep copies, which NumPy allocates as it does in-process; the shared data are
    copied once per worker and run (``keys`` names them)."""
    if _in_worker():
        if fixed:  # the caller runs with the fixed numerics: so does this worker (a remote one did not inherit it)
            use_fixed_numerics()
        isolate_python_random()
        if keys not in _copies:
            _copies.clear()
            _copies[keys] = copy.deepcopy(dict(shared))
        shared, kwargs = _copies[keys], copy.deepcopy(dict(kwargs))
    return fn(**kwargs, **shared)


def _seconds(variable: str, given: float | None) -> float | None:
    """``given``, else the environment variable ``variable``, as a positive finite number of seconds (``None``
    when neither is set); a clear error otherwise."""
    if given is None:
        value = os.environ.get(variable, "").strip()
        if not value:
            return None
        try:
            given = float(value)
        except ValueError:
            raise InputError(f"{variable} must be a number of seconds, got {value!r}.") from None
    if not 0 < given < float("inf"):
        raise InputError(f"{variable} must be a positive number of seconds, got {given!r}.")
    return float(given)


def task_timeout_setting(task_timeout: float | None = None) -> float | None:
    """Seconds a cluster run may go without any task finishing: the argument, else ``ANOMALYLAB_TASK_TIMEOUT``,
    else no limit."""
    return _seconds(TIMEOUT_ENV, task_timeout)


def _as_finished(dask_client, futures: list, limit: float | None):
    """Yield ``(future, timed_out)`` as futures finish; when none finishes within ``limit`` seconds, cancel the
    rest and yield them as timed out: a task that never returns cannot block a run forever."""
    from distributed import wait

    pending = set(futures)
    while pending:
        try:
            done, pending = wait(pending, timeout=limit, return_when="FIRST_COMPLETED")
        except TimeoutError:
            done = set()
        if not done:
            stuck = sorted(pending, key=lambda f: f.key)
            dask_client.cancel(stuck, force=True)
            for future in stuck:
                yield future, True
            return
        for future in sorted(done, key=lambda f: f.key):
            yield future, False


def run(
    tasks: Sequence[Task],
    *,
    shared: Mapping | None = None,
    desc: str = "tasks",
    progress: bool = True,
    scheduler: str | None = None,
    task_timeout: float | None = None,
) -> list:
    """Run every task and return their results in the order of ``tasks``.

    ``shared`` (name -> object) is passed to every task as keyword arguments; on a cluster each object is
    sent to every worker once. One progress bar counts finished tasks. Inside a dask worker (a task that runs
    tasks) everything runs serially in that worker. On a cluster, ``task_timeout`` (or ``ANOMALYLAB_TASK_TIMEOUT``,
    seconds) is how long the run may go without any task finishing; the tasks still running then are cancelled
    and reported in :class:`TaskError` (a serial run cannot interrupt its own process and ignores it).
    """
    tasks = list(tasks)
    shared = dict(shared or {})
    for task in tasks:
        if not isinstance(task, Task):
            raise InputError(f"run() takes a list of runner.Task, got {type(task).__name__}.")
        clash = set(task.kwargs) & set(shared)
        if clash:
            raise InputError(f"task {task.name!r} passes {sorted(clash)}, which `shared` passes too.")
    results: list = [None] * len(tasks)
    failures: dict[int, tuple[str, str]] = {}
    bar = tqdm(total=len(tasks), desc=desc, disable=not progress or len(tasks) < 2, leave=False)
    dask_client = None if _in_worker() else client(scheduler)
    if dask_client is None:
        for i, task in enumerate(tasks):
            try:
                results[i] = _call(task.fn, task.kwargs, shared)
            except Exception as exc:  # noqa: BLE001 (reported with the task's name below, never swallowed)
                failures[i] = (task.name, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            bar.update()
    else:
        # one future per shared object (scatter would split a dict or list into one future per item)
        scattered = {k: dask_client.scatter([v], broadcast=True, hash=False)[0] for k, v in shared.items()}
        run_id = uuid.uuid4().hex[:8]
        keys = tuple(f.key for f in scattered.values()) or (run_id,)
        futures = [dask_client.submit(_call, task.fn, task.kwargs, scattered, keys, fixed_numerics(),
                                      key=f"{desc}-{run_id}-{i}", pure=False)
                   for i, task in enumerate(tasks)]  # fmt: skip
        position = {f.key: i for i, f in enumerate(futures)}
        limit = task_timeout_setting(task_timeout)
        for future, timed_out in _as_finished(dask_client, futures, limit):
            i = position[future.key]
            if timed_out:
                failures[i] = (tasks[i].name, f"TimeoutError: no task finished within {limit:g} s ({TIMEOUT_ENV}); "
                               "this one was still running or waiting, and was cancelled.")
                bar.update()
                continue
            if future.status == "finished":
                results[i] = copy.deepcopy(future.result())  # arrays in NumPy's own allocation, as in-process
            else:
                exc = future.exception()
                trace = "".join(traceback.format_tb(future.traceback())) if future.traceback() else ""
                failures[i] = (tasks[i].name, f"{type(exc).__name__}: {exc}\n{trace}")
            future.release()
            bar.update()
        for f in scattered.values():
            f.release()
    bar.close()
    if failures:
        raise TaskError(failures, results)
    return results
