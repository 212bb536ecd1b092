"""`mithridate show`: print the tables of a sweep, garbage or synthetic folder again, computing nothing.

Every run folder holds the experiment store (store.sqlite), possibly with several studies in it; the tables
(or --json summaries) come from the store. A folder written by an older version gets a one-line error
naming `mithridate convert`.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from .arguments import print_summaries

__all__ = ["add_parser", "run", "show_folder"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `show` and its flags."""
    parser = subparsers.add_parser("show", help="print the tables of a sweep, garbage or synthetic folder again")
    parser.add_argument("folder", type=Path, help="the run folder (runs/NAME)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=run)


def show_folder(folder: Path) -> list:
    """The summaries of every recipe stored in `folder`/store.sqlite, whichever study wrote it (sweep,
    garbage, synthetic); FileNotFoundError without a store, StoreError for a folder of an older version (with
    the command that converts it), ValueError if nothing has finished yet."""
    from ..experiments.store import ExperimentStore, folder_store
    from ..experiments.studies.garbage import show_garbage
    from ..experiments.studies.sweep import show_sweep
    from ..experiments.studies.synthetic import show_synthetic

    path = folder_store(folder, "sweep' or 'garbage' or 'synthetic")
    with ExperimentStore(path) as store:
        experiments = store.experiments()
    summaries: list = []
    for name, show in (("sweep", show_sweep), ("garbage", show_garbage), ("synthetic", show_synthetic)):
        if name in experiments:
            with contextlib.suppress(ValueError):  # registered, nothing finished yet
                summaries += show(folder)
    if not summaries:
        raise ValueError(f"{folder}: the store holds no finished run yet")
    return summaries


def run(args: argparse.Namespace) -> int:
    """Print the stored summaries of the folder; returns the exit status."""
    print_summaries(show_folder(Path(args.folder)), args.json)
    return 0
