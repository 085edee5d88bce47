"""What a saved directory may hold, checked before anything in it is read: a file from elsewhere is data.

- Every file a manifest names is a plain name inside the saved directory: no folder part, no ``..``, no
  absolute path, no symbolic link (:func:`member`).
- Every archive (``arrays.npz``, ``.skops``, ``.keras``) is a zip whose members are the kinds of file this package
  writes; the sizes the members declare (an ``.npy`` header's shape, an HDF5 dataset's shape) are added up and
  checked against a limit before any of them is read (:class:`Budget`), so a small file that expands to
  gigabytes, or a header that claims 10^11 values, is refused instead of allocated.
- skops may rebuild only the exact types in :data:`SKOPS_TYPES`, never a module prefix; Keras only the exact
  ``(module, class)`` pairs in :data:`KERAS_OBJECTS` (checked in ``config.json`` before Keras reads it, and Keras
  then loads with ``safe_mode=True``).

A refusal is an :class:`~anomalylab.errors.InputError` that names the file and what was refused.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import zipfile
from pathlib import Path

import numpy as np

from anomalylab.errors import InputError

DEFAULT_MAX_BYTES = 2 * 1024**3  # what one saved detector may expand to in memory (load(..., max_bytes=...))
MAX_MANIFEST_BYTES = 64 * 1024**2
MAX_DEPTH = 64  # nesting of a manifest's entries (the package writes fewer than 10 levels)
MAX_CONFIG_INT = 2**16  # a Keras layer's size argument (units, filters, ...) above this is refused
# the Keras config arguments that size a layer's weights or inputs
SIZE_KEYS = frozenset({"units", "filters", "kernel_size", "pool_size", "strides", "num_heads", "key_dim",
                       "value_dim", "n", "target_shape", "batch_shape", "shape", "input_dim", "output_dim"})
PLAIN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$")

# The types the package's saved scikit-learn/PyOD estimators need beyond skops' own default trust list (found
# with ``skops.io.get_untrusted_types`` on every estimator the package saves: tests/test_persistence.py).
SKOPS_TYPES = frozenset({
    "pyod.models.ecod.ECOD",
    "pyod.models.knn.KNN",
    "pyod.models.lof.LOF",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.tree._tree.Tree",
})  # fmt: skip

# Every (module, class_name) that a Keras network saved by this package names in its config.json.
_KERAS = {
    "keras": ["DTypePolicy", "FloatDTypePolicy"],
    "keras.initializers": ["GlorotUniform", "HeNormal", "HeUniform", "Ones", "Orthogonal", "RandomNormal",
                           "RandomUniform", "Zeros"],
    "keras.regularizers": ["L2", "L1", "L1L2"],
    "keras.optimizers": ["Adam"],
    "keras.layers": ["Activation", "Add", "Bidirectional", "Concatenate", "Conv1D", "Dense", "Dropout", "Flatten",
                     "GRU", "InputLayer", "LSTM", "LayerNormalization", "LeakyReLU", "MaxPooling1D",
                     "MultiHeadAttention", "Multiply", "RepeatVector", "Reshape", "TimeDistributed"],
    "keras.src.models.functional": ["Functional"],
    "keras.src.ops.numpy": ["Add", "Abs", "GetItem", "Mean", "Multiply", "Square", "Subtract", "Sum"],
    "anomalylab.models.layers": ["AdditiveAttentionPooling", "Clip", "ContrastiveScore", "GOADLoss"],
}  # fmt: skip
KERAS_OBJECTS = frozenset((module, name) for module, names in _KERAS.items() for name in names)
# class names Keras writes without a module: its own markers for tensors, tuples and shapes
KERAS_MARKERS = frozenset({"__keras_tensor__", "__tuple__", "__numpy__", "__bytes__", "__tensor__",
                           "__slice__", "__ellipsis__"})
KERAS_MEMBERS = frozenset({"metadata.json", "config.json", "model.weights.h5"})


def refuse(file: Path, what: str) -> InputError:
    return InputError(f"{file}: {what}; refusing to load it (a saved detector is data, never code). Load only "
                      "directories written by anomalylab's save(), or save the detector again.")  # fmt: skip


def member(directory: Path, name, kind: str, *, folder: bool = False) -> Path:
    """``directory / name`` when ``name`` is a plain name of a regular file (or folder) in ``directory``."""
    if not isinstance(name, str) or not PLAIN_NAME.match(name) or name in (".", "..") or ".." in name:
        raise refuse(directory / "detector.json", f"the {kind} entry {name!r} is not a plain file name inside "
                     "the saved directory")  # fmt: skip
    path = directory / name
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"{path} is missing; the saved detector is incomplete. Save it again.") from None
    if stat.S_ISLNK(mode):
        raise refuse(path, "it is a symbolic link")
    if folder and not stat.S_ISDIR(mode) or not folder and not stat.S_ISREG(mode):
        raise refuse(path, f"it is not a regular {'folder' if folder else 'file'}")
    return path


def read_manifest(file: Path) -> dict:
    """The parsed ``detector.json`` (size-capped, no symbolic link)."""
    try:
        info = os.lstat(file)
    except FileNotFoundError:
        raise InputError(f"{file.parent} is not a saved detector (no {file.name}); save one with "
                         "detector.save(path).") from None  # fmt: skip
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise refuse(file, "it is a symbolic link or not a regular file")
    if info.st_size > MAX_MANIFEST_BYTES:
        raise refuse(file, f"it is {info.st_size:,} bytes (at most {MAX_MANIFEST_BYTES:,})")
    try:
        manifest = json.loads(file.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{file} is corrupt ({exc}); save the detector again.") from None
    except RecursionError:
        raise refuse(file, "its JSON is nested too deeply") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{file} is corrupt (not a JSON object); save the detector again.")
    return manifest


class Budget:
    """Bytes that loading one saved detector may still allocate; every archive is charged before it is read."""

    def __init__(self, max_bytes: int):
        if not isinstance(max_bytes, int) or max_bytes < 1:
            raise InputError(f"max_bytes must be a positive whole number of bytes, got {max_bytes!r}.")
        self.max_bytes, self.used = max_bytes, 0

    def charge(self, file: Path, nbytes: int, what: str) -> None:
        self.used += nbytes
        if self.used > self.max_bytes:
            raise refuse(file, f"{what} declares {nbytes:,} bytes, which takes the detector past its limit of "
                         f"{self.max_bytes:,} bytes (pass a larger max_bytes to load() if you trust it)")


def _npy_nbytes(stream, file: Path, name: str, stored: int) -> int:
    """The bytes an ``.npy`` member declares in its header, checked against what the member holds."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"npy format version {version}")
    except (ValueError, SyntaxError, TypeError) as exc:
        raise refuse(file, f"member {name!r} has no readable array header ({exc})") from None
    if dtype.hasobject:
        raise refuse(file, f"member {name!r} holds Python objects (it would need pickle)")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > stored:
        raise refuse(file, f"member {name!r} declares {nbytes:,} bytes of data but holds {stored:,}")
    return nbytes


def _zip(file: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise refuse(file, f"it is not a readable zip archive ({exc})") from None


def check_npz(file: Path, budget: Budget, *, allowed_other: frozenset = frozenset()) -> None:
    """Charge every ``.npy`` member's declared size; refuse members of other kinds (but ``allowed_other``)."""
    with _zip(file) as archive:
        for info in archive.infolist():
            if info.filename in allowed_other:
                budget.charge(file, info.file_size, f"member {info.filename!r}")
                continue
            if not info.filename.endswith(".npy") or info.is_dir():
                raise refuse(file, f"member {info.filename!r} is not an .npy array")
            with archive.open(info) as stream:
                nbytes = _npy_nbytes(stream, file, info.filename, info.file_size)
            budget.charge(file, max(nbytes, info.file_size), f"array {info.filename!r}")


def check_skops(file: Path, budget: Budget) -> list[str]:
    """The types to trust when loading ``file``: refuses a file that needs any type outside the allow-list."""
    import skops.io as sio

    with _zip(file) as archive:
        names = set(archive.namelist())
    if "schema.json" not in names:
        raise refuse(file, "it has no schema.json (not a skops file)")
    check_npz(file, budget, allowed_other=frozenset(n for n in names if n.endswith(".json")))
    try:
        types = sio.get_untrusted_types(file=file)
    except Exception as exc:  # noqa: BLE001 (skops raises many kinds on a malformed schema)
        raise refuse(file, f"its skops schema is unreadable ({type(exc).__name__}: {exc})") from None
    refused = sorted(t for t in types if t not in SKOPS_TYPES)
    if refused:
        raise refuse(file, f"it names types this package never saves: {refused}")
    return list(types)


def _config_objects(node, file: Path, path: str = "") -> None:
    """Walk a Keras ``config.json``: every object it names must be listed, every size argument bounded."""
    if isinstance(node, dict):
        name = node.get("class_name")
        if isinstance(name, str):
            module = node.get("module")
            if module is None and name not in KERAS_MARKERS or module is not None and (module, name) not in \
                    KERAS_OBJECTS:  # fmt: skip
                raise refuse(file, f"its Keras config names {module}.{name} (at {path or 'top'}), which no network "
                             "of this package uses")  # fmt: skip
            registered = node.get("registered_name")
            if module == "anomalylab.models.layers" and registered != f"anomalylab>{name}":
                raise refuse(file, f"its Keras config registers {registered!r} for {name}")
        elif "class_name" in node:
            raise refuse(file, f"its Keras config has a class_name that is not a name (at {path or 'top'})")
        for key, value in node.items():
            if key in SIZE_KEYS:
                sizes = value if isinstance(value, list) else [value]
                big = [v for v in sizes if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_CONFIG_INT]
                if big:
                    raise refuse(file, f"its Keras config sets {key}={value} at {path or 'top'} (at most "
                                 f"{MAX_CONFIG_INT:,}: Keras would allocate such a size before any check)")
            _config_objects(value, file, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _config_objects(value, file, f"{path}/{i}")


def check_keras(file: Path, budget: Budget) -> None:
    """Refuse a ``.keras`` archive with other members, unlisted objects, or weights past the budget."""
    with _zip(file) as archive:
        infos = archive.infolist()
        extra = sorted(i.filename for i in infos if i.filename not in KERAS_MEMBERS)
        if extra or "config.json" not in archive.namelist():
            raise refuse(file, f"it is not a Keras archive as this package writes them (members {extra})")
        for info in infos:
            budget.charge(file, info.file_size, f"member {info.filename!r}")
        config_info = archive.getinfo("config.json")
        if config_info.file_size > MAX_MANIFEST_BYTES:
            raise refuse(file, "its config.json is too large")
        try:
            config = json.loads(archive.read("config.json"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise refuse(file, f"its config.json is not readable JSON ({type(exc).__name__})") from None
        _config_objects(config, file)
        if "model.weights.h5" in archive.namelist():
            with archive.open("model.weights.h5") as stream:
                _check_h5(stream, file, budget)


def _check_h5(stream, file: Path, budget: Budget) -> None:
    """Charge the sizes the weights' HDF5 datasets declare (a compressed dataset may expand far past its file)."""
    import io

    import h5py

    data = stream.read()
    try:
        with h5py.File(io.BytesIO(data), "r") as h5:
            sizes = []
            h5.visititems(lambda _, obj: sizes.append(obj.size * obj.dtype.itemsize)
                          if isinstance(obj, h5py.Dataset) else None)  # fmt: skip
    except (OSError, ValueError, TypeError) as exc:
        raise refuse(file, f"its weights are not a readable HDF5 file ({exc})") from None
    budget.charge(file, int(sum(sizes)), "its weights")
