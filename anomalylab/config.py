"""Run configuration and seeding.

``RunConfig`` is the one place where "quick" (CI, nbval) turns into small
numbers. Notebooks build one from their ``parameters`` cell with
:meth:`RunConfig.create` and pass it on; every output path comes from it, so
a quick run never writes where a full run writes.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from anomalylab import paths
from anomalylab.errors import InputError

QUICK_ENV = "ANOMALYLAB_QUICK"
FIXED_NUMERICS_ENV = "ANOMALYLAB_FIXED_NUMERICS"
SEEDS_ENV = "ANOMALYLAB_SEEDS"  # `make reproduce SEEDS=10`: the full seed grid of the tables that default to fewer
# The fixed numerics (:func:`use_fixed_numerics`): TensorFlow's and the BLAS/OpenMP pools' thread counts and oneDNN
TF_SETTINGS = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_ENABLE_ONEDNN_OPTS": "0",
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def fixed_numerics() -> bool:
    """True when the fixed numerics are on in this process (:func:`use_fixed_numerics`)."""
    return os.environ.get(FIXED_NUMERICS_ENV) == "1"


def use_fixed_numerics() -> None:
    """Same seed, same numbers whatever the machine: TensorFlow on one thread per op with oneDNN off, and the
    BLAS/OpenMP pools under NumPy and scikit-learn on one thread (their sums depend on the thread count).

    A setting, never an import side effect: notebooks switch it on through :meth:`RunConfig.create`, the command
    line and ``make`` (``ANOMALYLAB_FIXED_NUMERICS=1``) too, and worker processes started afterwards inherit it.
    A practitioner who only imports a detector keeps their own thread pools. Idempotent; call it before
    TensorFlow runs its first operation.
    """
    os.environ.update(TF_SETTINGS)
    os.environ[FIXED_NUMERICS_ENV] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # pools already loaded (a notebook imports NumPy first)
    if sys.modules.get("tensorflow") is not None:
        configure_tensorflow()


def seed_budget(default: int) -> int:
    """Seeds for a table whose default run uses ``default``: ``ANOMALYLAB_SEEDS`` when set (``make reproduce
    SEEDS=10`` restores the 10-seed grid of notebook 04's K1 and K2), else ``default``. Quick mode still keeps 2."""
    setting = os.environ.get(SEEDS_ENV, "").strip()
    if not setting:
        return default
    if not setting.isdigit() or int(setting) < 1:
        raise InputError(f"{SEEDS_ENV}={setting!r} is not a number of seeds: give a whole number of at least 1 "
                         f"(for example {SEEDS_ENV}=10), or unset it for the default of {default}.")
    return int(setting)


def quick_from_env() -> bool:
    """True when the environment asks for quick mode (``ANOMALYLAB_QUICK=1``)."""
    return os.environ.get(QUICK_ENV, "") == "1"


@dataclass(frozen=True)
class RunConfig:
    """Sizes, seeds and output folders of one notebook run.

    Build it with :meth:`create`; the defaults of the fields are those of a
    full run.
    """

    quick: bool = False
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    epochs: int = 50
    batch_size: int = 64
    max_train_rows: int | None = None
    n_nab_series: int | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def create(cls, quick: bool, n_seeds: int = 5, epochs: int = 50, **extra) -> RunConfig:
        """The configuration of a run: full sizes, or small ones when ``quick``.

        Quick mode keeps 2 seeds, at most 2 epochs, at most 5,000 training
        rows and 3 NAB series, so that every notebook runs in a minute or two.
        """
        use_fixed_numerics()  # a notebook's numbers do not depend on the machine
        if n_seeds < 1:
            raise InputError(f"n_seeds must be at least 1, got {n_seeds}.")
        if epochs < 1:
            raise InputError(f"epochs must be at least 1, got {epochs}.")
        if quick:
            return cls(
                quick=True,
                seeds=tuple(range(min(n_seeds, 2))),
                epochs=min(epochs, 2),
                max_train_rows=5_000,
                n_nab_series=3,
                extra=dict(extra),
            )
        return cls(quick=False, seeds=tuple(range(n_seeds)), epochs=epochs, extra=dict(extra))

    @property
    def output_root(self) -> Path:
        """``build/quick`` in quick mode, the repository root otherwise."""
        return paths.QUICK_DIR if self.quick else paths.ROOT

    @property
    def figures_dir(self) -> Path:
        return self.output_root / "figures" if self.quick else paths.FIGURES_DIR

    @property
    def tables_dir(self) -> Path:
        return self.figures_dir / "tables"

    @property
    def processed_dir(self) -> Path:
        return self.output_root / "processed" if self.quick else paths.PROCESSED_DIR

    def describe(self) -> str:
        """One line for a notebook's output: the mode and where it writes (relative paths)."""

        def rel(p: Path) -> str:
            return p.relative_to(paths.ROOT).as_posix()

        mode = "quick" if self.quick else "full"
        return (
            f"{mode} run: seeds {list(self.seeds)}, epochs {self.epochs}; processed data -> "
            f"{rel(self.processed_dir)}/, figures -> {rel(self.figures_dir)}/, tables -> {rel(self.tables_dir)}/"
        )

    def as_dict(self) -> dict:
        """The configuration as plain data (for provenance records)."""
        d = asdict(self)
        d["seeds"] = list(self.seeds)
        return d


_TF_CHATTER = ("absl::InitializeLog", "cudart_stub.cc", "cpu_feature_guard.cc", "oneDNN custom operations",
               "Unable to register cu")  # fmt: skip


def import_tensorflow():
    """Import TensorFlow and Keras, with TensorFlow's C++ start-up chatter kept out of stderr and notebook outputs.

    ``TF_CPP_MIN_LOG_LEVEL`` does not reach what TensorFlow logs before absl is initialised ("Could not find
    cuda drivers on your machine"), so stderr is captured at the file-descriptor level while TensorFlow loads;
    any line that is not such chatter (a real warning or error) is printed afterwards.
    """
    if sys.modules.get("tensorflow") is not None and sys.modules.get("keras") is not None:
        return sys.modules["tensorflow"]
    from anomalylab.extras import require

    require("tensorflow", "keras", what="the deep models")
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ chatter; Python errors still raise
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import keras  # noqa: F401 (its TensorFlow backend loads TensorFlow)
            import tensorflow as tf
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            kept = [line for line in text.splitlines() if line.strip() and not any(c in line for c in _TF_CHATTER)]
            if kept:
                print("\n".join(kept), file=sys.stderr)
    return tf


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Keras/TensorFlow, and make TF ops deterministic.

    Call it before building every model: same seed, same numbers (on the
    same machine and library versions). TensorFlow is imported only here, so
    code that never trains a model does not pay for importing it.
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}.")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (the legacy global RNG, which other libraries draw from)
    import_tensorflow()
    import keras

    configure_tensorflow()
    keras.utils.set_random_seed(seed)


def configure_tensorflow() -> None:
    """Deterministic TensorFlow ops, and with the fixed numerics on (:func:`use_fixed_numerics`) one thread per op
    and BLAS pools on one thread: before any model is built or loaded (:func:`set_seed` calls it; so does loading
    a saved Keras model). Idempotent."""
    tf = import_tensorflow()
    tf.config.experimental.enable_op_determinism()
    if not fixed_numerics():
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)  # BLAS / OpenMP pools loaded since the setting was switched on
    threads = (tf.config.threading.get_intra_op_parallelism_threads(),
               tf.config.threading.get_inter_op_parallelism_threads())  # fmt: skip
    if threads != (1, 1):
        try:  # TensorFlow was imported before anomalylab: set the threads now, if it has not started yet
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError as exc:
            raise InputError(
                f"TensorFlow already runs with intra/inter-op threads {threads}, so results would depend on the "
                "machine; import anomalylab before tensorflow (or start a fresh kernel)."
            ) from exc
