"""Saved detectors from elsewhere are data, never code: hostile directories built here are refused with a clear
error, without running code, reading outside the directory or allocating past the limit; and saving never deletes
a file that save() did not write (issue 28)."""

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomalylab import cli
from anomalylab.errors import InputError
from anomalylab.models import DenseAutoencoder, IsolationForestDetector, KMeansDistance, PCAReconstruction, load
from anomalylab.models.persistence import place, read_extra, save

TABLE = np.random.default_rng(0).normal(size=(120, 4))


def _saved(tmp_path, name="m", detector=None):
    return (detector or PCAReconstruction(2)).fit(TABLE).save(tmp_path / name)


def _manifest(path):
    return json.loads((path / "detector.json").read_text())


def _write_manifest(path, manifest):
    (path / "detector.json").write_text(json.dumps(manifest))


def _skops_schema(schema: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps({**schema, "protocol": 2, "_skops_version": "0.16.0"}))
    return buffer.getvalue()


def _reduce_call(module: str, function: str, *args) -> bytes:
    """A .skops file whose loading calls ``module.function(*args)`` when its type is trusted (skops rebuilds
    an object from a constructor and its arguments)."""
    items = [{"__class__": type(a).__name__, "__module__": "builtins", "__loader__": "JsonNode",
              "content": json.dumps(a), "is_json": True} for a in args]  # fmt: skip
    return _skops_schema({"__class__": function, "__module__": module, "__loader__": "ConstructorFromReduceNode",
                          "content": {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
                                      "content": items}})  # fmt: skip


def _hostile_eval_dir(tmp_path, marker):
    path = _saved(tmp_path)
    (path / "001_state_model.skops").write_bytes(
        _reduce_call("builtins", "eval", f"open({str(marker)!r}, 'w').write('ran')"))
    return path


@pytest.mark.parametrize("entry", ["load", "class_load", "command_line"])
def test_a_skops_file_naming_builtins_eval_runs_nothing(entry, tmp_path):
    marker = tmp_path / "ran.txt"
    path = _hostile_eval_dir(tmp_path, marker)
    if entry == "command_line":
        data = tmp_path / "x.csv"
        pd.DataFrame({"t": pd.date_range("2024", periods=50, freq="h"), "v": np.arange(50.0)}).to_csv(data,
                                                                                                       index=False)
        assert cli.main(["detect", str(data), "--out", str(tmp_path / "o.csv"), "--load", str(path),
                         "--threshold", "1", "--quiet"]) == 2  # fmt: skip
        assert not (tmp_path / "o.csv").exists()
    else:
        with pytest.raises(InputError, match=r"builtins\.eval.*refusing to load"):
            (load if entry == "load" else PCAReconstruction.load)(path)
    assert not marker.exists()


def test_a_skops_file_calling_numpy_load_with_pickle_is_refused(tmp_path):
    path = _saved(tmp_path)
    (path / "001_state_model.skops").write_bytes(_reduce_call("numpy", "load", str(tmp_path / "x.npy"), None, True))
    with pytest.raises(InputError, match=r"numpy\.load"):
        load(path)


def test_a_skops_type_of_an_allowed_library_but_not_listed_is_refused(tmp_path):
    """A module prefix is not trust: sklearn.utils.* is not a type the package saves."""
    path = _saved(tmp_path)
    (path / "001_state_model.skops").write_bytes(_reduce_call("sklearn.utils", "deprecated", "x"))
    with pytest.raises(InputError, match=r"sklearn\.utils\.deprecated"):
        load(path)


@pytest.mark.parametrize("name", ["../evil.skops", "/tmp/evil.skops", "sub/evil.skops", "..", ""])
def test_a_manifest_cannot_name_a_file_outside_the_directory(name, tmp_path):
    path = _saved(tmp_path)
    shutil.copy(path / "001_state_model.skops", tmp_path / "evil.skops")
    manifest = _manifest(path)
    manifest["state"]["dict"]["model_"] = {"skops": name}
    _write_manifest(path, manifest)
    with pytest.raises(InputError, match="not a plain file name"):
        load(path)


def test_a_nested_detector_outside_the_directory_is_refused(tmp_path):
    _saved(tmp_path, "other")
    path = _saved(tmp_path)
    manifest = _manifest(path)
    manifest["state"]["dict"]["inner_"] = {"object": "../other"}
    _write_manifest(path, manifest)
    with pytest.raises(InputError, match="not a plain file name"):
        load(path)


@pytest.mark.parametrize("which", ["001_state_model.skops", "detector.json", "arrays.npz"])
def test_symbolic_links_inside_a_saved_directory_are_refused(which, tmp_path):
    path = _saved(tmp_path)
    if which == "arrays.npz":
        np.savez(tmp_path / "elsewhere.npz", a=np.arange(3))
        manifest = _manifest(path)
        manifest["state"]["dict"]["extra_"] = {"array": "a"}
        _write_manifest(path, manifest)
        (path / which).symlink_to(tmp_path / "elsewhere.npz")
    else:
        (path / which).rename(tmp_path / which)
        (path / which).symlink_to(tmp_path / which)
    with pytest.raises(InputError, match="symbolic link"):
        load(path)


def _with_array(tmp_path, write_npz, references=("a",)):
    path = _saved(tmp_path)
    manifest = _manifest(path)
    for i, key in enumerate(references):
        manifest["state"]["dict"][f"extra{i}_"] = {"array": key}
    _write_manifest(path, manifest)
    write_npz(path / "arrays.npz")
    return path


def test_a_compressed_array_that_expands_past_the_limit_is_refused_before_reading(tmp_path):
    def bomb(file):
        with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open("a.npy", "w", force_zip64=True) as stream:
                np.lib.format.write_array(stream, np.zeros(16 * 2**20, dtype="float64"))  # 128 MiB of zeros

    path = _with_array(tmp_path, bomb)
    assert (path / "arrays.npz").stat().st_size < 2**20
    with pytest.raises(InputError, match="past its limit of 33,554,432 bytes"):
        load(path, max_bytes=32 * 2**20)
    assert load(path, max_bytes=256 * 2**20).extra0_.shape == (16 * 2**20,)  # a limit raised on purpose


def test_an_array_header_claiming_more_values_than_the_file_holds_is_refused(tmp_path):
    def liar(file):
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                      "shape": (10**11,)})  # fmt: skip
        with zipfile.ZipFile(file, "w") as archive:
            archive.writestr("a.npy", header.getvalue() + b"\0" * 16)

    path = _with_array(tmp_path, liar)
    assert (path / "arrays.npz").stat().st_size < 1024
    with pytest.raises(InputError, match="declares 800,000,000,000 bytes of data but holds"):
        load(path)


def test_an_array_named_twice_is_refused(tmp_path):
    path = _with_array(tmp_path, lambda f: np.savez(f, a=np.arange(10.0)), references=("a", "a", "a"))
    with pytest.raises(InputError, match="names the array 'a' twice"):
        load(path)


def test_an_object_array_is_refused(tmp_path):
    def objects(file):
        with zipfile.ZipFile(file, "w") as archive:
            with archive.open("a.npy", "w") as stream:
                np.lib.format.write_array(stream, np.array([{"x": 1}], dtype=object), allow_pickle=True)

    path = _with_array(tmp_path, objects)
    with pytest.raises(InputError, match="holds Python objects"):
        load(path)


def test_an_archive_member_that_is_not_an_array_is_refused(tmp_path):
    def other(file):
        with zipfile.ZipFile(file, "w") as archive:
            archive.writestr("a.pkl", b"\x80\x04K\x01.")

    path = _with_array(tmp_path, other)
    with pytest.raises(InputError, match="is not an .npy array"):
        load(path)


@pytest.fixture(scope="module")
def keras_saved(tmp_path_factory):
    return DenseAutoencoder(hidden=(4,), latent_dim=2, epochs=1).fit(TABLE).save(tmp_path_factory.mktemp("k") / "ae")


def _edit_keras(saved, tmp_path, edit_config=None, extra_member=None):
    path = tmp_path / "ae"
    shutil.copytree(saved, path)
    (file,) = path.glob("*.keras")
    with zipfile.ZipFile(file) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    if edit_config:
        config = json.loads(members["config.json"])
        edit_config(config)
        members["config.json"] = json.dumps(config).encode()
    if extra_member:
        members[extra_member] = b"x"
    with zipfile.ZipFile(file, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_keras_config_naming_an_unlisted_function_is_refused(keras_saved, tmp_path):
    def get_file(config):
        config["config"]["layers"][1] = {"module": "keras.utils", "class_name": "get_file",
                                         "config": {"origin": "http://127.0.0.1:1/x"}}  # fmt: skip

    with pytest.raises(InputError, match=r"keras\.utils\.get_file"):
        load(_edit_keras(keras_saved, tmp_path, get_file))


def test_a_keras_lambda_layer_is_refused(keras_saved, tmp_path):
    def lambda_layer(config):
        config["config"]["layers"][1]["class_name"] = "Lambda"

    with pytest.raises(InputError, match=r"keras\.layers\.Lambda"):
        load(_edit_keras(keras_saved, tmp_path, lambda_layer))


def test_a_keras_layer_sized_to_exhaust_memory_is_refused(keras_saved, tmp_path):
    def huge(config):
        dense = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")
        dense["config"]["units"] = 10**9

    with pytest.raises(InputError, match="units=1000000000"):
        load(_edit_keras(keras_saved, tmp_path, huge))


def test_a_keras_archive_with_other_members_is_refused(keras_saved, tmp_path):
    with pytest.raises(InputError, match="not a Keras archive"):
        load(_edit_keras(keras_saved, tmp_path, extra_member="payload.py"))


def test_the_unchanged_keras_detector_still_loads(keras_saved, tmp_path):
    assert isinstance(load(_edit_keras(keras_saved, tmp_path)), DenseAutoencoder)


@pytest.mark.parametrize("change, message", [
    (lambda m: m["state"]["dict"].update({"__class__": {"json": "x"}}), "not a fitted attribute"),
    (lambda m: m["params"]["dict"].update({"evil": {"json": 1}}), "does not take"),
    (lambda m: m.update({"state": [1, 2]}), "not a one-key object"),
    (lambda m: m["state"]["dict"].update({"x_": {"json": {"nested": 1}}}), "holds a container"),
    (lambda m: m["state"]["dict"].update({"x_": {"object": "001_state_model.skops"}}), "not a regular folder"),
])  # fmt: skip
def test_malformed_manifests_get_a_clear_refusal(change, message, tmp_path):
    path = _saved(tmp_path)
    manifest = _manifest(path)
    change(manifest)
    _write_manifest(path, manifest)
    with pytest.raises(InputError, match=message):
        load(path)


def test_a_deeply_nested_manifest_is_refused_cleanly(tmp_path):
    path = _saved(tmp_path)
    (path / "detector.json").write_text('{"format": "anomalylab-detector", "version": 2, "class": "PCAReconstruction",'
                                        ' "params": ' + '{"list": [' * 5000 + "]}" * 5000 + "}")  # fmt: skip
    with pytest.raises(InputError, match="nested too deeply"):
        load(path)


# ---- saving never deletes what it did not write --------------------------------------------------------------


def _project(tmp_path):
    proj = tmp_path / "proj"
    (proj / "src").mkdir(parents=True)
    (proj / "detector.json").write_text('{"mine": true}')
    (proj / "data.csv").write_text("t,v\n")
    (proj / "src" / "code.py").write_text("print(1)\n")
    return proj


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_save_refuses_a_folder_with_a_foreign_detector_json_and_leaves_it_whole(tmp_path):
    proj = _project(tmp_path)
    before = _tree(proj)
    with pytest.raises(InputError, match=r"did not write \(data.csv, detector.json, src/code.py\)"):
        PCAReconstruction(2).fit(TABLE).save(proj)
    assert _tree(proj) == before


def test_command_line_save_into_a_users_folder_is_refused_before_fitting(tmp_path, monkeypatch):
    proj = _project(tmp_path)
    before = _tree(proj)
    data = proj / "data.csv"
    pd.DataFrame({"t": pd.date_range("2024", periods=200, freq="h"), "v": np.sin(np.arange(200.0))}).to_csv(data,
                                                                                                          index=False)
    before = _tree(proj)
    monkeypatch.setattr(cli.command, "_fit", lambda *a: pytest.fail("fitted before checking --save"))
    assert cli.main(["detect", str(data), "--out", str(tmp_path / "o.csv"), "--save", str(proj), "--quiet"]) == 2
    assert _tree(proj) == before and not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("where", [".", "..", "cwd"])
def test_save_refuses_the_working_directory_and_its_parents(where, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "input.csv").write_text("t,v\n")
    monkeypatch.chdir(work)
    target = {"." : Path("."), "..": Path(".."), "cwd": work}[where]
    with pytest.raises(InputError, match="working directory or one of its parents"):
        PCAReconstruction(2).fit(TABLE).save(target)
    assert (work / "input.csv").read_text() == "t,v\n"


def test_resaving_over_a_save_with_an_added_file_is_refused_and_keeps_the_file(tmp_path):
    path = _saved(tmp_path)
    (path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"notes\.txt"):
        KMeansDistance(2).fit(TABLE).save(path)
    assert (path / "notes.txt").read_text() == "mine" and isinstance(load(path), PCAReconstruction)


def test_resaving_over_a_changed_save_is_refused(tmp_path):
    path = _saved(tmp_path)
    with open(path / "001_state_model.skops", "ab") as stream:
        stream.write(b"changed")
    with pytest.raises(InputError, match=r"001_state_model\.skops"):
        KMeansDistance(2).fit(TABLE).save(path)


def test_an_empty_folder_a_file_and_a_link_as_targets(tmp_path):
    (tmp_path / "empty").mkdir()
    assert isinstance(load(_saved(tmp_path, "empty")), PCAReconstruction)
    (tmp_path / "file").write_text("mine")
    with pytest.raises(InputError, match="is a file"):
        _saved(tmp_path, "file")
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    with pytest.raises(InputError, match="symbolic link"):
        _saved(tmp_path, "link")
    assert (tmp_path / "file").read_text() == "mine"


def test_command_line_outputs_inside_the_save_folder_are_refused_before_anything_is_written(tmp_path):
    data = tmp_path / "x.csv"
    pd.DataFrame({"t": pd.date_range("2024", periods=200, freq="h"), "v": np.sin(np.arange(200.0))}).to_csv(data,
                                                                                                          index=False)
    code = cli.main(["detect", str(data), "--model", "rolling_zscore", "--out", str(tmp_path / "m" / "flags.csv"),
                     "--plot", str(tmp_path / "m" / "p.png"), "--save", str(tmp_path / "m"), "--quiet"])  # fmt: skip
    assert code == 2 and not (tmp_path / "m").exists()


_KILLED_SAVE = """
import os, sys
import numpy as np
from anomalylab.models import KMeansDistance
from anomalylab.models.persistence import place
mode, target = sys.argv[1], sys.argv[2]
renames = []
real_rename = os.rename
def rename(a, b):
    renames.append((a, b))
    if mode == "between" and len(renames) == 2:
        os._exit(9)  # killed after the old folder moved out, before the new one moved in
    real_rename(a, b)
if mode == "between":
    place._exchange = lambda a, b: False
    place.os.rename = rename
else:
    place._exchange = lambda a, b: os._exit(9)  # killed just before the swap
KMeansDistance(2).fit(np.random.default_rng(0).normal(size=(50, 4))).save(target)
"""


@pytest.mark.parametrize("mode", ["before_swap", "between"])
def test_a_killed_save_leaves_a_detector_and_the_next_save_cleans_up(mode, tmp_path):
    path = _saved(tmp_path)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_KILLED_SAVE), mode, str(path)],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 9, done.stderr
    staging = list(tmp_path.glob(".m.anomalylab-save.*"))
    assert len(staging) == 1
    if mode == "before_swap":
        assert isinstance(load(path), PCAReconstruction)  # the old detector is in place
    else:
        assert not path.exists() and (staging[0] / "old" / "detector.json").is_file()  # the old one is kept aside
    place.clean_stale(path)  # what the next save does first
    assert isinstance(load(path), PCAReconstruction) and not list(tmp_path.glob(".m.anomalylab-save.*"))
    KMeansDistance(2).fit(TABLE).save(path)
    assert isinstance(load(path), KMeansDistance) and sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_cleaning_never_touches_a_look_alike_folder_without_the_marker(tmp_path):
    look_alike = tmp_path / ".m.anomalylab-save.1.abc"
    look_alike.mkdir()
    (look_alike / "keep.txt").write_text("mine")
    _saved(tmp_path)
    assert (look_alike / "keep.txt").read_text() == "mine"


def test_extra_files_are_part_of_the_saved_detector(tmp_path):
    path = save(PCAReconstruction(2).fit(TABLE), tmp_path / "m", extra={"threshold.json": {"threshold": 1.5}})
    assert read_extra(path, "threshold.json") == {"threshold": 1.5}
    assert "threshold.json" in _manifest(path)["files"]
    KMeansDistance(2).fit(TABLE).save(path)  # a re-save may replace it: every file is listed as ours
    assert read_extra(path, "threshold.json") is None
    with pytest.raises(InputError, match="named like"):
        save(PCAReconstruction(2), tmp_path / "n", extra={"../x.json": {}})


def test_version_1_directories_still_load_but_are_not_overwritten(tmp_path):
    path = _saved(tmp_path, detector=IsolationForestDetector(n_estimators=5))
    manifest = _manifest(path)
    del manifest["files"]
    manifest["version"] = 1
    _write_manifest(path, manifest)
    assert isinstance(load(path), IsolationForestDetector)
    with pytest.raises(InputError, match="did not write"):
        _saved(tmp_path, detector=IsolationForestDetector(n_estimators=5))
    assert os.listdir(path)
