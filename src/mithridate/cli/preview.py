"""`mithridate preview`: a PNG grid of augmented images, each draw captioned with the ops it drew.

A quick look at what a policy does to a dataset before training on it: one row per image (spread over the
classes), the original first, then independent draws of the policy.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .arguments import non_negative_int, positive_int

__all__ = ["add_parser", "run"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `preview` and its flags."""
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
    parser.add_argument("--seed", type=non_negative_int, default=0, help="policy seed (default: 0)")
    parser.add_argument("--rows", type=positive_int, default=4, help="images, one per row (default: 4)")
    parser.add_argument("--cols", type=positive_int, default=6, help="draws per image (default: 6)")
    parser.add_argument("--size", type=positive_int, help="make images SIZE x SIZE first (pictures: centre crop)")
    parser.add_argument(
        "--split",
        choices=("train", "test"),
        default="train",
        help="split of a dataset folder that has one (default: train)",
    )
    parser.add_argument("--tile", type=positive_int, help="pixels of a tile's longer side (default: automatic)")
    parser.set_defaults(run=run)


def _spread(labels: torch.Tensor, count: int) -> torch.Tensor:
    """`count` indices evenly spaced over the dataset sorted by label (stable), so that rows show several classes."""
    order = torch.argsort(labels, stable=True)
    positions = torch.linspace(0, len(labels) - 1, count).round().long()
    return order[positions]


def run(args: argparse.Namespace) -> int:
    """Write the grid to --out and say what it shows; returns the exit status."""
    from ..data.datasets import load_images
    from ..image import policy as make_policy
    from ..image.preview import preview_grid

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
