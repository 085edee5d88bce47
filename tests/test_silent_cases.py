"""Cases that used to pass silently (issue 28): each now raises or warns in words, and importing the package leaves
the host process's thread pools alone unless the fixed numerics are asked for."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from anomalylab import preprocessing
from anomalylab.errors import InputError
from anomalylab.metrics import nab_score
from anomalylab.models import IsolationForestDetector, WindowDetector


def test_nab_score_on_a_reversed_index_is_refused():
    index = pd.date_range("2024-01-01", periods=200, freq="5min")
    scores = np.r_[np.zeros(150), np.ones(50)]
    windows = [(index[160], index[180])]
    assert np.isfinite(nab_score([(scores, index, windows)], threshold=0.5)["score"])
    with pytest.raises(InputError, match="not in time order"):
        nab_score([(scores[::-1], index[::-1], windows)], threshold=0.5)


def test_an_isolation_forest_fitted_on_one_row_is_refused():
    with pytest.raises(InputError, match="at least 2 training rows"):
        IsolationForestDetector().fit(np.ones((1, 3)))


def test_a_window_isolation_forest_on_a_flat_series_warns_that_it_cannot_see_a_jump():
    series = pd.Series(np.r_[np.full(300, 5.0), 9.0, np.full(20, 5.0)],
                       index=pd.date_range("2024-01-01", periods=321, freq="h"))  # fmt: skip
    detector = WindowDetector(IsolationForestDetector(n_estimators=20), window=8)
    with pytest.warns(UserWarning, match="every one of the .* training rows is the same"):
        detector.fit(series[:200])


def test_the_kdd_encoder_says_when_it_clips_negative_counts():
    frame = pd.DataFrame({c: np.arange(6, dtype=float) for c in preprocessing.KDD_LOG_FEATURES})
    frame["protocol_type"], frame["service"], frame["flag"], frame["label"] = "tcp", "http", "SF", "normal"
    column = preprocessing.KDD_LOG_FEATURES[0]
    frame.loc[2, column] = -5.0
    with pytest.warns(UserWarning, match=rf"negative values .*'{column}': 1"):
        preprocessing.KDDEncoder().fit(frame)


_PROBE = """
import json, os, sys
import numpy as np
from threadpoolctl import threadpool_info
before = ({k: os.environ.get(k) for k in sorted(os.environ)}, [p["num_threads"] for p in threadpool_info()])
import anomalylab, anomalylab.models, anomalylab.cli
from anomalylab.models import IsolationForestDetector
IsolationForestDetector(n_estimators=5).fit(np.random.default_rng(0).normal(size=(50, 3)))
after = ({k: os.environ.get(k) for k in sorted(os.environ)}, [p["num_threads"] for p in threadpool_info()])
if sys.argv[1] == "fixed":
    from anomalylab.config import use_fixed_numerics
    use_fixed_numerics()
fixed = [p["num_threads"] for p in threadpool_info()]
print(json.dumps({"same_env": before[0] == after[0], "before": before[1], "after": after[1], "fixed": fixed,
                  "changed": sorted(k for k in after[0] if after[0][k] != before[0].get(k))}))
"""


@pytest.mark.parametrize("mode", ["import_only", "fixed"])
def test_importing_anomalylab_leaves_the_host_threads_alone_unless_asked(mode):
    env = {k: v for k, v in os.environ.items() if k not in ("ANOMALYLAB_FIXED_NUMERICS", "OMP_NUM_THREADS",
                                                            "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}  # fmt: skip
    env["OPENBLAS_NUM_THREADS"] = "2"  # the host's own choice (this machine may have 2 cores only)
    done = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["same_env"], out["changed"]
    assert out["after"][: len(out["before"])] == out["before"] == [2]  # NumPy's pool as the host set it
    if mode == "fixed":
        assert set(out["fixed"]) == {1}
    else:  # pools loaded later (scikit-learn's OpenMP) keep their own defaults too
        assert out["fixed"] == out["after"] and (1 not in out["after"] or os.cpu_count() == 1)
