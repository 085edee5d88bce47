"""Save a fitted detector to a directory and load it back, with no pickle anywhere.

``save(detector, path)`` writes a directory:

- ``detector.json``: the format and its version, the class, the constructor arguments and the fitted state
  (attributes ending in ``_``), every value as JSON or as a reference to one of the files below;
- ``arrays.npz``: every NumPy array (``np.load(..., allow_pickle=False)`` reads it back);
- ``*.keras``: every Keras network in Keras' native format, loaded with ``safe_mode=True`` (the package's own
  layers are registered in :mod:`anomalylab.models.layers`; networks with their own training step, the VAE and
  the BiGAN, are stored as their functional parts and reassembled);
- ``*.skops``: every scikit-learn or PyOD estimator in skops' format (JSON schema + arrays, no pickle); loading
  trusts only types from scikit-learn, PyOD, NumPy and SciPy and refuses any other;
- a subdirectory per nested detector (a window detector's inner detector, the hybrid's autoencoder).

``load(path)`` rebuilds only classes of this package (a fixed list) and checks the format version. The
directory is written beside its target and renamed into place when complete, so an interrupted save leaves
nothing half-written. Scores after loading equal the scores before, bit for bit (``tests/test_persistence.py``).
"""

from __future__ import annotations

import functools
import inspect
import json
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from anomalylab.errors import InputError

FORMAT = "anomalylab-detector"
VERSION = 1
MANIFEST = "detector.json"
TRUSTED_PREFIXES = ("sklearn.", "pyod.", "numpy.", "scipy.", "builtins.")
_SKIP = {"encoder_"}  # caches rebuilt on demand (DenseAutoencoder.encode)


@functools.cache
def _classes() -> dict[str, type]:
    """The classes ``load`` may rebuild: the package's detectors and their parts, nothing else."""
    from anomalylab.models import (
        autoencoders,
        classical,
        forecasters,
        gan,
        hybrid,
        selfsupervised,
        series_baselines,
        windows,
    )  # fmt: skip
    from anomalylab.preprocessing import Winsorizer

    found = {"Winsorizer": Winsorizer}
    for module in (autoencoders, classical, forecasters, gan, hybrid, selfsupervised, series_baselines, windows):
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and cls.__module__ == module.__name__ and not name.startswith("_"):
                found[name] = cls
    return found


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
        return f"{self.count:03d}_{stem.strip('_') or 'value'}"

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


def _dump(obj, directory: Path) -> None:
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


def save(detector, path) -> Path:
    """Write fitted (or unfitted) ``detector`` to the directory ``path`` (see the module docstring).

    ``path`` must not exist yet, or be a directory this function wrote before (it is then replaced).
    """
    if type(detector).__name__ not in _classes():
        raise InputError(f"save() stores the package's detectors only, not {type(detector).__name__}.")
    target = Path(path)
    if target.exists() and not (target / MANIFEST).is_file():
        raise InputError(f"{target} exists and is not a saved detector; choose a new path or remove it first.")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        _dump(detector, staging / "d")
        if target.exists():
            shutil.rmtree(target)
        (staging / "d").rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


class _Reader:
    def __init__(self, root: Path):
        self.root = root
        self.arrays = np.load(root / "arrays.npz", allow_pickle=False) if (root / "arrays.npz").exists() else {}

    def decode(self, node):
        (kind, value), *rest = node.items()
        if kind == "json":
            return value
        if kind in ("tuple", "list"):
            items = [self.decode(v) for v in value]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {k: self.decode(v) for k, v in value.items()}
        if kind == "array":
            return self.arrays[value]
        if kind == "object":
            return _load(self.root / value)
        if kind == "skops":
            return _load_skops(self.root / value)
        if kind == "keras":
            model = _load_keras(self.root / value)
            if rest:
                model.attention_model = _load_keras(self.root / rest[0][1])
            return model
        if kind == "keras_parts":
            return {"keras_parts": {p: self.decode(v) for p, v in value.items()}}
        raise InputError(f"{self.root / MANIFEST}: unknown entry {kind!r}; was it written by a newer anomalylab?")


def _load_skops(file: Path):
    import skops.io as sio

    types = sio.get_untrusted_types(file=file)
    refused = [t for t in types if not t.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise InputError(f"{file} holds types outside scikit-learn/PyOD/NumPy/SciPy: {refused}; refusing to load.")
    return sio.load(file, trusted=types)


def _load_keras(file: Path):
    from anomalylab.config import configure_tensorflow

    configure_tensorflow()  # threads fixed before TensorFlow starts: same scores as the process that saved it
    import keras

    import anomalylab.models.layers  # noqa: F401 (registers the package's layers)

    return keras.saving.load_model(file, safe_mode=True, compile=False)


def _load(directory: Path):
    manifest_file = directory / MANIFEST
    if not manifest_file.is_file():
        raise InputError(f"{directory} is not a saved detector (no {MANIFEST}); save one with detector.save(path).")
    try:
        manifest = json.loads(manifest_file.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{manifest_file} is corrupt ({exc}); save the detector again.") from None
    if manifest.get("format") != FORMAT:
        raise InputError(f"{manifest_file} is not an anomalylab detector (format {manifest.get('format')!r}).")
    if manifest.get("version") != VERSION:
        raise InputError(f"{manifest_file} has format version {manifest.get('version')}; this anomalylab reads "
                         f"version {VERSION}. Save it again with this version.")  # fmt: skip
    classes = _classes()
    if manifest.get("class") not in classes:
        raise InputError(f"{manifest_file} names class {manifest.get('class')!r}, which is not a detector of "
                         f"this package.")  # fmt: skip
    cls = classes[manifest["class"]]
    reader = _Reader(directory)
    params = reader.decode(manifest["params"])
    kwargs = params.pop(next((n for n, p in inspect.signature(cls.__init__).parameters.items()
                              if p.kind is p.VAR_KEYWORD), ""), {})  # fmt: skip
    obj = cls(**params, **kwargs)
    for key, value in reader.decode(manifest["state"]).items():
        if isinstance(value, dict) and set(value) == {"keras_parts"}:
            value = obj._assemble_model(**value["keras_parts"])
        setattr(obj, key, value)
    return obj


def load(path):
    """The detector saved in ``path`` by :func:`save`, ready to score."""
    directory = Path(path)
    if not directory.exists():
        raise InputError(f"{directory} does not exist; pass the directory that detector.save(path) wrote.")
    return _load(directory)


class Persistable:
    """``save(path)`` and ``load(path)`` for a detector class (see :mod:`anomalylab.models.persistence`)."""

    def save(self, path) -> Path:
        """Write this detector to the directory ``path`` (no pickle); :meth:`load` reads it back."""
        return save(self, path)

    @classmethod
    def load(cls, path):
        """The detector saved in ``path``; refuses a directory that holds another class."""
        obj = load(path)
        if not isinstance(obj, cls):
            raise InputError(f"{path} holds a {type(obj).__name__}, not a {cls.__name__}; use "
                             f"anomalylab.models.load(path) to load any detector.")  # fmt: skip
        return obj
