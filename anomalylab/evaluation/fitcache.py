"""A cache of fits, so that rerunning a notebook after an edit of its prose, its rules or its figures costs minutes,
not the hours of its fits.

A task of the evaluation (one detector, one seed, one set of data: :func:`~anomalylab.evaluation.fit_and_score_table`,
:func:`~anomalylab.evaluation.fit_and_score`, NAB's per-series task, the search's candidates) returns the scores
it computed and the seconds it took. With ``ANOMALYLAB_FIT_CACHE`` set to a folder (``make`` sets it to
``build/fit-cache``), each such result is written there, and a later task with the same key reads it back instead
of fitting again. The key holds everything the result depends on:

- the detector as it is built for the task: its class and every constructor argument (a nested detector's too);
- the seed, and a digest of every array, frame and value handed to the task;
- the source of the task function and of the helpers it declares;
- the source of every module a detector can import (the layers up to ``models``: ``tests/test_layers.py`` keeps
  a detector from importing anything above them), the package's data files, the versions of the numerical
  libraries and whether the fixed numerics are on.

So an edit of a model, of the data or of a task refits; an edit of a threshold rule, a metric, a table or a notebook's
prose does not. A detector that cannot be described (a parameter that is a lambda, or an object of unknown type) is
fitted as if there were no cache. The times in the tables stay those of the fit that was measured; a run says how
many of its fits it read back. Entries are ``.npz`` files read with ``allow_pickle=False``: a cache folder is
data, never code; an entry that does not load, or does not match what the task expects, is refitted and rewritten.
Delete the folder to empty the cache; nothing else writes to it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from anomalylab import LAYERS
from anomalylab.config import fixed_numerics
from anomalylab.errors import InputError

CACHE_ENV = "ANOMALYLAB_FIT_CACHE"
FORMAT = 1
# the layers a detector may import (anomalylab.LAYERS up to and including models): their source is part of every key
DETECTOR_LAYERS = LAYERS[: LAYERS.index("models") + 1]
LIBRARIES = ("numpy", "scipy", "pandas", "scikit-learn", "tensorflow", "keras", "pyod", "statsmodels", "stumpy",
             "numba")  # fmt: skip
_PACKAGE = Path(__file__).resolve().parent.parent


class _Undescribable(Exception):
    """A value the key cannot describe: the task runs without the cache."""


def cache_dir() -> Path | None:
    """The cache folder ``ANOMALYLAB_FIT_CACHE`` names (created on first write), or None: no cache."""
    value = os.environ.get(CACHE_ENV, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise InputError(f"{CACHE_ENV}={value!r} is a file, not a folder; point it at a folder for the fit cache "
                         "(make uses build/fit-cache), or unset it to fit everything.")  # fmt: skip
    return path


@functools.cache
def code_fingerprint() -> str:
    """A digest of what every fit depends on besides its arguments: the source of the detector layers, the
    package's data files, the numerical libraries' versions and the fixed-numerics setting."""
    return package_fingerprint(_PACKAGE)


def package_fingerprint(package: Path) -> str:
    """:func:`code_fingerprint` of the package folder ``package``."""
    digest = hashlib.blake2b(digest_size=16)
    files = [package / "__init__.py"]
    for layer in DETECTOR_LAYERS:
        module = package / f"{layer}.py"
        files += [module] if module.is_file() else sorted((package / layer).rglob("*.py"))
    files += sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".txt", ".csv"))
    for file in files:
        digest.update(str(file.relative_to(package)).encode() + b"\0" + file.read_bytes() + b"\0")
    for library in LIBRARIES:
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{library}={version};".encode())
    digest.update(f"fixed_numerics={fixed_numerics()};format={FORMAT}".encode())
    return digest.hexdigest()


def _digest_array(array: np.ndarray) -> str:
    array = np.asarray(array)
    if array.dtype == object:
        return _digest_json([describe(v) for v in array.ravel().tolist()] + [list(array.shape)])
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _digest_json(value) -> str:
    return hashlib.blake2b(json.dumps(value, sort_keys=True).encode(), digest_size=16).hexdigest()


def describe(value):
    """A JSON-able description of ``value`` for the key: numbers, strings, containers, arrays and frames (by
    digest), dataclasses (by their fields, or the ``cache_fields`` they name), detectors and estimators (class and
    constructor arguments), classes and module-level functions (by name). Raises ``_Undescribable`` otherwise."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return repr(float(value))  # repr keeps every bit, and NaN and inf are JSON-able as text
    if isinstance(value, np.ndarray):
        return {"array": _digest_array(value)}
    if isinstance(value, pd.Series | pd.DataFrame | pd.Index):
        return _describe_pandas(value)
    if isinstance(value, tuple | list):
        return [describe(v) for v in value]
    if isinstance(value, Mapping):
        return {"mapping": sorted(([describe(k), describe(v)] for k, v in value.items()), key=json.dumps)}
    if isinstance(value, type):
        return {"class": f"{value.__module__}.{value.__qualname__}"}
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        if "<" in value.__qualname__:  # a lambda or a function defined in a function: its name says nothing
            raise _Undescribable(value.__qualname__)
        return {"function": f"{value.__module__}.{value.__qualname__}"}
    if dataclasses.is_dataclass(value):
        fields = getattr(value, "cache_fields", None) or [f.name for f in dataclasses.fields(value)]
        return {"dataclass": f"{type(value).__module__}.{type(value).__qualname__}",
                "fields": {name: describe(getattr(value, name)) for name in fields}}  # fmt: skip
    return _describe_object(value)


def _describe_pandas(value) -> dict:
    hashed = pd.util.hash_pandas_object(value, index=not isinstance(value, pd.Index)).to_numpy()
    names = list(map(str, value.columns)) if isinstance(value, pd.DataFrame) else [str(value.name)]
    dtypes = list(map(str, value.dtypes)) if isinstance(value, pd.DataFrame) else [str(value.dtype)]
    index = str(value.index.dtype) if not isinstance(value, pd.Index) else ""
    return {"pandas": type(value).__name__, "hash": _digest_array(hashed), "names": names, "dtypes": dtypes,
            "index": index}  # fmt: skip


def _describe_object(value):
    from anomalylab.models.base import Detector
    from anomalylab.models.persistence import _params

    cls = type(value)
    name = f"{cls.__module__}.{cls.__qualname__}"
    if isinstance(value, Detector):
        try:
            params = _params(value)
        except InputError as exc:
            raise _Undescribable(name) from exc
        return {"detector": name, "params": {k: describe(v) for k, v in params.items()}}
    if hasattr(value, "get_params"):  # a scikit-learn or PyOD estimator
        return {"estimator": name, "params": {k: describe(v) for k, v in value.get_params(deep=False).items()}}
    raise _Undescribable(name)


def _source(fn: Callable) -> str:
    return inspect.getsource(inspect.unwrap(fn))


def task_key(fn: Callable, helpers: tuple[Callable, ...], detector, seed, arguments: Mapping) -> str | None:
    """The key of one task, or None when something in it cannot be described."""
    try:
        described = {"detector": describe(detector), "seed": describe(seed),
                     "arguments": {k: describe(v) for k, v in sorted(arguments.items())}}  # fmt: skip
    except _Undescribable:
        return None
    sources = [_source(f) for f in (fn, *helpers)]
    return _digest_json({"task": f"{fn.__module__}.{fn.__qualname__}", "sources": sources, **described,
                         "code": code_fingerprint()})  # fmt: skip


def load(folder: Path, key: str) -> dict | None:
    """The result stored under ``key``, or None (absent, unreadable, or not a result this module wrote)."""
    file = folder / f"{key}.npz"
    if not file.is_file():
        return None
    try:
        with np.load(file, allow_pickle=False) as stored:
            meta = json.loads(str(stored["__meta__"]))
            if meta.get("format") != FORMAT or meta.get("key") != key:
                return None
            result = {name: stored[f"array:{name}"] for name in meta["arrays"]}
    except (OSError, EOFError, ValueError, KeyError, TypeError, json.JSONDecodeError, zipfile.BadZipFile):
        return None
    values = meta["values"]
    if not isinstance(values, dict):
        return None
    return {**result, **{k: (float(v[1]) if isinstance(v, list) and v[:1] == ["float"] else v)
                         for k, v in values.items()}}  # fmt: skip


def store(folder: Path, key: str, result: Mapping) -> bool:
    """Write ``result`` (a dict of arrays, numbers, strings and None) under ``key``, in one step (a half-written
    entry is never visible); returns False, writing nothing, for a result of any other shape."""
    arrays, values = {}, {}
    for name, value in result.items():
        if isinstance(value, np.ndarray) and value.dtype != object:
            arrays[name] = value
        elif value is None or isinstance(value, bool | str):
            values[name] = value
        elif isinstance(value, int | np.integer) and not isinstance(value, bool):
            values[name] = int(value)
        elif isinstance(value, float | np.floating):
            values[name] = ["float", repr(float(value))]
        else:
            return False
    meta = {"format": FORMAT, "key": key, "arrays": list(arrays), "values": values}
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{key}.", suffix=".npz.partial")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, __meta__=np.array(json.dumps(meta)), **{f"array:{k}": v for k, v in arrays.items()})
        os.replace(temporary, folder / f"{key}.npz")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def cached(*helpers: Callable):
    """Decorator for a task ``fn(make_detector, seed, ...) -> dict``: with the cache on, a task whose key is
    stored returns the stored result (with ``from_cache=True``), and a new result is stored. ``helpers`` are the
    functions outside the detector layers whose code decides the result (their source enters the key)."""

    def decorate(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def task(make_detector, seed, *args, **kwargs):
            folder = cache_dir()
            if folder is None:
                return fn(make_detector, seed, *args, **kwargs)
            bound = signature.bind(make_detector, seed, *args, **kwargs)  # a positional argument keys as its name
            arguments = dict(list(bound.arguments.items())[2:])
            detector = make_detector(seed)
            key = task_key(fn, helpers, detector, seed, arguments)
            stored = load(folder, key) if key else None
            if stored is not None:
                return {**stored, "from_cache": True}
            result = fn(lambda _seed: detector, seed, *args, **kwargs)  # the detector just described, not a new one
            if key:
                store(folder, key, result)
            return result

        task.helpers = helpers
        return task

    return decorate


def cache_note(results) -> str | None:
    """``"n of m fits read from the fit cache"`` for a run's task results, or None when none was."""
    hits = sum(1 for r in results if isinstance(r, Mapping) and r.get("from_cache"))
    return f"{hits} of {len(results)} fits read from the fit cache ({CACHE_ENV})" if hits else None


__all__ = ["CACHE_ENV", "cache_dir", "cache_note", "cached", "code_fingerprint", "describe", "load", "store",
           "task_key"]
