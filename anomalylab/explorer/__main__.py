"""``python -m anomalylab.explorer``: build explorer/index.html from figures/scores and figures/tables."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from anomalylab.errors import InputError
from anomalylab.explorer import EXPLORER_PATH, build_explorer
from anomalylab.explorer.browser import screenshot


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m anomalylab.explorer", description=__doc__)
    parser.add_argument("--scores", type=Path, default=None, help="folder of score files (default figures/scores)")
    parser.add_argument("--tables", type=Path, default=None, help="folder of score tables (default figures/tables)")
    parser.add_argument("--out", type=Path, default=EXPLORER_PATH, help="the page to write")
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="also save a PNG of the page (headless Chromium; e.g. docs/explorer.png)")
    parser.add_argument("--dataset", default=None, help="the entry shown in the screenshot, e.g. mixtiles")
    args = parser.parse_args(argv)
    try:
        built = build_explorer(args.scores, args.tables, args.out)
        if args.dataset is not None and args.dataset not in built["keys"]:
            raise InputError(f"--dataset {args.dataset!r} is not an entry of the page; give one of "
                             f"{', '.join(built['keys'][:6])}, ... ({len(built['keys'])} entries).")
        if args.screenshot is not None:
            screenshot(built["path"], args.screenshot, dataset=args.dataset)
            print(f"wrote {args.screenshot}")
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {built['path']} ({built['bytes'] / 2**20:.1f} MiB, {built['entries']} datasets or series) "
          f"in {built['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
