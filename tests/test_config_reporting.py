import json

import numpy as np
import pandas as pd
import pytest

from anomalylab import config, reporting
from anomalylab.errors import InputError


def test_quick_config_is_small_and_writes_under_build_quick():
    quick, full = config.RunConfig.create(True), config.RunConfig.create(False)
    assert len(quick.seeds) < len(full.seeds) == 5 and quick.epochs <= 2
    assert "build/quick" in quick.figures_dir.as_posix() and "build" not in full.figures_dir.as_posix()
    assert quick.processed_dir != full.processed_dir


def test_set_seed_makes_numpy_and_keras_repeatable():
    import keras

    def draw():
        layer = keras.layers.Dense(3)
        layer.build((None, 4))
        return np.random.random(3), np.asarray(layer.kernel)  # noqa: NPY002

    config.set_seed(7)
    a = draw()
    config.set_seed(7)
    b = draw()
    config.set_seed(8)
    c = draw()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def _table():
    rows = []
    for seed in range(3):
        rows += reporting.result_rows(
            {"f1": 0.5 + 0.1 * seed, "roc_auc": 0.9}, dataset="toy", model="ae", seed=seed, threshold_rule="q99"
        )
    rows += reporting.result_rows({"f1": 0.4}, dataset="toy", model="pca", threshold_rule="q99")
    return pd.DataFrame(rows)


def test_write_table_writes_csv_md_and_provenance(tmp_path):
    out = reporting.write_table(_table(), "99_toy", tables_dir=tmp_path, config=config.RunConfig.create(True))
    back = pd.read_csv(out["csv"])
    assert list(back.columns[:8]) == reporting.TABLE_COLUMNS and len(back) == 7
    md = out["md"].read_text()
    assert "0.600 ± 0.100" in md and "0.400" in md
    prov = json.loads(out["provenance"].read_text())
    assert prov["config"]["quick"] is True and "numpy" in prov["packages"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_failed_write_leaves_the_old_table_untouched(tmp_path, monkeypatch):
    reporting.write_table(_table(), "99_toy", tables_dir=tmp_path)
    before = (tmp_path / "99_toy.csv").read_text()

    def boom(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError):
        reporting.write_table(_table().assign(value=0.0), "99_toy", tables_dir=tmp_path)
    assert (tmp_path / "99_toy.csv").read_text() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_unknown_metric_names_are_refused():
    with pytest.raises(InputError, match="unknown metric"):
        reporting.result_rows({"F1-score": 0.5}, dataset="toy", model="ae")
