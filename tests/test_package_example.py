"""The example of docs/package.md (linked from the README), run as written on a synthetic series."""

import re

import numpy as np
import pandas as pd

from anomalylab import paths


def test_the_documented_example_runs_and_scores_the_whole_series(tmp_path, monkeypatch):
    text = (paths.ROOT / "docs" / "package.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    rng = np.random.default_rng(0)
    index = pd.date_range("2024-01-01", periods=700, freq="h")
    values = pd.Series(10 + 3 * np.sin(2 * np.pi * np.arange(700) / 24) + rng.normal(0, 0.2, 700), index=index)
    labels = pd.Series(0, index=index)
    for hour in (600, 650, 660):  # three anomalies in the test part (its last 140 hours)
        values.iloc[hour] += 6
        labels.iloc[hour] = 1
    monkeypatch.chdir(tmp_path)
    scope = {"values": values, "labels": labels}
    exec(compile(block, "docs/package.md", "exec"), scope)  # noqa: S102 (the documentation's own code)
    scores, test = scope["scores"], scope["test"]
    assert scores.index.equals(values.index) and scores.isna().sum() == 72
    assert scores[test.index].notna().all()  # every test point scored: its history lies before the split
    assert scope["report"]["recall"] == 1.0 and scope["report"]["roc_auc"] > 0.99
    assert set(scores[test.index].nlargest(3).index) == {index[600], index[650], index[660]}
    np.testing.assert_array_equal(scope["same"], scores)
