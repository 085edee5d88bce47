"""``python -m anomalylab.datasets`` fetches and verifies every raw file."""

from __future__ import annotations

from collections.abc import Sequence

from anomalylab import paths
from anomalylab.datasets.registry import fetch_all
from anomalylab.errors import DataError

# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m anomalylab.datasets`` fetches and verifies every raw file."""
    import argparse

    parser = argparse.ArgumentParser(description="Fetch and verify anomalylab's raw data.")
    parser.parse_args(argv)
    try:
        fetched = fetch_all()
    except DataError as exc:
        print(f"error: {exc}")
        return 1
    print(f"{len(fetched)} raw files present and verified in {paths.RAW_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
