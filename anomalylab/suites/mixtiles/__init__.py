"""The Mixtiles hourly traffic benchmark (expert-labelled anomalies, a fixed chronological split)."""
