"""The `mithridate` command.

    mithridate sweep [--config sweep.toml] [--data digits] [--policy ta_wide] [--axis strength] ...
    mithridate show runs/NAME [--json]
    mithridate corrupt --data DIR --out DIR2 [--corruptions ...] [--severities ...]
    mithridate preview --policy ta_wide --data digits --out preview.png --seed 0 --rows 4 --cols 6
    mithridate bench [--device cpu] [--sizes 32:1024,224:128] [--threads 1,all] [--out benchmarks/results]

Each subcommand has an `_add_<name>` function that declares its arguments and a `_run_<name>` function
that does the work and returns the exit status. Errors in what the user gave (an unknown policy, a
missing folder, a bad value) print one line `mithridate: error: ...` on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
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


# sweep ------------------------------------------------------------------------------------------------

_RUN_OPTIONS = ("device", "jobs", "out")


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, e.g. 0,0.5,1,2,3; got {text!r}"
        ) from None


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None


def _names(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _add_sweep(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="train a reference model across doses and seeds; table, store and HTML report",
        description=(
            "Train a reference model at every dose of a policy and every seed, measure clean accuracy, "
            "accuracy under 19 common corruptions at 5 severities, affinity and diversity, and report the "
            "dose-response curve with the best dose marked. Finished runs are stored at once; re-running "
            "resumes. Flags override the --config file."
        ),
    )
    parser.add_argument("--config", type=Path, help="a TOML file with any of the options below (flags override it)")
    parser.add_argument(
        "--data", help="'digits' (default), an image folder with train/ and test/, a CIFAR-10 python-batch folder"
    )
    parser.add_argument("--policy", help="policy string (default: ta_wide)")
    parser.add_argument(
        "--axis",
        choices=("strength", "p", "synthetic-ratio"),
        help="dose axis (default: strength); synthetic-ratio: the share of synthetic training images",
    )
    parser.add_argument(
        "--synthetic",
        help="synthetic images for --axis synthetic-ratio: rendered-digits (the default for digits) or an "
        "image folder with the data's classes",
    )
    parser.add_argument("--doses", type=_floats, help="doses, e.g. 0,0.5,1,1.5,2,3 (the default)")
    parser.add_argument("--seeds", type=_positive_int, help="number of seeds (default: 3)")
    parser.add_argument("--epochs", type=_positive_int, help="training epochs (default: by data)")
    parser.add_argument("--train-size", type=_positive_int, help="training images per class (default: by data)")
    parser.add_argument("--model", choices=("cnn", "resnet"), help="reference model (default: by data)")
    parser.add_argument("--batch-size", type=_positive_int, help="training batch size (default: 64)")
    parser.add_argument("--learning-rate", type=float, help="peak learning rate (default: 0.05)")
    parser.add_argument("--corruptions", type=_names, help="corruption names, comma-separated (default: all 19)")
    parser.add_argument("--severities", type=_ints, help="corruption severities (default: 1,2,3,4,5)")
    parser.add_argument("--corruption-test-size", type=_positive_int, help="test images to corrupt (default: by data)")
    parser.add_argument("--device", help="torch device for training (default: cpu)")
    parser.add_argument("--jobs", type=_positive_int, help="runs in parallel processes (default: CPU cores)")
    parser.add_argument("--out", type=Path, help="output folder (default: runs/<data>-<policy>-<axis>)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=_run_sweep)


def _sweep_settings(args: argparse.Namespace) -> tuple[dict, dict]:
    """Spec fields and run options from the config file, overridden by the flags given."""
    from .experiments.records import SweepSpec

    settings: dict = {}
    if args.config is not None:
        try:
            settings = tomllib.loads(args.config.read_text())
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"config {args.config}: not valid TOML ({error})") from None
        settings = settings.get("sweep", settings)
    flags = {key: value for key, value in vars(args).items() if value is not None}
    for key in ("config", "run", "command", "no_progress"):
        flags.pop(key, None)
    settings.update(flags)
    spec_fields = set(SweepSpec.__dataclass_fields__)
    unknown = sorted(set(settings) - spec_fields - set(_RUN_OPTIONS))
    if unknown:
        valid = ", ".join(sorted(spec_fields | set(_RUN_OPTIONS)))
        raise ValueError(f"config: unknown keys {unknown}; expected some of {valid}")
    options = {key: settings.pop(key) for key in _RUN_OPTIONS if key in settings}
    return settings, options


def _run_sweep(args: argparse.Namespace) -> int:
    from .experiments.records import SweepSpec
    from .experiments.sweep import default_out, run_sweep

    fields, options = _sweep_settings(args)
    spec = SweepSpec.from_dict(fields)
    out = Path(options["out"]) if "out" in options else default_out(spec)
    summary = run_sweep(
        spec,
        out,
        device=str(options.get("device", "cpu")),
        jobs=int(options.get("jobs", _default_jobs())),
        progress=not args.no_progress,
    )
    print(summary.format_table())
    print(f"report: {out / 'report.html'}  store: {out / 'results.sqlite'}")
    return 0


# show -------------------------------------------------------------------------------------------------


def _add_show(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("show", help="print the tables of a sweep, garbage or synthetic folder again")
    parser.add_argument("folder", type=Path, help="the run folder (runs/NAME)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(run=_run_show)


def _run_show(args: argparse.Namespace) -> int:
    from .experiments.grid import GRID_FILE
    from .experiments.sweep import show_sweep

    folder = Path(args.folder)
    if (folder / GRID_FILE).is_file() and not (folder / "results.sqlite").is_file():
        from .experiments.garbage_cli import show_grid_folder  # a `garbage` or `synthetic` folder

        summaries = show_grid_folder(folder)
    else:
        summaries = show_sweep(args.folder)
    if args.json:
        print(json.dumps([summary.to_dict() for summary in summaries], indent=2))
    else:
        print("\n\n".join(summary.format_table() for summary in summaries))
    return 0


# corrupt ----------------------------------------------------------------------------------------------


def _add_corrupt(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "corrupt", help="write a corrupted copy of an image folder (19 corruptions x 5 severities)"
    )
    parser.add_argument("--data", type=Path, required=True, help="an image folder (root/<class>/<images>, or flat)")
    parser.add_argument("--out", type=Path, required=True, help="output folder: OUT/<corruption>/<severity>/...")
    parser.add_argument("--corruptions", type=_names, help="corruption names, comma-separated (default: all 19)")
    parser.add_argument("--severities", type=_ints, help="severities, comma-separated (default: 1,2,3,4,5)")
    parser.add_argument("--seed", type=_seed, default=0, help="seed of the random corruptions (default: 0)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=_run_corrupt)


def _run_corrupt(args: argparse.Namespace) -> int:
    from .experiments.corrupt_folder import corrupt_folder
    from .image.corruptions import CORRUPTIONS, SEVERITIES

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


# bench ------------------------------------------------------------------------------------------------


def _sizes(text: str) -> tuple[tuple[int, int], ...]:
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


def _thread_counts(text: str) -> tuple[int, ...]:
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


def _add_bench(subparsers: argparse._SubParsersAction) -> None:
    from .bench.cases import GROUPS
    from .bench.libraries import LIBRARIES

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
    parser.add_argument("--sizes", type=_sizes, default=None, help="SIDE:BATCH pairs (default: 32:1024,224:128)")
    parser.add_argument("--threads", type=_thread_counts, default=None, help="thread counts or 'all' (default: 1,all)")
    parser.add_argument("--libraries", type=_names, default=LIBRARIES, help=f"some of {','.join(LIBRARIES)}")
    parser.add_argument("--groups", type=_names, default=GROUPS, help=f"some of {','.join(GROUPS)}")
    parser.add_argument("--repeats", type=_positive_int, default=5, help="timed repetitions per case (default: 5)")
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
    parser.set_defaults(run=_run_bench)


def _run_bench(args: argparse.Namespace) -> int:
    from .bench import BenchSettings, run_bench
    from .bench.report import write_outputs

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


# The command ------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The `mithridate` parser; each subcommand sets `run`, the function that executes it."""
    parser = _Parser(prog=PROG, description="Measured doses of randomness for ML training data.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    _add_sweep(subparsers)
    _add_show(subparsers)
    _add_corrupt(subparsers)
    _add_preview(subparsers)
    _add_bench(subparsers)
    from .experiments import garbage_cli  # `garbage` and `synthetic`: the issue-5 experiments

    garbage_cli.add_parsers(subparsers)
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
