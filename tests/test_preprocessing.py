import numpy as np
import pandas as pd
import pytest

from anomalylab import datasets as d
from anomalylab import preprocessing as pp


def test_sliding_windows_shape_and_content():
    x = np.arange(10.0)
    w = pp.sliding_windows(x, 4)
    assert w.shape == (7, 4, 1)
    np.testing.assert_array_equal(w[0, :, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(w[-1, :, 0], [6, 7, 8, 9])
    assert pp.sliding_windows(x, 4, step=3).shape == (3, 4, 1)
    multi = np.column_stack([x, -x])
    assert pp.sliding_windows(multi, 3).shape == (8, 3, 2)
    np.testing.assert_array_equal(pp.sliding_windows(multi, 3)[1, :, 1], [-1, -2, -3])


def test_forecast_windows_pair_history_with_next_value_and_timestamps():
    idx = pd.date_range("2024-01-01", periods=8, freq="h")
    s = pd.Series(np.arange(8.0) * 10, index=idx)
    fw = pp.forecast_windows(s, lookback=3)
    assert fw.X.shape == (5, 3, 1) and fw.y.shape == (5, 1)
    np.testing.assert_array_equal(fw.X[0, :, 0], [0, 10, 20])
    assert fw.y[0, 0] == 30 and fw.index[0] == idx[3]
    fw2 = pp.forecast_windows(s, lookback=3, horizon=2)
    assert fw2.y[0, 0] == 40 and fw2.index[0] == idx[4] and len(fw2) == 4


def test_no_window_straddles_a_split():
    idx = pd.date_range("2024-01-01", periods=100, freq="h")
    s = pd.Series(np.arange(100.0), index=idx)
    parts = d.chronological_split(s, (0.6, 0.2, 0.2))
    windows = pp.forecast_windows_per_split(parts, lookback=5)
    for part, fw in zip(parts, windows):
        lo, hi = part.iloc[0], part.iloc[-1]
        assert fw.X.min() >= lo and fw.X.max() <= hi  # values are positions: all from this split
        assert fw.y.min() >= lo and fw.y.max() <= hi
        assert fw.index.min() >= part.index.min() and fw.index.max() <= part.index.max()
    assert sum(len(fw) for fw in windows) == 100 - 3 * 5


def test_scaler_is_fitted_on_training_data_only():
    train = np.array([0.0, 1.0, 2.0, 3.0])
    test = np.array([100.0, 200.0])
    scaler, train_s, test_s = pp.scale_splits(train, test)
    assert scaler.mean_[0] == pytest.approx(1.5)
    assert train_s.mean() == pytest.approx(0.0)
    assert test_s[0, 0] == pytest.approx((100 - 1.5) / np.std(train))
    mm = pp.fit_scaler(train, "minmax")
    assert mm.transform([[3.0]])[0, 0] == pytest.approx(1.0)


def test_winsorizer_bounds_come_from_training_data():
    train = np.arange(101.0)
    w = pp.Winsorizer(0.1, 0.9).fit(train)
    out = w.transform(np.array([-50.0, 50.0, 500.0]))
    np.testing.assert_allclose(out.ravel(), [10.0, 50.0, 90.0])
