"""`mithridate bench`: throughput side by side with torchvision, albumentations, kornia, torchaug, imagecorruptions.

Declares the flags and writes the outputs; the timing itself is `mithridate.bench` (one process per peer
library). The SIDE:BATCH and thread-count types are bench's own, so they live here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .arguments import names, positive_int

__all__ = ["add_parser", "run", "sizes", "thread_counts"]


def sizes(text: str) -> tuple[tuple[int, int], ...]:
    """An argparse type: SIDE:BATCH pairs separated by commas, e.g. 32:1024,224:128."""
    pairs = []
    for part in text.split(","):
        side, _, batch = part.strip().partition(":")
        try:
            pairs.append((int(side), int(batch)))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected SIDE:BATCH pairs such as 32:1024,224:128, got {part!r}"
            ) from None
    return tuple(pairs)


def thread_counts(text: str) -> tuple[int, ...]:
    """An argparse type: thread counts or 'all' (the CPU count) separated by commas, without repeats."""
    counts = []
    for part in text.split(","):
        part = part.strip()
        if part == "all":
            counts.append(os.cpu_count() or 1)
            continue
        try:
            counts.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected thread counts or 'all', such as 1,all, got {part!r}") from None
    return tuple(dict.fromkeys(counts))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `bench` and its flags."""
    from ..bench.cases import GROUPS
    from ..bench.libraries import LIBRARIES

    parser = subparsers.add_parser(
        "bench",
        help="throughput side by side with torchvision, albumentations, kornia, torchaug, imagecorruptions",
        description=(
            "Time per-sample policies, the 14 single ops, the corruption suite and a batch copy, one process "
            "per library on the same uint8 photos; write NAME.md, NAME.json and NAME.png under --out. "
            "Peers that are not installed are skipped with a line saying so (pip install -e '.[bench]')."
        ),
    )
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--sizes", type=sizes, default=None, help="SIDE:BATCH pairs (default: 32:1024,224:128)")
    parser.add_argument("--threads", type=thread_counts, default=None, help="thread counts or 'all' (default: 1,all)")
    parser.add_argument("--libraries", type=names, default=LIBRARIES, help=f"some of {','.join(LIBRARIES)}")
    parser.add_argument("--groups", type=names, default=GROUPS, help=f"some of {','.join(GROUPS)}")
    parser.add_argument("--repeats", type=positive_int, default=5, help="timed repetitions per case (default: 5)")
    parser.add_argument(
        "--target-seconds", type=float, default=0.2, help="length of one repetition in seconds (default: 0.2)"
    )
    parser.add_argument(
        "--cifar",
        default=None,
        help="folder with images below it for the 32x32 inputs: a data root, a dataset root (its train/ images) "
        "or an image folder (default: $MITHRIDATE_CIFAR or ../shared/data/cifar10-small)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="folder of the outputs")
    parser.add_argument("--name", default=None, help="file name of the outputs (default: bench_<device>)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 32:16, one thread, one repetition")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Time every case, print the Markdown table and write the outputs; returns the exit status."""
    from ..bench import BenchSettings, run_bench
    from ..bench.report import write_outputs

    quick = args.quick
    settings = BenchSettings(
        sizes=args.sizes or (((32, 16),) if quick else ((32, 1024), (224, 128))),
        threads=args.threads or ((1,) if quick else (1, os.cpu_count() or 1)),
        device=args.device,
        libraries=tuple(args.libraries),
        groups=tuple(args.groups),
        repeats=1 if quick else args.repeats,
        target_seconds=0.005 if quick else args.target_seconds,
        cifar=args.cifar,
    )
    result = run_bench(settings, echo=lambda line: print(line, file=sys.stderr))
    name = args.name or f"bench_{args.device}"
    if args.name is None and args.device == "cuda":  # results name the GPU they come from
        gpu = result["machine"].get("gpu", "gpu").lower()
        name += "_" + "_".join("".join(c if c.isalnum() else " " for c in gpu).split()[:3])
    paths = write_outputs(result, args.out, name)
    print(paths["markdown"].read_text())
    print(f"wrote {paths['markdown']}, {paths['json']}, {paths['chart']}", file=sys.stderr)
    return 0
