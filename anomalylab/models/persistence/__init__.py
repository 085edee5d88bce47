"""Save a fitted detector to a directory and load it back: no pickle, and a file from elsewhere is data, never code.

``save(detector, path)`` writes a directory:

- ``detector.json``: the format and its version, the class, the constructor arguments and the fitted state
  (attributes ending in ``_``), every value as JSON or as a reference to one of the files below, and (top level
  only) the list of every file of the directory with its size and SHA-256;
- ``arrays.npz``: every NumPy array (read back with ``allow_pickle=False``);
- ``*.keras``: every Keras network in Keras' native format (the package's own layers are registered in
  :mod:`anomalylab.models.layers`; networks with their own training step, the VAE and the BiGAN, are stored as
  their functional parts and reassembled);
- ``*.skops``: every scikit-learn or PyOD estimator in skops' format (JSON schema + arrays);
- a subdirectory per nested detector (a window detector's inner detector, the hybrid's autoencoder);
- any small JSON files the caller adds (``extra``; the command line keeps its threshold there).

``load(path)`` rebuilds only classes of this package (a fixed list), and before reading a file it checks what
:mod:`~anomalylab.models.persistence.safety` describes: names confined to the directory (no ``..``, absolute
path or symbolic link), archives whose declared sizes fit ``max_bytes``, skops and Keras objects from exact
allow-lists (Keras also with ``safe_mode=True``). Saving never deletes a file it did not write, and swaps old for
new in one step (:mod:`~anomalylab.models.persistence.place`). Scores after loading equal the scores before, bit
for bit (``tests/test_persistence.py``); the hostile files are in ``tests/test_persistence_safety.py``.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from anomalylab.errors import InputError
from anomalylab.models.persistence import place, safety
from anomalylab.models.persistence.place import FORMAT, MANIFEST
from anomalylab.models.persistence.safety import DEFAULT_MAX_BYTES
from anomalylab.models.registry import DETECTORS

VERSION = 2  # 2 added the file list; version 1 directories still load
READS = (1, 2)
_SKIP = {"encoder_"}  # caches rebuilt on demand (DenseAutoencoder.encode)
STATE_NAME = re.compile(r"^[a-z][a-z0-9_]*_$")
EXTRA_NAME = re.compile(r"^[a-z][a-z0-9_-]*\.json$")

__all__ = ["DEFAULT_MAX_BYTES", "Persistable", "load", "read_extra", "save"]


def _classes() -> dict[str, type]:
    """The classes ``load`` may rebuild: the registered detectors (:mod:`anomalylab.models.registry`, filled by
    subclassing :class:`~anomalylab.models.base.Detector`) and the parts they hold, nothing else."""
    from anomalylab.preprocessing import Winsorizer

    return {**DETECTORS, "Winsorizer": Winsorizer}


def _is_estimator(value) -> bool:
    module = type(value).__module__
    return module.startswith(("sklearn.", "pyod.")) and hasattr(value, "get_params")


def _is_keras_model(value) -> bool:
    keras = sys.modules.get("keras")  # a Keras model exists only once Keras is imported
    return keras is not None and isinstance(value, keras.Model)


class _Writer:
    def __init__(self, root: Path):
        self.root, self.arrays, self.count = root, {}, 0

    def _key(self, stem: str) -> str:
        self.count += 1
        return f"{self.count:03d}_{re.sub(r'[^A-Za-z0-9_]', '_', stem).strip('_') or 'value'}"

    def encode(self, value, stem: str):
        if value is None or isinstance(value, bool | int | float | str):
            return {"json": value}
        if isinstance(value, np.generic):
            return {"json": value.item()}
        if isinstance(value, tuple | list):
            return {"tuple" if isinstance(value, tuple) else "list": [self.encode(v, stem) for v in value]}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise InputError(f"cannot save {stem!r}: a dict with non-string keys.")
            return {"dict": {k: self.encode(v, f"{stem}_{k}") for k, v in value.items()}}
        if isinstance(value, np.ndarray):
            if value.dtype == object:
                raise InputError(f"cannot save {stem!r}: an array of Python objects (it would need pickle).")
            key = self._key(stem)
            self.arrays[key] = value
            return {"array": key}
        if _classes().get(type(value).__name__) is type(value):
            sub = self._key(stem)
            _dump(value, self.root / sub)
            return {"object": sub}
        if _is_estimator(value):
            import skops.io as sio

            file = self._key(stem) + ".skops"
            sio.dump(value, self.root / file, compression=zipfile.ZIP_DEFLATED)
            return {"skops": file}
        if _is_keras_model(value):
            return self._keras(value, stem)
        raise InputError(f"cannot save {stem!r} of type {type(value).__name__}: no safe format for it.")

    def _keras(self, model, stem: str) -> dict:
        parts = getattr(model, "anomalylab_parts", None)
        if parts:  # a model with its own training step: its functional parts, reassembled by the detector
            return {"keras_parts": {p: self._keras(getattr(model, p), f"{stem}_{p}") for p in parts}}
        file = self._key(stem) + ".keras"
        model.save(self.root / file)
        node = {"keras": file}
        if getattr(model, "attention_model", None) is not None:
            node["attention_model"] = self._keras(model.attention_model, f"{stem}_attention")["keras"]
        return node


def _params(obj, cls: type | None = None) -> dict:
    """The constructor arguments of ``obj``, read back from its attributes. A subclass that passes ``**kwargs``
    on to its parent's constructor (and keeps no attribute of that name) gets the parent's arguments too."""
    cls = type(obj) if cls is None else cls
    out = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD and not hasattr(obj, name):
            parent = next(c for c in cls.__mro__[1:] if "__init__" in vars(c))
            out = {**_params(obj, parent), **out}
            continue
        if not hasattr(obj, name):
            raise InputError(f"cannot save {type(obj).__name__}: its argument {name!r} is not kept as an attribute.")
        out[name] = getattr(obj, name)
    return out


def _dump(obj, directory: Path) -> dict:
    directory.mkdir(parents=True)
    writer = _Writer(directory)
    state = {k: v for k, v in vars(obj).items() if k.endswith("_") and not k.startswith("_") and k not in _SKIP}
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "class": type(obj).__name__,
        "params": writer.encode(_params(obj), "param"),
        "state": writer.encode(state, "state"),
    }
    if writer.arrays:
        np.savez(directory / "arrays.npz", **writer.arrays)
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=1, allow_nan=True) + "\n")
    return manifest


def save(detector, path, *, extra: Mapping[str, dict] | None = None) -> Path:
    """Write fitted (or unfitted) ``detector`` to the directory ``path`` (see the module docstring).

    ``path`` must be new, an empty folder, or a detector that this function saved and nobody changed since (it
    is then replaced in one step); a folder holding anything else is refused, and nothing in it is touched.
    ``extra`` maps file names (``name.json``) to JSON objects saved beside the detector (:func:`read_extra`).
    """
    if type(detector).__name__ not in _classes():
        raise InputError(f"save() stores the package's detectors only, not {type(detector).__name__}.")
    extra = dict(extra or {})
    for name, value in extra.items():
        if not isinstance(name, str) or not EXTRA_NAME.match(name) or name == MANIFEST:
            raise InputError(f"an extra file is named like 'threshold.json' (lower-case, .json), got {name!r}.")
        if not isinstance(value, dict):
            raise InputError(f"extra file {name!r} must hold a dict, got {type(value).__name__}.")
    target = Path(path)
    with place.staged(target) as new:
        manifest = _dump(detector, new)
        for name, value in extra.items():
            (new / name).write_text(json.dumps(value, allow_nan=False) + "\n")
        manifest["files"] = place.file_list(new)
        (new / MANIFEST).write_text(json.dumps(manifest, indent=1, allow_nan=True) + "\n")
    return target


class _Reader:
    def __init__(self, root: Path, budget: safety.Budget, depth: int):
        self.root, self.budget, self.depth, self.seen = root, budget, depth, set()
        self.arrays = None

    def _once(self, kind: str, name) -> None:
        if (kind, name) in self.seen:  # a legitimate manifest names every array and file once
            raise safety.refuse(self.root / MANIFEST, f"it names the {kind} {name!r} twice")
        self.seen.add((kind, name))

    def _array(self, key):
        if self.arrays is None:
            file = safety.member(self.root, "arrays.npz", "arrays")
            safety.check_npz(file, self.budget)
            self.arrays = np.load(file, allow_pickle=False)
        if not isinstance(key, str) or key not in self.arrays.files:
            raise safety.refuse(self.root / MANIFEST, f"it names an array {key!r} that arrays.npz does not hold")
        self._once("array", key)
        return self.arrays[key]

    def decode(self, node, depth: int = 0):
        if depth > safety.MAX_DEPTH:
            raise safety.refuse(self.root / MANIFEST, "its entries are nested too deeply")
        if not isinstance(node, dict) or not node:
            raise safety.refuse(self.root / MANIFEST, f"an entry is not a one-key object: {str(node)[:80]}")
        (kind, value), *rest = node.items()
        if kind == "json":
            if isinstance(value, dict | list):
                raise safety.refuse(self.root / MANIFEST, "a 'json' entry holds a container")
            return value
        if kind in ("tuple", "list"):
            if not isinstance(value, list):
                raise safety.refuse(self.root / MANIFEST, f"a {kind!r} entry is not a list")
            items = [self.decode(v, depth + 1) for v in value]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            if not isinstance(value, dict):
                raise safety.refuse(self.root / MANIFEST, "a 'dict' entry is not an object")
            return {k: self.decode(v, depth + 1) for k, v in value.items()}
        if kind == "array":
            return self._array(value)
        if kind == "object":
            self._once("folder", value)
            return _load(safety.member(self.root, value, "object", folder=True), self.budget, self.depth + 1)
        if kind == "skops":
            self._once("file", value)
            return _load_skops(safety.member(self.root, value, "skops"), self.budget)
        if kind == "keras":
            self._once("file", value)
            model = _load_keras(safety.member(self.root, value, "keras"), self.budget)
            if rest:
                self._once("file", rest[0][1])
                model.attention_model = _load_keras(safety.member(self.root, rest[0][1], "keras"), self.budget)
            return model
        if kind == "keras_parts":
            if not isinstance(value, dict):
                raise safety.refuse(self.root / MANIFEST, "a 'keras_parts' entry is not an object")
            return {"keras_parts": {p: self.decode(v, depth + 1) for p, v in value.items()}}
        raise InputError(f"{self.root / MANIFEST}: unknown entry {kind!r}; was it written by a newer anomalylab?")


def _load_skops(file: Path, budget: safety.Budget):
    import skops.io as sio

    trusted = safety.check_skops(file, budget)
    try:
        return sio.load(file, trusted=trusted)
    except Exception as exc:  # noqa: BLE001 (skops raises many kinds on a malformed file)
        raise safety.refuse(file, f"skops could not rebuild it ({type(exc).__name__}: {exc})") from None


def _load_keras(file: Path, budget: safety.Budget):
    safety.check_keras(file, budget)
    from anomalylab.config import configure_tensorflow

    configure_tensorflow()  # deterministic ops (and fixed threads when fixed numerics are on) before loading
    import keras

    import anomalylab.models.layers  # noqa: F401 (registers the package's layers)

    try:
        return keras.saving.load_model(file, safe_mode=True, compile=False)
    except Exception as exc:  # noqa: BLE001 (Keras raises many kinds on a malformed file)
        raise safety.refuse(file, f"Keras could not rebuild it ({type(exc).__name__}: {exc})") from None


def _load(directory: Path, budget: safety.Budget, depth: int = 0):
    if depth > 8:
        raise safety.refuse(directory, "its detectors are nested too deeply")
    manifest_file = directory / MANIFEST
    manifest = safety.read_manifest(manifest_file)
    if manifest.get("format") != FORMAT:
        raise InputError(f"{manifest_file} is not an anomalylab detector (format {manifest.get('format')!r}).")
    if manifest.get("version") not in READS:
        raise InputError(f"{manifest_file} has format version {manifest.get('version')}; this anomalylab reads "
                         f"versions {READS}. Save it again with this version.")  # fmt: skip
    classes = _classes()
    name = manifest.get("class")
    if not isinstance(name, str) or name not in classes:
        raise InputError(f"{manifest_file} names class {name!r}, which is not a detector of this package.")
    cls = classes[name]
    reader = _Reader(directory, budget, depth)
    params = reader.decode(manifest.get("params", {"dict": {}}))
    state = reader.decode(manifest.get("state", {"dict": {}}))
    if not isinstance(params, dict) or not isinstance(state, dict):
        raise safety.refuse(manifest_file, "its params or state is not an object")
    signature = inspect.signature(cls.__init__).parameters
    var_kw = next((n for n, p in signature.items() if p.kind is p.VAR_KEYWORD), None)
    kwargs = params.pop(var_kw, {}) if var_kw else {}
    unknown = sorted(set(params) & {"self"} | (set() if var_kw else set(params) - set(signature)))
    if unknown or not isinstance(kwargs, dict):
        raise safety.refuse(manifest_file, f"it passes {name} arguments it does not take: {unknown}")
    try:
        obj = cls(**params, **kwargs)
    except (TypeError, ValueError) as exc:
        raise safety.refuse(manifest_file, f"{name} refused its saved arguments ({exc})") from None
    for key, value in state.items():
        if not STATE_NAME.match(key):
            raise safety.refuse(manifest_file, f"its state sets {key!r}, which is not a fitted attribute")
        if isinstance(value, dict) and set(value) == {"keras_parts"}:
            value = obj._assemble_model(**value["keras_parts"])
        setattr(obj, key, value)
    return obj


def load(path, *, max_bytes: int = DEFAULT_MAX_BYTES):
    """The detector saved in ``path`` by :func:`save`, ready to score.

    ``max_bytes`` caps what its files may expand to in memory (declared sizes are checked before reading).
    """
    directory = Path(path)
    if not directory.exists():
        raise InputError(f"{directory} does not exist; pass the directory that detector.save(path) wrote.")
    if not directory.is_dir():
        raise InputError(f"{directory} is a file; pass the directory that detector.save(path) wrote.")
    return _load(directory, safety.Budget(max_bytes))


def read_extra(path, name: str) -> dict | None:
    """The JSON object saved as ``name`` beside the detector in ``path`` (``None`` when there is none).

    Size-capped, no symbolic link, and no NaN or Infinity: what it holds is checked by the caller.
    """
    directory = Path(path)
    if not EXTRA_NAME.match(name):
        raise InputError(f"an extra file is named like 'threshold.json', got {name!r}.")
    if not (directory / name).exists() and not (directory / name).is_symlink():
        return None
    file = safety.member(directory, name, "extra")
    if file.stat().st_size > 1024**2:
        raise safety.refuse(file, "it is larger than 1 MiB")

    def no_constant(text):
        raise ValueError(f"{text} is not a number JSON allows")

    try:
        value = json.loads(file.read_bytes(), parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{file} is not valid JSON ({exc}); save the detector again.") from None
    if not isinstance(value, dict):
        raise InputError(f"{file} must hold a JSON object, got {type(value).__name__}; save the detector again.")
    return value


class Persistable:
    """``save(path)`` and ``load(path)`` for a detector class (see :mod:`anomalylab.models.persistence`)."""

    def save(self, path, *, extra: Mapping[str, dict] | None = None) -> Path:
        """Write this detector to the directory ``path`` (no pickle); :meth:`load` reads it back."""
        return save(self, path, extra=extra)

    @classmethod
    def load(cls, path, *, max_bytes: int = DEFAULT_MAX_BYTES):
        """The detector saved in ``path``; refuses a directory that holds another class."""
        obj = load(path, max_bytes=max_bytes)
        if not isinstance(obj, cls):
            raise InputError(f"{path} holds a {type(obj).__name__}, not a {cls.__name__}; use "
                             f"anomalylab.models.load(path) to load any detector.")  # fmt: skip
        return obj
