"""Detectors, one module per family (forecasters, autoencoders, gan, self-supervised tabular, classical, hybrid,
series baselines, windows), and their persistence.

Every detector has the same face: ``fit(X_train, X_val=None) -> self``, ``score_samples(X)`` (higher = more
anomalous; series detectors return a ``pd.Series`` on the input's index, NaN where a point has no score),
``save(path)`` / ``Class.load(path)``, a ``name``, and its hyperparameters as constructor arguments with
defaults. The detectors are importable from here; ``load(path)`` reads back any saved detector. Importing this
package does not import TensorFlow (the Keras models import it when they are built).
"""

from anomalylab.models.autoencoders import DenseAutoencoder, SequenceAutoencoder, VariationalAutoencoder
from anomalylab.models.classical import (
    IsolationForestDetector,
    KMeansDistance,
    OneClassSVMDetector,
    PCAReconstruction,
    PyODDetector,
    RandomScore,
    RollingZScore,
    SeasonalNaive,
    SpatialNovelty,
    WindowedGaussian,
)
from anomalylab.models.forecasters import DEEPANT, MIXTILES_SEED, SIMPLE_CONV1D, CNNForecaster, StreamingForecaster
from anomalylab.models.gan import BiGAN
from anomalylab.models.hybrid import HybridKMeansAutoencoder, SemiSupervisedHybrid
from anomalylab.models.persistence import load, save
from anomalylab.models.selfsupervised import GOAD, DeepSVDD, NeuTraLAD
from anomalylab.models.series_baselines import MatrixProfileDiscord, RollingMedianResidual, STLResidual
from anomalylab.models.windows import WindowDetector

__all__ = [
    "DEEPANT", "GOAD", "MIXTILES_SEED", "SIMPLE_CONV1D", "BiGAN", "CNNForecaster", "DeepSVDD", "DenseAutoencoder",
    "HybridKMeansAutoencoder", "IsolationForestDetector", "KMeansDistance", "MatrixProfileDiscord", "NeuTraLAD",
    "OneClassSVMDetector", "PCAReconstruction", "PyODDetector", "RandomScore", "RollingMedianResidual",
    "RollingZScore", "STLResidual", "SeasonalNaive", "SemiSupervisedHybrid", "SequenceAutoencoder",
    "SpatialNovelty", "StreamingForecaster", "VariationalAutoencoder", "WindowDetector", "WindowedGaussian", "load",
    "save",
]  # fmt: skip
