"""One detector contract: every detector is a ``Detector``; the registry its subclasses fill is what persistence may
rebuild and what the command line offers; ``decision_function``, ``calibrate`` and ``predict`` keep PyOD's meaning."""

import numpy as np
import pandas as pd
import pytest

from anomalylab import models
from anomalylab.cli import main
from anomalylab.cli.catalogue import models as cli_models
from anomalylab.errors import InputError
from anomalylab.models import load
from anomalylab.models.base import Detector
from anomalylab.models.persistence import _classes
from anomalylab.models.registry import DETECTORS, register


@pytest.fixture
def new_detector():
    """A detector class written outside the package, as a user would; removed from the registry afterwards."""

    class MeanDistance(Detector):
        """Distance of each row to the mean of the training rows."""

        def __init__(self, scale: float = 1.0, seed: int = 0):
            self.scale, self.seed = scale, seed

        def fit(self, train, val=None):  # noqa: ARG002
            self.mean_ = np.asarray(train, dtype=float).mean(axis=0)
            return self

        def score_samples(self, X):
            return self.scale * np.linalg.norm(np.asarray(X, dtype=float) - self.mean_, axis=1)

    yield MeanDistance
    DETECTORS.pop("MeanDistance", None)


def test_every_detector_is_a_detector_and_the_registry_is_the_allow_list():
    assert len(DETECTORS) >= 20
    assert all(issubclass(cls, Detector) for cls in DETECTORS.values())
    assert set(_classes()) == set(DETECTORS) | {"Winsorizer"}
    exported = {name for name in models.__all__ if isinstance(getattr(models, name), type)
                and issubclass(getattr(models, name), Detector)}  # fmt: skip
    assert exported <= set(DETECTORS)
    assert "KerasDetector" not in DETECTORS  # abstract: a base, not a detector


def test_a_new_detector_class_is_offered_and_saved_without_an_edit_elsewhere(new_detector, tmp_path, capsys):
    assert DETECTORS["MeanDistance"] is new_detector
    entries = cli_models(lookback=6, epochs=1, seed=0)
    factory, text = entries["meandistance"]
    built = factory()
    assert isinstance(built, models.WindowDetector) and isinstance(built.detector, new_detector)
    assert text.startswith("Distance of each row to the mean of the training rows (on windows of 6 steps)")
    assert main(["detect", "--list-models"]) == 0
    assert "meandistance" in capsys.readouterr().out
    rng = np.random.default_rng(0)
    fitted = new_detector(scale=2.0).fit(rng.normal(size=(50, 3)))
    loaded = load(fitted.save(tmp_path / "mine"))
    X = rng.normal(size=(5, 3))
    np.testing.assert_array_equal(loaded.score_samples(X), fitted.score_samples(X))
    series = pd.DataFrame({"value": np.sin(np.arange(300) / 5)},
                          index=pd.date_range("2024-01-01", periods=300, freq="h"))  # fmt: skip
    scores = factory().fit(series.iloc[:200]).score_samples(series)
    assert scores.iloc[:5].isna().all() and scores.iloc[5:].notna().all()


def test_a_second_class_of_a_registered_name_is_refused():
    existing = DETECTORS["GOAD"]
    impostor = type("GOAD", (), {"__module__": "somewhere.else"})
    with pytest.raises(TypeError, match="already registered .*rename the class"):
        register(impostor)
    assert DETECTORS["GOAD"] is existing


def test_decision_function_calibrate_and_predict():
    rng = np.random.default_rng(1)
    train, test = rng.normal(size=(400, 4)), np.r_[rng.normal(size=(95, 4)), rng.normal(6, 1, size=(5, 4))]
    detector = models.PCAReconstruction(n_components=2).fit(train)
    np.testing.assert_array_equal(detector.decision_function(test), detector.score_samples(test))
    with pytest.raises(InputError, match="no threshold: call .set_threshold"):
        detector.predict(test)
    detector.calibrate(train, contamination=0.05)
    assert detector.threshold_ in detector.score_samples(train)  # a score that occurs
    assert abs(detector.predict(train).mean() - 0.05) <= 1 / len(train)
    flags = detector.predict(test)
    assert flags.dtype.kind == "i" and set(np.unique(flags)) <= {0, 1} and flags[-5:].all()
    assert detector.set_threshold(1e9).predict(test).sum() == 0
    for bad in (0, 1, -0.1, "5%"):
        with pytest.raises(InputError, match="strictly between 0 and 1"):
            detector.calibrate(train, contamination=bad)
    with pytest.raises(InputError, match="finite number"):
        detector.set_threshold(np.nan)


def test_predict_on_a_series_keeps_its_index_and_leaves_unscored_rows_unflagged(tmp_path):
    values = np.sin(np.arange(200) / 4)
    values[150] = 8.0
    series = pd.Series(values, index=pd.date_range("2024-01-01", periods=200, freq="h"), name="value")
    detector = models.RollingZScore(window=20).fit(series.iloc[:100]).calibrate(series.iloc[:100], 0.02)
    flags = detector.predict(series)
    assert flags.index.equals(series.index) and flags.iloc[:20].eq(0).all() and flags.iloc[150] == 1
    loaded = load(detector.save(tmp_path / "z"))
    assert loaded.threshold_ == detector.threshold_
    pd.testing.assert_series_equal(loaded.predict(series), flags)


def test_every_command_line_entry_builds_an_unfitted_detector():
    for name, (factory, text) in cli_models(lookback=12, epochs=1, seed=0).items():
        detector = factory()
        assert isinstance(detector, Detector) and detector.input_kind == "series", name
        assert text and "``" not in text and ":class:" not in text, name
