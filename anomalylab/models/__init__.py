"""Detectors, one module per family (forecasters, autoencoders, gan, classical, hybrid).

Every detector has the same face: ``fit(X_train, X_val=None) -> self``,
``score_samples(X) -> np.ndarray`` (higher = more anomalous), a ``name``, and
its hyperparameters as constructor arguments with defaults. The families are
added by the notebooks' issues (02-05).
"""
