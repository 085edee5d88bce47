"""Bad input gets a clear error that says what is wrong and how to fix it."""

import numpy as np
import pandas as pd
import pytest

from anomalylab import datasets as d
from anomalylab import metrics, preprocessing, reporting, thresholds
from anomalylab.config import RunConfig, set_seed
from anomalylab.errors import DataError, InputError

IDX = pd.date_range("2024-01-01", periods=10, freq="h")


def series(values=None, index=IDX):
    return pd.Series(np.arange(10.0) if values is None else values, index=index)


CASES = [
    ("nan values", lambda: d.validate_series(series([1, 2, np.nan, 4, 5, 6, 7, 8, 9, 10.0])),
     "missing value.*interpolate"),
    ("duplicate timestamps", lambda: d.validate_series(series(index=IDX[[0, 1, 1, 2, 3, 4, 5, 6, 7, 8]])),
     "duplicate timestamps.*groupby"),
    ("unsorted timestamps", lambda: d.validate_series(series(index=IDX[::-1])), "unsorted.*sort_index"),
    ("non-numeric values", lambda: d.validate_series(series(list("abcdefghij"))), "must hold numbers"),
    ("dataframe instead of series", lambda: d.validate_series(pd.DataFrame({"a": [1.0], "b": [2.0]})),
     "pass one column"),
    ("index that is not time", lambda: d.validate_series(series(index=pd.Index(list("abcdefghij")))),
     "DatetimeIndex"),
    ("series shorter than window", lambda: preprocessing.forecast_windows(series(), lookback=20),
     "needs at least 21"),
    ("negative window", lambda: preprocessing.sliding_windows(np.arange(5.0), -3), "positive number"),
    ("non-integer window", lambda: preprocessing.sliding_windows(np.arange(5.0), 2.5), "must be an integer"),
    ("nan in an array", lambda: preprocessing.sliding_windows(np.array([1.0, np.nan, 3.0]), 2),
     "NaN or infinite"),
    ("unknown NAB series", lambda: d.load_nab("no_such_series"), "unknown NAB series.*nab_series_names"),
    ("unknown NAB category", lambda: d.nab_series_names("realNothing"), "unknown NAB category"),
    ("unknown KDD split", lambda: d.load_kdd("validation"), "unknown KDD split"),
    ("unknown scaler", lambda: preprocessing.fit_scaler(np.arange(5.0), "zscore"), "unknown scaler"),
    ("split fractions not summing to 1", lambda: d.split_sizes(100, (0.5, 0.4)), "sum to 1"),
    ("too few rows for the splits", lambda: d.split_sizes(3, (0.1, 0.1, 0.8)), "too few"),
    ("labels and scores of different length", lambda: metrics.roc_auc([0, 1, 1], [0.1, 0.2]),
     "differ in length"),
    ("labels that are not 0/1", lambda: metrics.point_metrics([0, 2, 1], [0, 1, 1]), "0/1"),
    ("empty scores for a threshold", lambda: thresholds.quantile_threshold([]), "empty"),
    ("quantile out of range", lambda: thresholds.quantile_threshold([1.0, 2.0], 1.5), r"q must be in \(0, 1\]"),
    ("unknown NAB profile", lambda: metrics.nab_score([(np.zeros(3), IDX[:3], [])], "strict"),
     "unknown NAB profile"),
    ("NaN anomaly scores for NAB", lambda: metrics.nab_score([(np.full(10, np.nan), IDX, [(IDX[5], IDX[6])])]),
     "NaN"),
    ("table missing columns", lambda: reporting.check_table(pd.DataFrame({"model": ["x"], "value": [1.0]})),
     "lacks column"),
    ("negative seed", lambda: set_seed(-1), "non-negative"),
    ("zero seeds in a config", lambda: RunConfig.create(False, n_seeds=0), "at least 1"),
]


@pytest.mark.parametrize("case,call,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_clear_message(case, call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_wrong_columns_in_a_raw_file_name_the_fix(tmp_path, monkeypatch):
    bad = tmp_path / "traffic.csv"
    bad.write_text("hour,users\n2024-01-01 00:00,3\n")
    monkeypatch.setattr(d.sources, "fetch", lambda name, **kw: bad)  # the loader looks it up there
    with pytest.raises(DataError, match=r"lacks column.*make data"):
        d.load_mixtiles()
