"""`mithridate convert`: read the stores an older mithridate wrote in a run folder (the sweep's
results.sqlite, the grid's grid.sqlite) into the folder's store.sqlite, keeping the old files."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `convert` and its argument."""
    parser = subparsers.add_parser(
        "convert",
        help="convert a run folder written by an older mithridate (results.sqlite, grid.sqlite) to store.sqlite",
        description=(
            "Read results.sqlite (sweep) and grid.sqlite (garbage, synthetic) of FOLDER into FOLDER/store.sqlite; "
            "the old files are kept, runs already converted are not added twice."
        ),
    )
    parser.add_argument("folder", type=Path, help="the run folder (runs/NAME)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Convert the folder and say what was converted; returns the exit status."""
    from ..experiments.store import STORE_FILE
    from ..experiments.store.legacy import convert_folder

    report = convert_folder(args.folder)
    for name, counts in report.items():
        print(f"{args.folder / name}: {counts['recipes']} recipes, {counts['runs']} runs added")
    print(f"store: {args.folder / STORE_FILE}")
    return 0
