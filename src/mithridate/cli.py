"""The `mithridate` command.

    mithridate preview --policy ta_wide --data digits --out preview.png --seed 0 --rows 4 --cols 6

Each subcommand has an `_add_<name>` function that declares its arguments and a `_run_<name>` function
that does the work and returns the exit status. Errors in what the user gave (an unknown policy, a
missing folder, a bad value) print one line `mithridate: error: ...` on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import torch

from . import __version__

PROG = "mithridate"


class _UsageError(Exception):
    """A command line argparse rejected; reported as one line."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _int_at_least(minimum: int, words: str):
    """An argparse type for integers >= minimum, with a message naming what was expected."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {words}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {words}, got {value}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_seed = _int_at_least(0, "a non-negative integer")


# preview ----------------------------------------------------------------------------------------------


def _add_preview(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "preview",
        help="draw a grid of augmented images, each captioned with the ops it drew",
        description=(
            "Write a PNG grid: one row per image (spread over the dataset), the original first, then COLS "
            "independent draws of the policy, each captioned with its ops and magnitudes."
        ),
    )
    parser.add_argument(
        "--policy", default="ta_wide", help="policy string, e.g. ta_wide, rand-n2-m9, augmix-m3 (default: ta_wide)"
    )
    parser.add_argument(
        "--data",
        default="digits",
        help="'digits' (default), a scikit-image picture name (astronaut, camera, ...), a CIFAR-10 python "
        "batches folder, an image folder (root/<class>/<images>, or with train/ and test/), or an image file",
    )
    parser.add_argument("--out", type=Path, default=Path("preview.png"), help="output image (default: preview.png)")
    parser.add_argument("--seed", type=_seed, default=0, help="policy seed (default: 0)")
    parser.add_argument("--rows", type=_positive_int, default=4, help="images, one per row (default: 4)")
    parser.add_argument("--cols", type=_positive_int, default=6, help="draws per image (default: 6)")
    parser.add_argument("--size", type=_positive_int, help="make images SIZE x SIZE first (pictures: centre crop)")
    parser.add_argument(
        "--split",
        choices=("train", "test"),
        default="train",
        help="split of a dataset folder that has one (default: train)",
    )
    parser.add_argument("--tile", type=_positive_int, help="pixels of a tile's longer side (default: automatic)")
    parser.set_defaults(run=_run_preview)


def _spread(labels: torch.Tensor, count: int) -> torch.Tensor:
    """`count` indices evenly spaced over the dataset sorted by label (stable), so that rows show several classes."""
    order = torch.argsort(labels, stable=True)
    positions = torch.linspace(0, len(labels) - 1, count).round().long()
    return order[positions]


def _run_preview(args: argparse.Namespace) -> int:
    from .experiments.datasets import load_images
    from .image import policy as make_policy
    from .image.preview import preview_grid

    policy = make_policy(args.policy, seed=args.seed)
    # an image folder decodes only its first `rows` files per class: enough to spread the rows over classes
    dataset = load_images(args.data, size=args.size, split=args.split, limit_per_class=args.rows)
    rows = min(args.rows, len(dataset))
    picks = _spread(dataset.labels, rows)
    title = f"{policy}  seed {args.seed}  data {args.data}"
    grid = preview_grid(policy, dataset.images[picks], cols=args.cols, tile=args.tile, title=title)
    grid.save(args.out)
    shown = sorted({dataset.classes[i] for i in dataset.labels[picks].tolist()})
    classes = f"class{'es' if len(shown) > 1 else ''} {', '.join(shown)}"
    print(
        f"wrote {args.out}: {rows} x {args.cols} draws of policy '{policy}' (seed {args.seed}) "
        f"on {args.data} ({classes}), {grid.width}x{grid.height} px"
    )
    return 0


# The command ------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The `mithridate` parser; each subcommand sets `run`, the function that executes it."""
    parser = _Parser(prog=PROG, description="Measured doses of randomness for ML training data.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    _add_preview(subparsers)
    return parser


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]); returns the exit status."""
    from .experiments.datasets import DatasetError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help and --version print and exit 0
        return done.code if isinstance(done.code, int) else 0
    try:
        return args.run(args)
    except (DatasetError, ValueError, TypeError, OSError) as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
