"""The core install (issue 32): ``detect`` with a classical detector, its plot, save and load work without any
optional package, and a detector that needs one says which extra to install. The optional packages are hidden
from a fresh process by a finder that refuses them, as if they were not installed."""

import subprocess
import sys

import numpy as np
import pandas as pd

OPTIONAL = ("tensorflow", "keras", "stumpy", "statsmodels", "pyod", "dask", "distributed", "bokeh",
            "scikit_posthocs", "pyarrow", "numba")  # fmt: skip

PROBE = """
import sys


class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {optional}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, Absent())
from anomalylab import cli
common = ["detect", "data.csv", "--quiet", "--lookback", "12"]
assert cli.main([*common, "--model", "isolation_forest", "--out", "o.csv", "--plot", "o.png", "--save", "m"]) == 0
assert cli.main([*common, "--load", "m", "--out", "again.csv"]) == 0
for model in ("deepant", "matrix_profile"):
    assert cli.main([*common, "--model", model, "--out", model + ".csv"]) == 2
loaded = sorted(name for name in {optional} if sys.modules.get(name) is not None)
print("loaded:", loaded)
"""


def test_detect_runs_on_the_core_install_and_names_the_missing_extras(tmp_path):
    n = 600
    values = np.sin(np.arange(n) / 8) + np.random.default_rng(0).normal(0, 0.05, n)
    values[500] += 3
    pd.DataFrame({"time": pd.date_range("2025", periods=n, freq="h"), "v": values}).to_csv(tmp_path / "data.csv",
                                                                                            index=False)  # fmt: skip
    done = subprocess.run([sys.executable, "-c", PROBE.format(optional=OPTIONAL)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout
    assert "the deep models cannot run here: tensorflow, keras are not installed" in done.stderr
    assert "pip install 'anomalylab[deep]'" in done.stderr and "pip install 'anomalylab[series]'" in done.stderr
    first, again = (pd.read_csv(tmp_path / name) for name in ("o.csv", "again.csv"))
    np.testing.assert_array_equal(first["score"], again["score"])
    assert first.loc[500, "flag"] == 1
    assert (tmp_path / "o.png").read_bytes()[:4] == b"\x89PNG"
