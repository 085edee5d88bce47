"""Raw data, one module per concern: a registry of every file, fetching with verification, and loaders.

Every raw file is listed in ``registry.txt`` (path, sha256, canonical URL) and
fetched into ``data/raw/`` by pooch, which checks the sha256 before a file is
moved into place (a failed or corrupt fetch leaves nothing behind).

Offline use: when the environment variable ``ANOMALYLAB_DATA_MIRROR`` names a
directory laid out like the registry (``nab/data/...``, ``kddcup99/...``,
...), files are copied from it and verified instead of downloaded.

Loaders return tidy pandas objects: series with a ``DatetimeIndex`` (or a
``RangeIndex`` for the synthetic spike series), tables as a feature frame
plus label columns.
"""

from __future__ import annotations

from anomalylab.datasets.checks import (  # noqa: F401
    chronological_split,
    keep_file_order,
    split_labels,
    split_sizes,
    validate_series,
)
from anomalylab.datasets.kdd import (  # noqa: F401
    KDD_ATTACK_TYPES_FILE,
    KDD_CATEGORICAL,
    KDD_FILES,
    KDD_NAMES_FILE,
    KDD_TEST_ONLY_CATEGORIES,
    kdd_attack_categories,
    kdd_feature_names,
    kdd_label_counts,
    kdd_twin_rows,
    load_kdd,
)
from anomalylab.datasets.nab import (  # noqa: F401
    NAB_DETECTORS,
    NAB_LABELS_FILE,
    NAB_PREFIX,
    NAB_PROFILES_FILE,
    NAB_RESULTS_FILE,
    NAB_SPLIT_FILE,
    NAB_SPLIT_SEED,
    NAB_THRESHOLDS_FILE,
    NAB_WINDOWS_FILE,
    load_nab,
    load_nab_detector_results,
    make_nab_split,
    nab_anomaly_points,
    nab_categories,
    nab_corpus_frame,
    nab_detector_thresholds,
    nab_probationary_length,
    nab_profiles,
    nab_published_scores,
    nab_series_names,
    nab_split,
    nab_windows,
    nab_windows_frame,
    read_nab_results,
    resolve_nab_name,
    window_mask,
)
from anomalylab.datasets.processed import (  # noqa: F401
    load_processed,
    save_processed,
    series_summary,
)
from anomalylab.datasets.registry import (  # noqa: F401
    FIX_HINT,
    MIRROR_ENV,
    REGISTRY_FILE,
    fetch,
    fetch_all,
    registry_names,
)
from anomalylab.datasets.sources import (  # noqa: F401
    MIXTILES_FILE,
    SPIKE_FILE,
    derive_spike_labels,
    load_mixtiles,
    load_spike_series,
    spike_residual_gap,
)

__all__ = [
    "NAB_DETECTORS",
    "NAB_THRESHOLDS_FILE",
    "load_nab_detector_results",
    "read_nab_results",
    "nab_detector_thresholds",
    "FIX_HINT",
    "KDD_ATTACK_TYPES_FILE",
    "KDD_CATEGORICAL",
    "KDD_FILES",
    "KDD_NAMES_FILE",
    "KDD_TEST_ONLY_CATEGORIES",
    "kdd_twin_rows",
    "MIRROR_ENV",
    "MIXTILES_FILE",
    "NAB_LABELS_FILE",
    "NAB_PREFIX",
    "NAB_PROFILES_FILE",
    "NAB_RESULTS_FILE",
    "NAB_SPLIT_FILE",
    "NAB_SPLIT_SEED",
    "NAB_WINDOWS_FILE",
    "REGISTRY_FILE",
    "SPIKE_FILE",
    "chronological_split",
    "derive_spike_labels",
    "fetch",
    "fetch_all",
    "kdd_attack_categories",
    "kdd_feature_names",
    "kdd_label_counts",
    "load_kdd",
    "load_mixtiles",
    "load_nab",
    "load_processed",
    "load_spike_series",
    "make_nab_split",
    "nab_anomaly_points",
    "nab_categories",
    "nab_corpus_frame",
    "nab_probationary_length",
    "nab_profiles",
    "nab_published_scores",
    "nab_series_names",
    "nab_split",
    "nab_windows",
    "nab_windows_frame",
    "registry_names",
    "resolve_nab_name",
    "save_processed",
    "series_summary",
    "spike_residual_gap",
    "split_labels",
    "split_sizes",
    "keep_file_order",
    "validate_series",
    "window_mask",
]
