"""`mithridate bench`: throughput side by side with torchvision, albumentations, kornia, torchaug, imagecorruptions
(`--modality image`, the default), with nlpaug and transformers' MLM collator (`--modality text`), or beside
tokenize's round trip (`--modality code`).

Declares the flags and writes the outputs; the timing itself is `mithridate.bench` and `mithridate.bench.text`
(one process per peer library). The SIDE:BATCH and thread-count types are bench's own, so they live here.
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


IMAGE_ONLY = ("device", "sizes", "cifar")
TEXT_ONLY = ("data", "n", "batch")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `bench` and its flags."""
    from ..bench.cases import GROUPS
    from ..bench.libraries import LIBRARIES
    from ..bench.text.cases import TEXT_GROUPS
    from ..bench.text.libraries import TEXT_LIBRARIES

    parser = subparsers.add_parser(
        "bench",
        help="throughput side by side with torchvision, albumentations, kornia, torchaug, imagecorruptions",
        description=(
            "Time per-sample policies, the 14 single ops, the corruption suite and a batch copy, one process "
            "per library on the same uint8 photos; write NAME.md, NAME.json and NAME.png under --out. "
            "Peers that are not installed are skipped with a line saying so (pip install -e '.[bench]'). "
            "--modality text: string noise against nlpaug at the same per-unit rates, BERT masking against "
            "transformers' DataCollatorForLanguageModeling, and the token-level denoising noise, on the first N "
            "SST-2 sentences, one thread; writes NAME.md and NAME.json. --modality code: every code op on N "
            "standard-library files beside tokenize's round trip (the token-level ops on npm's JavaScript beside "
            "Pygments' lexing), one thread; writes NAME.md and NAME.json."
        ),
    )
    parser.add_argument(
        "--modality", default="image", choices=("image", "text", "code"), help="what to benchmark (default: image)"
    )
    parser.add_argument("--device", default=None, choices=("cpu", "cuda"), help="image only (default: cpu)")
    parser.add_argument(
        "--sizes", type=sizes, default=None, help="image only: SIDE:BATCH pairs (default: 32:1024,224:128)"
    )
    parser.add_argument(
        "--threads", type=thread_counts, default=None, help="thread counts or 'all' (default: 1,all; text: 1)"
    )
    parser.add_argument(
        "--libraries",
        type=names,
        default=None,
        help=f"some of {','.join(LIBRARIES)} (text: {','.join(TEXT_LIBRARIES)}; default: all)",
    )
    parser.add_argument(
        "--groups",
        type=names,
        default=None,
        help=f"some of {','.join(GROUPS)} (text: {','.join(TEXT_GROUPS)}; default: all)",
    )
    parser.add_argument("--repeats", type=positive_int, default=5, help="timed repetitions per case (default: 5)")
    parser.add_argument(
        "--target-seconds", type=float, default=0.2, help="length of one repetition in seconds (default: 0.2)"
    )
    parser.add_argument(
        "--cifar",
        default=None,
        help="image only: folder with images below it for the 32x32 inputs: a data root, a dataset root (its "
        "train/ images) or an image folder (default: $MITHRIDATE_CIFAR or ../shared/data/cifar10-small)",
    )
    parser.add_argument(
        "--data",
        default=None,
        help="text only: TSV file of sentences (SST-2's label/sentence), or a folder with train.tsv (default: "
        "../shared/data/sst2/train.tsv; a built-in corpus, said in the output, where it is missing)",
    )
    parser.add_argument(
        "--n",
        type=positive_int,
        default=None,
        help="text: the first N sentences (default: 2000); code: N standard-library files spread over the sorted "
        "list (default: 200)",
    )
    parser.add_argument(
        "--batch", type=positive_int, default=None, help="text only: sentences per token batch (default: 256)"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="folder of the outputs")
    parser.add_argument(
        "--name",
        default=None,
        help="file name of the outputs (default: bench_<device>; text: bench_text; code: bench_code)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 32:16, one thread, one repetition (text: 48 sentences in batches of 16; code: 10 files)",
    )
    parser.set_defaults(run=run)


def _refuse(args: argparse.Namespace, flags: tuple[str, ...], modality: str) -> None:
    given = [f"--{flag}" for flag in flags if getattr(args, flag) is not None]
    if given:
        raise ValueError(f"{', '.join(given)}: not an option of --modality {modality}")


def _run_text(args: argparse.Namespace) -> int:
    """The text benchmark: time every case, print the Markdown table and write NAME.md and NAME.json."""
    from ..bench.text import TextBenchSettings, run_text_bench
    from ..bench.text.cases import TEXT_GROUPS
    from ..bench.text.libraries import TEXT_LIBRARIES
    from ..bench.text.report import write_text_outputs

    _refuse(args, IMAGE_ONLY, "text")
    quick = args.quick
    settings = TextBenchSettings(
        data=args.data,
        n=args.n or (48 if quick else 2000),
        batch=args.batch or (16 if quick else 256),
        threads=args.threads or (1,),
        libraries=tuple(args.libraries or TEXT_LIBRARIES),
        groups=tuple(args.groups or TEXT_GROUPS),
        repeats=1 if quick else args.repeats,
        target_seconds=0.005 if quick else args.target_seconds,
    )
    result = run_text_bench(settings, echo=lambda line: print(line, file=sys.stderr))
    paths = write_text_outputs(result, args.out, args.name or "bench_text")
    print(paths["markdown"].read_text())
    print(f"wrote {paths['markdown']}, {paths['json']}", file=sys.stderr)
    return 0


def _run_code(args: argparse.Namespace) -> int:
    """The code benchmark: time every code op, print the Markdown table and write NAME.md and NAME.json."""
    from ..bench.code import CodeBenchSettings, run_code_bench, write_code_outputs

    _refuse(args, (*IMAGE_ONLY, "data", "batch", "libraries", "groups", "threads"), "code")
    quick = args.quick
    settings = CodeBenchSettings(
        limit=args.n or (10 if quick else 200), js_limit=3 if quick else 30, repeats=1 if quick else args.repeats
    )
    result = run_code_bench(settings, echo=lambda line: print(line, file=sys.stderr))
    paths = write_code_outputs(result, args.out, args.name or "bench_code")
    print(paths["markdown"].read_text())
    print(f"wrote {paths['markdown']}, {paths['json']}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Time every case, print the Markdown table and write the outputs; returns the exit status."""
    if args.modality == "text":
        return _run_text(args)
    if args.modality == "code":
        return _run_code(args)
    from ..bench import BenchSettings, run_bench
    from ..bench.cases import GROUPS
    from ..bench.libraries import LIBRARIES
    from ..bench.report import write_outputs

    _refuse(args, TEXT_ONLY, "image")
    args.device = args.device or "cpu"
    quick = args.quick
    settings = BenchSettings(
        sizes=args.sizes or (((32, 16),) if quick else ((32, 1024), (224, 128))),
        threads=args.threads or ((1,) if quick else (1, os.cpu_count() or 1)),
        device=args.device,
        libraries=tuple(args.libraries or LIBRARIES),
        groups=tuple(args.groups or GROUPS),
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
