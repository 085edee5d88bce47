"""The Numenta Anomaly Benchmark (58 series, NAB v1.1's scorer, its development and evaluation halves)."""
