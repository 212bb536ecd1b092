"""`mithridate show`: print the tables of a sweep, garbage or synthetic folder again, computing nothing.

A sweep folder holds results.sqlite; a `garbage` or `synthetic` folder holds the grid store (grid.sqlite),
possibly with both experiments in it. Either way the tables (or --json summaries) come from the store.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from .arguments import print_summaries

__all__ = ["add_parser", "run", "show_grid_folder"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `show` and its flags."""
    parser = subparsers.add_parser("show", help="print the tables of a sweep, garbage or synthetic folder again")
    parser.add_argument("folder", type=Path, help="the run folder (runs/NAME)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run)


def show_grid_folder(folder: Path) -> list:
    """The summaries of every garbage and synthetic recipe stored in `folder`/grid.sqlite (for a `show`
    command that also reads these folders); FileNotFoundError without a grid store, ValueError if empty."""
    from ..experiments.garbage import show_garbage
    from ..experiments.grid import GRID_FILE, GridStore
    from ..experiments.synthetic import show_synthetic

    path = Path(folder) / GRID_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder}: no {GRID_FILE} here; expected a folder written by 'mithridate garbage' or 'synthetic'"
        )
    with GridStore(path) as store:
        experiments = {spec.experiment for spec in store.specs()}
    summaries: list = []
    for name, show in (("garbage", show_garbage), ("synthetic", show_synthetic)):
        if name in experiments:
            with contextlib.suppress(ValueError):  # registered, nothing finished yet
                summaries += show(folder)
    if not summaries:
        raise ValueError(f"{folder}: the store holds no finished garbage or synthetic result yet")
    return summaries


def run(args: argparse.Namespace) -> int:
    """Print the stored summaries of the folder; returns the exit status."""
    from ..experiments.grid import GRID_FILE
    from ..experiments.studies.sweep import show_sweep

    folder = Path(args.folder)
    if (folder / GRID_FILE).is_file() and not (folder / "store.sqlite").is_file():
        summaries = show_grid_folder(folder)  # a `garbage` or `synthetic` folder
    else:
        summaries = show_sweep(args.folder)
    print_summaries(summaries, args.json)
    return 0
