"""The fit cache: a rerun reads back exactly what a fit computed, a change to what a fit depends on refits, and a
cache folder is data, never code."""

import ast
import inspect
import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import anomalylab
from anomalylab.errors import InputError
from anomalylab.evaluation import fitcache, nab, search, series, tables
from anomalylab.models.classical import IsolationForestDetector, SeasonalNaive

TASKS = [tables.fit_and_score_table, search.fit_and_score_validation, series.fit_and_score, nab._series_task]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "fit-cache"
    monkeypatch.setenv(fitcache.CACHE_ENV, str(folder))
    return folder


def _splits(seed=0):
    rng = np.random.default_rng(seed)
    X_test = np.r_[rng.normal(size=(60, 4)), rng.normal(4, 1, size=(6, 4))]
    y_test = np.r_[np.zeros(60), np.ones(6)]
    return tables.table_splits(rng.normal(size=(200, 4)), X_test, y_test, seed=seed)



def _forest(seed):
    return IsolationForestDetector(n_estimators=20, seed=seed)


def test_a_second_run_reads_every_fit_back_and_its_rows_equal_the_fitted_ones(cache, capsys):
    models = {"forest": (_forest, (0, 1), {"q99": tables.table_rule_val_quantile(0.99)})}
    first, first_scores = tables.evaluate_table_grid(models, _splits(), progress=False)
    assert "fit cache" not in capsys.readouterr().out
    assert len(list(cache.glob("*.npz"))) == 2
    second, second_scores = tables.evaluate_table_grid(models, _splits(), progress=False)
    assert "2 of 2 fits read from the fit cache" in capsys.readouterr().out
    pd.testing.assert_frame_equal(first, second)  # the measured seconds too: the stored ones are read back
    pd.testing.assert_frame_equal(first_scores["forest"], second_scores["forest"])


def test_cached_and_uncached_rows_are_the_same(cache, monkeypatch, hourly_frame):
    models = {"naive": (lambda seed: SeasonalNaive(periods=(24,)), (None,), {"k3": series.rule_val_mean_k_sigma(3)})}
    cached_table, _ = series.evaluate_series_grid(models, hourly_frame, dataset="toy", progress=False)
    cached_again, _ = series.evaluate_series_grid(models, hourly_frame, dataset="toy", progress=False)
    monkeypatch.delenv(fitcache.CACHE_ENV)
    fresh, _ = series.evaluate_series_grid(models, hourly_frame, dataset="toy", progress=False)
    pd.testing.assert_frame_equal(cached_table, cached_again)
    untimed = ~fresh["metric"].str.endswith("_seconds")  # the times are those of the fit that was measured
    assert untimed.sum() > 10 and (~untimed).any()
    pd.testing.assert_frame_equal(cached_table[untimed], fresh[untimed])


def test_a_task_called_with_positional_arguments_is_cached_under_the_same_key(cache):
    calls = []

    @fitcache.cached()
    def task(make_detector, seed, data, *, scale=1.0):
        calls.append(seed)
        return {"scores": make_detector(seed).n_estimators * scale * np.asarray(data, dtype=float)}

    first = task(_forest, 0, [1.0, 2.0], scale=2.0)
    second = task(_forest, 0, data=[1.0, 2.0], scale=2.0)
    assert calls == [0] and second["from_cache"] and "from_cache" not in first
    np.testing.assert_array_equal(first["scores"], second["scores"])
    task(_forest, 0, [1.0, 3.0], scale=2.0)
    task(_forest, 1, [1.0, 2.0], scale=2.0)
    assert calls == [0, 0, 1]


def test_without_the_setting_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv(fitcache.CACHE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    result = tables.fit_and_score_table(_forest, 0, _splits())
    assert "from_cache" not in result and list(tmp_path.iterdir()) == []


def test_the_key_changes_with_every_argument_of_the_detector_the_seed_and_the_data():
    splits = _splits()
    key = fitcache.task_key(tables.fit_and_score_table, (), _forest(0), 0, {"splits": splits})
    assert key == fitcache.task_key(tables.fit_and_score_table, (), _forest(0), 0, {"splits": _splits()})
    others = [
        fitcache.task_key(tables.fit_and_score_table, (), IsolationForestDetector(n_estimators=21), 0,
                          {"splits": splits}),  # fmt: skip
        fitcache.task_key(tables.fit_and_score_table, (), _forest(0), 1, {"splits": splits}),
        fitcache.task_key(tables.fit_and_score_table, (), _forest(0), 0, {"splits": _splits(seed=1)}),
        fitcache.task_key(search.fit_and_score_validation, (), _forest(0), 0, {"splits": splits}),
    ]
    assert len({key, *others}) == 5


def test_the_test_labels_are_not_part_of_a_tabular_key():
    splits = _splits()
    relabelled = tables.TabularSplits(**{**splits.__dict__, "y_test": 1 - splits.y_test})
    assert fitcache.describe(splits) == fitcache.describe(relabelled)


def test_a_detector_that_cannot_be_described_runs_without_the_cache(cache):
    make = lambda seed: SeasonalNaive(periods=(24,), name=lambda: None)  # noqa: E731  # a lambda has no stable name
    assert fitcache.task_key(series.fit_and_score, (), make(0), 0, {}) is None
    assert fitcache.describe(np.float64(np.nan)) == "nan" and fitcache.describe(0.1) == repr(0.1)


def test_values_round_trip_bit_for_bit_and_other_shapes_are_not_stored(tmp_path):
    result = {"scores": np.array([0.1, np.nan, -np.inf]), "ints": np.arange(3), "fit_seconds": 1 / 3,
              "epochs": np.nan, "rows": 7, "note": "x", "transductive": None}  # fmt: skip
    assert fitcache.store(tmp_path, "k", result)
    back = fitcache.load(tmp_path, "k")
    np.testing.assert_array_equal(back.pop("scores"), result["scores"])
    np.testing.assert_array_equal(back.pop("ints"), result["ints"])
    assert back.pop("fit_seconds") == 1 / 3 and np.isnan(back.pop("epochs"))
    assert back == {"rows": 7, "note": "x", "transductive": None}
    assert not fitcache.store(tmp_path, "other", {"model": object()})
    assert not fitcache.store(tmp_path, "objects", {"a": np.array([object()])})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.npz"]


class _Boom:
    def __reduce__(self):
        return (Path.touch, (Path(self.target),))


def test_a_hostile_or_broken_entry_is_refitted_never_executed(cache):
    splits = _splits()
    key = fitcache.task_key(tables.fit_and_score_table, (), _forest(0), 0, {"splits": splits})
    cache.mkdir()
    entry = cache / f"{key}.npz"
    witness = cache.parent / "ran"
    boom = _Boom()
    boom.target = str(witness)
    payload = np.empty(1, dtype=object)
    payload[0] = boom
    with open(entry, "wb") as out:  # a pickle where the stored arrays should be
        np.savez(out, __meta__=np.array(json.dumps({"format": 1, "key": key, "arrays": ["val"], "values": {}})),
                 **{"array:val": payload})  # fmt: skip
    result = tables.fit_and_score_table(_forest, 0, splits)
    assert not witness.exists() and "from_cache" not in result and len(result["val"]) == len(splits.X_val)
    assert fitcache.load(cache, key)["val"].dtype == float  # rewritten with the fit's own result
    for broken in (b"", b"PK\x03\x04 not a zip", entry.read_bytes()[:40]):
        entry.write_bytes(broken)
        assert fitcache.load(cache, key) is None
    fitcache.store(cache, "another", {"val": np.zeros(2)})
    (cache / "another.npz").rename(entry)  # an entry under a name that is not its key
    assert fitcache.load(cache, key) is None


def test_a_cache_setting_that_names_a_file_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("mine")
    monkeypatch.setenv(fitcache.CACHE_ENV, str(tmp_path / "file"))
    with pytest.raises(InputError, match="is a file, not a folder"):
        tables.fit_and_score_table(_forest, 0, _splits())
    assert (tmp_path / "file").read_text() == "mine"


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory):
    target = tmp_path_factory.mktemp("pkg") / "anomalylab"
    shutil.copytree(Path(anomalylab.__file__).parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


EDITS = [("models/classical.py", True), ("preprocessing.py", True), ("datasets/nab.py", True),
         ("reporting/tables.py", False), ("metrics/__init__.py", False), ("cli/__init__.py", False)]  # fmt: skip


@pytest.mark.parametrize(("edited", "refits"), EDITS)
def test_an_edit_of_the_code_a_detector_runs_refits_and_other_edits_do_not(package_copy, edited, refits):
    before = fitcache.package_fingerprint(package_copy)
    file = package_copy / edited
    text = file.read_text()
    file.write_text(text + "\n# an edit\n")
    try:
        assert (fitcache.package_fingerprint(package_copy) != before) is refits
    finally:
        file.write_text(text)


def _package_calls(fn) -> set:
    """The package's functions that ``fn``'s body calls by a name of its module."""
    fn = inspect.unwrap(fn)
    definition = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    body = ast.Module(body=definition.body, type_ignores=[])  # not its decorator
    names = {node.func.id for node in ast.walk(body) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    found = {fn.__globals__.get(name) for name in names}
    return {f for f in found if inspect.isfunction(f) and f.__module__.startswith("anomalylab.")}


def _in_detector_layers(fn) -> bool:
    return fn.__module__.split(".")[1] in fitcache.DETECTOR_LAYERS


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.__name__)
def test_every_task_declares_the_helpers_its_result_depends_on(task):
    """A helper outside the detector layers that a task calls, directly or through another helper, must be in
    the key: otherwise an edit of it would leave stale results in the cache."""
    declared = set(task.helpers)
    for fn in (task, *task.helpers):
        missing = {f.__qualname__ for f in _package_calls(fn) if not _in_detector_layers(f)} - {
            f.__qualname__ for f in declared
        }
        assert not missing, f"{task.__name__} calls {sorted(missing)} (through {fn.__name__}) without declaring it"
