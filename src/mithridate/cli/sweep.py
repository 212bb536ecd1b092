"""`mithridate sweep`: train a reference model across doses and seeds; table, store and HTML report.

The flags mirror `SweepSpec`'s fields plus the run options (device, jobs, out); a TOML --config file may
give any of them and the flags given override it. The work itself is `experiments.studies.sweep.run_sweep`.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path

from .arguments import BACKEND_OPTIONS, add_backend_options, backend_from, floats, ints, names, positive_int

__all__ = ["RUN_OPTIONS", "add_parser", "run", "sweep_settings"]

# Settings that are not `SweepSpec` fields: how and where the sweep runs, not what it measures.
RUN_OPTIONS = ("device", "jobs", "out", *BACKEND_OPTIONS)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `sweep` and its flags."""
    parser = subparsers.add_parser(
        "sweep",
        help="train a reference model across doses and seeds; table, store and HTML report",
        description=(
            "Train a reference model at every dose of a policy and every seed, measure clean accuracy, "
            "accuracy under the data's corruption suite (19 for images, the text corruptions for text) at 5 "
            "severities, affinity and diversity, and report the dose-response curve with the best dose marked. "
            "Finished runs are stored at once; re-running resumes. Flags override the --config file."
        ),
    )
    parser.add_argument("--config", type=Path, help="a TOML file with any of the options below (flags override it)")
    parser.add_argument(
        "--data",
        help="'digits' (default), an image folder with train/ and test/, a CIFAR-10 python-batch folder; or text: "
        "a TSV, CSV or JSON Lines file, a folder with train and dev files (e.g. SST-2's train.tsv, dev.tsv); or code: "
        "'stdlib' (the standard library's functions) or a folder of .py files, ':verb' (default) or ':bug' after it",
    )
    parser.add_argument(
        "--policy", help="policy string (default: ta_wide for images, text_ta for text, rename for code)"
    )
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
    parser.add_argument("--doses", type=floats, help="doses, e.g. 0,0.5,1,1.5,2,3 (the default)")
    parser.add_argument("--seeds", type=positive_int, help="number of seeds (default: 3)")
    parser.add_argument("--epochs", type=positive_int, help="training epochs (default: by data)")
    parser.add_argument("--train-size", type=positive_int, help="training samples per class (default: by data)")
    parser.add_argument(
        "--model",
        choices=("cnn", "resnet", "fasttext", "charcnn", "bag"),
        help="reference model: cnn or resnet for images, fasttext or charcnn for text, bag for code (default: cnn, "
        "fasttext, bag)",
    )
    parser.add_argument("--batch-size", type=positive_int, help="training batch size (default: 64)")
    parser.add_argument(
        "--learning-rate", type=float, help="peak learning rate (default: 0.05 images, 0.005 text, 0.03 code)"
    )
    parser.add_argument(
        "--corruptions", type=names, help="corruption names, comma-separated (default: all of the data's suite)"
    )
    parser.add_argument("--severities", type=ints, help="corruption severities (default: 1,2,3,4,5)")
    parser.add_argument("--corruption-test-size", type=positive_int, help="test samples to corrupt (default: by data)")
    parser.add_argument(
        "--vary",
        type=names,
        help="seed series: 'all' (every source of randomness changes with the seed, the default) and any of "
        "init, order, augment, data (only that source changes, the others held); e.g. all,init,order,augment",
    )
    parser.add_argument("--device", help="torch device for training (default: cpu)")
    parser.add_argument("--jobs", type=positive_int, help="runs in parallel processes (default: CPU cores)")
    add_backend_options(parser)
    parser.add_argument("--out", type=Path, help="output folder (default: runs/<data>-<policy>-<axis>)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def sweep_settings(args: argparse.Namespace) -> tuple[dict, dict]:
    """Spec fields and run options from the config file, overridden by the flags given."""
    from ..experiments.records import SweepSpec

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
    unknown = sorted(set(settings) - spec_fields - set(RUN_OPTIONS))
    if unknown:
        valid = ", ".join(sorted(spec_fields | set(RUN_OPTIONS)))
        raise ValueError(f"config: unknown keys {unknown}; expected some of {valid}")
    options = {key: settings.pop(key) for key in RUN_OPTIONS if key in settings}
    return settings, options


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the sweep, print its table and where the report and store are; returns the exit status."""
    from ..experiments.records import SweepSpec
    from ..experiments.store import STORE_FILE
    from ..experiments.studies.sweep import default_out, run_sweep
    from ..experiments.tasks import task_for

    fields, options = sweep_settings(args)
    spec = SweepSpec.from_dict(fields)
    spec = task_for(spec).resolve(spec)  # the task's defaults (policy, model...) name the default folder
    out = Path(options["out"]) if "out" in options else default_out(spec)
    backend = backend_from(options, options.get("jobs"))
    result = run_sweep(
        spec, out, device=str(options.get("device", "cpu")), backend=backend, progress=not args.no_progress
    )
    print(result.summary.format_table())
    print(f"report: {out / 'report.html'}  store: {out / STORE_FILE}")
    for failure in result.failures:
        print(f"failed: dose {failure.cell['dose']:g} seed {failure.seed}: {failure.error}", file=sys.stderr)
    return 1 if result.failures else 0
