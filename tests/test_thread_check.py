"""Same seed, same scores on one core or on all, alone or after another model (benchmarks/thread_check.py, small)."""

import shutil
import subprocess
import sys

import pytest

from anomalylab import paths


@pytest.mark.skipif(shutil.which("taskset") is None, reason="needs Linux's taskset (util-linux) to pin cores")
def test_sensitive_models_score_identically_whatever_the_cores_and_the_order():
    command = [sys.executable, str(paths.ROOT / "benchmarks" / "thread_check.py"), "--small",
               "--cases", "mixtiles_forecaster", "k2_vae"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "every model gave identical scores under every condition" in done.stdout
    rows = [line for line in done.stdout.splitlines() if line.startswith("| mixtiles") or line.startswith("| k2")]
    same = [line.strip().strip("|").split("|")[-1].strip() for line in rows]
    assert same == ["True"] * 6, done.stdout  # 2 models x (1 core, all cores, after another model)
