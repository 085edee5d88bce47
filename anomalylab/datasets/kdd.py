"""KDD Cup 99: the 10 % training file, the labelled ``corrected`` test file, feature names and attack
categories."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anomalylab.datasets.registry import FIX_HINT, fetch
from anomalylab.errors import DataError, InputError

# --------------------------------------------------------------------------- KDD Cup 99

KDD_FILES = {
    "train": "kddcup99/kddcup.data_10_percent.gz",
    "test": "kddcup99/corrected.gz",
}
KDD_NAMES_FILE = "kddcup99/kddcup.names"
KDD_ATTACK_TYPES_FILE = "kddcup99/training_attack_types"
KDD_CATEGORICAL = ["protocol_type", "service", "flag"]
# the 41 named features of kddcup.names, in its order (the columns a detector of KDD rows reads)
KDD_FEATURES = (
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land", "wrong_fragment", "urgent",
    "hot", "num_failed_logins", "logged_in", "num_compromised", "root_shell", "su_attempted", "num_root",
    "num_file_creations", "num_shells", "num_access_files", "num_outbound_cmds", "is_host_login", "is_guest_login",
    "count", "srv_count", "serror_rate", "srv_serror_rate", "rerror_rate", "srv_rerror_rate", "same_srv_rate",
    "diff_srv_rate", "srv_diff_host_rate", "dst_host_count", "dst_host_srv_count", "dst_host_same_srv_rate",
    "dst_host_diff_srv_rate", "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate", "dst_host_serror_rate",
    "dst_host_srv_serror_rate", "dst_host_rerror_rate", "dst_host_srv_rerror_rate",
)  # fmt: skip

# The 17 attack types found only in ``corrected`` are not in training_attack_types.
# Their categories follow the DARPA 1998/99 evaluation's attack taxonomy as the
# KDD'99 literature uses it (e.g. Tavallaee et al., "A detailed analysis of the
# KDD CUP 99 data set", CISDA 2009). httptunnel is listed as r2l here; some
# papers file it under u2r.
KDD_TEST_ONLY_CATEGORIES = {
    "apache2": "dos", "mailbomb": "dos", "processtable": "dos", "udpstorm": "dos",
    "mscan": "probe", "saint": "probe",
    "httptunnel": "r2l", "named": "r2l", "sendmail": "r2l", "snmpgetattack": "r2l",
    "snmpguess": "r2l", "worm": "r2l", "xlock": "r2l", "xsnoop": "r2l",
    "ps": "u2r", "sqlattack": "u2r", "xterm": "u2r",
}  # fmt: skip


def kdd_feature_names() -> list[str]:
    """The 41 feature names, parsed from ``kddcup.names``."""
    lines = Path(fetch(KDD_NAMES_FILE)).read_text().splitlines()
    names = [ln.split(":")[0].strip() for ln in lines[1:] if ":" in ln]
    if len(names) != 41:
        raise DataError(f"kddcup.names lists {len(names)} features, expected 41. " + FIX_HINT)
    return names


def kdd_attack_categories() -> dict[str, str]:
    """Attack type -> category (dos, probe, r2l, u2r) for all 39 attack types, plus normal."""
    mapping = {"normal": "normal"}
    for line in Path(fetch(KDD_ATTACK_TYPES_FILE)).read_text().splitlines():
        if line.strip():
            attack, category = line.split()
            mapping[attack] = category
    mapping.update(KDD_TEST_ONLY_CATEGORIES)
    return mapping


def load_kdd(split: str = "train") -> pd.DataFrame:
    """KDD Cup 99: the 10 % training file (``"train"``) or the ``corrected`` test file.

    Columns: the 41 named features, ``label`` (attack type or ``normal``, the
    trailing dot removed), ``attack_category`` (normal, dos, probe, r2l, u2r)
    and ``is_attack`` (0/1). Categorical features are pandas ``category``.
    """
    if split not in KDD_FILES:
        raise InputError(f"unknown KDD split {split!r}; choose 'train' (10 % file) or 'test' (corrected).")
    names = kdd_feature_names()
    frame = pd.read_csv(fetch(KDD_FILES[split]), header=None, names=[*names, "label"])
    if frame.shape[1] != 42 or frame["label"].isna().any():
        raise DataError(f"KDD {split} file does not have 42 fields per row. " + FIX_HINT)
    frame["label"] = frame["label"].str.rstrip(".")
    categories = kdd_attack_categories()
    unknown = sorted(set(frame["label"]) - set(categories))
    if unknown:
        raise DataError(f"KDD {split} has labels with no attack category: {unknown}. " + FIX_HINT)
    frame["attack_category"] = frame["label"].map(categories)
    frame["is_attack"] = (frame["label"] != "normal").astype("int8")
    for col in [*KDD_CATEGORICAL, "label", "attack_category"]:
        frame[col] = frame[col].astype("category")
    return frame



def kdd_label_counts(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Rows per label in the training (10 %) and test (corrected) files, with the
    attack category and whether the label appears only in the test file."""
    counts = pd.DataFrame(
        {
            "train": train["label"].astype(str).value_counts(),
            "test": test["label"].astype(str).value_counts(),
        }
    ).fillna(0).astype("int64")
    counts.index.name = "label"
    counts["attack_category"] = counts.index.map(kdd_attack_categories())
    counts["test_only"] = (counts["train"] == 0) & (counts["test"] > 0)
    return counts.sort_values(["test_only", "test"], ascending=[True, False])




def kdd_twin_rows(test: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """Which rows of ``test`` no detector of the 41 features can tell apart: attack rows whose feature vector
    equals a **normal** row's (of either file), and the normal test rows that share such a vector.

    One row per test row, on ``test``'s index: ``vector`` (an id of the feature vector, equal for identical
    rows), ``twin_attack`` (an attack row with a normal twin), ``twin_normal`` (a normal test row that shares
    its vector with an attack row) and ``twin_of_train`` (an attack row whose twin is a normal training row).
    A detector that scores a row from its features gives a twin attack row exactly its normal copies' score.
    """
    features = [c for c in KDD_FEATURES if c in test.columns]  # all 41 in load_kdd's frames
    for name, frame in (("test", test), ("train", train)):
        missing = [c for c in (*features, "is_attack") if c not in frame.columns]
        if missing or not features:
            raise InputError(f"{name} lacks the KDD columns {missing[:5] or 'of the 41 features'}; pass frames "
                             "from load_kdd().")  # fmt: skip
    vector = pd.util.hash_pandas_object(test[features], index=False).to_numpy()
    train_vector = pd.util.hash_pandas_object(train[features], index=False).to_numpy()
    attack = test["is_attack"].to_numpy() == 1
    train_normal = train_vector[train["is_attack"].to_numpy() == 0]
    normal_vectors = pd.unique(pd.Series([*vector[~attack], *train_normal]))
    twin_attack = attack & pd.Series(vector).isin(normal_vectors).to_numpy()
    twin_normal = ~attack & pd.Series(vector).isin(vector[twin_attack]).to_numpy()
    return pd.DataFrame({
        "vector": vector,
        "twin_attack": twin_attack,
        "twin_normal": twin_normal,
        "twin_of_train": twin_attack & pd.Series(vector).isin(train_normal).to_numpy(),
    }, index=test.index)  # fmt: skip
