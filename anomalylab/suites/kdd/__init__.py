"""KDD Cup 99 (the K1 and K2 protocols of the tabular detectors)."""
