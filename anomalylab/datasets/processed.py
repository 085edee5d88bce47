"""Summaries of prepared data, and the processed frames notebook 01 writes for the others."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anomalylab import paths
from anomalylab.errors import DataError, InputError

# --------------------------------------------------------------------------- summaries


def series_summary(frame: pd.DataFrame, value: str, label: str | None = None, name: str = "") -> dict:
    """Shape, time span, sampling, gaps and label count of a time-indexed frame."""
    index = frame.index
    row = {"dataset": name, "rows": len(frame)}
    if isinstance(index, pd.DatetimeIndex):
        steps = pd.Series(index).diff().dropna()
        sampling = steps.mode().iloc[0]
        row.update(
            start=index[0], end=index[-1], sampling=str(sampling),
            gaps=int((steps > sampling).sum()), missing_steps=int((steps / sampling).sum() - len(steps)),
        )  # fmt: skip
    else:
        row.update(start=index[0], end=index[-1], sampling="1 step", gaps=0, missing_steps=0)
    row.update(value_min=float(frame[value].min()), value_max=float(frame[value].max()))
    if label is not None:
        row["anomalies"] = int(frame[label].sum())
    return row



# --------------------------------------------------------------------------- processed data


def save_processed(frame: pd.DataFrame, name: str, config) -> Path:
    """Write a processed frame as ``<config.processed_dir>/<name>.parquet``, atomically."""
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"expected a DataFrame to save, got {type(frame).__name__}.")
    target = Path(config.processed_dir) / f"{name}.parquet"
    with paths.atomic_path(target) as tmp:
        frame.to_parquet(tmp)
    return target


def load_processed(name: str, config) -> pd.DataFrame:
    """Read a frame written by notebook 01 (``data/processed`` or ``build/quick/processed``)."""
    path = Path(config.processed_dir) / f"{name}.parquet"
    if not path.is_file():
        mode = "make quick" if getattr(config, "quick", False) else "make reproduce"
        raise DataError(
            f"{path} does not exist. Run notebook 01_data_preparation first "
            f"(`{mode}` runs it, or open it in JupyterLab)."
        )
    return pd.read_parquet(path)


