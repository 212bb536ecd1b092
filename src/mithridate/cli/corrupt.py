"""`mithridate corrupt`: write a corrupted copy of an image folder (19 corruptions x 5 severities).

The copy keeps the folder's layout under OUT/<corruption>/<severity>/, so any loader of the clean folder
reads the corrupted one; the work is `experiments.corrupt_folder.corrupt_folder`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .arguments import ints, names, non_negative_int

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `corrupt` and its flags."""
    parser = subparsers.add_parser(
        "corrupt", help="write a corrupted copy of an image folder (19 corruptions x 5 severities)"
    )
    parser.add_argument("--data", type=Path, required=True, help="an image folder (root/<class>/<images>, or flat)")
    parser.add_argument("--out", type=Path, required=True, help="output folder: OUT/<corruption>/<severity>/...")
    parser.add_argument("--corruptions", type=names, help="corruption names, comma-separated (default: all 19)")
    parser.add_argument("--severities", type=ints, help="severities, comma-separated (default: 1,2,3,4,5)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of the random corruptions (default: 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the corrupted copies and say how many images; returns the exit status."""
    from ..experiments.corrupt_folder import corrupt_folder
    from ..image.corruptions import CORRUPTIONS, SEVERITIES

    written = corrupt_folder(
        args.data,
        args.out,
        corruptions=args.corruptions or CORRUPTIONS,
        severities=args.severities or SEVERITIES,
        seed=args.seed,
        progress=not args.no_progress,
    )
    print(f"wrote {written} images under {args.out}")
    return 0
