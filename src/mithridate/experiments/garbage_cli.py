"""The `mithridate garbage` and `mithridate synthetic` commands (added to the parser by `mithridate.cli`).

    mithridate garbage [--datasets ...] [--kinds ...] [--multiples 0,0.5,1,2,4 | --ks ...] [--models ...]
                       [--seeds 3] [--jobs N] [--out runs/garbage] [--quick] [--show [--json]]
    mithridate synthetic [--parts digits,tabular] [--variants ...] [--models logreg,svm] [--seeds 5]
                         [--shares ...] [--jobs N] [--out runs/synthetic] [--quick] [--show [--json]]

Each run stores every finished cell and seed at once in OUT/grid.sqlite (re-running resumes), prints the
table and writes OUT/report.html, OUT/results.json and the figures. `--show` prints the tables again from
the store without computing anything (`mithridate show` is for sweep folders). Errors in what the user gave
print one line `mithridate: error: ...` and exit with status 2, as for every command.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

__all__ = ["add_garbage_parser", "add_parsers", "add_synthetic_parser", "show_grid_folder"]

GARBAGE_QUICK = {
    "datasets": ("wine",),
    "kinds": ("gaussian", "id"),
    "multiples": (0.0, 2.0),
    "models": ("logreg", "knn"),
    "seeds": 2,
    "probe_rounds": 10,
}
SYNTHETIC_QUICK = {
    "variants": ("plain", "randomised", "smote"),
    "shares": (0.0, 0.5, 1.0),
    "digits_added": (0, 500),
    "tabular_added": (0, 100),
    "seeds": 2,
}


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add both commands."""
    add_garbage_parser(subparsers)
    add_synthetic_parser(subparsers)


def _common(parser: argparse.ArgumentParser, out: str) -> None:
    from ..cli import _positive_int

    parser.add_argument("--jobs", type=_positive_int, help="cells in parallel worker processes (default: CPU cores)")
    parser.add_argument("--out", type=Path, default=Path(out), help=f"output folder (default: {out})")
    parser.add_argument("--quick", action="store_true", help="a tiny grid, for a smoke test (flags given override it)")
    parser.add_argument("--show", action="store_true", help="print the tables stored in --out again; compute nothing")
    parser.add_argument("--json", action="store_true", help="with --show: print the summaries as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _settings(args: argparse.Namespace, names: tuple[str, ...], quick: dict[str, Any]) -> dict[str, Any]:
    settings = dict(quick) if args.quick else {}
    settings.update({name: getattr(args, name) for name in names if getattr(args, name) is not None})
    return settings


def _jobs(args: argparse.Namespace) -> int:
    from ..cli import _default_jobs

    return args.jobs if args.jobs is not None else _default_jobs()


def _print_shown(summaries: list, as_json: bool) -> None:
    if as_json:
        print(json.dumps([summary.to_dict() for summary in summaries], indent=2))
    else:
        print("\n\n".join(summary.format_table() for summary in summaries))


# garbage ----------------------------------------------------------------------------------------------

_GARBAGE_OPTIONS = ("datasets", "kinds", "multiples", "ks", "models", "seeds", "probe_rounds")


def add_garbage_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..cli import _floats, _ints, _names, _positive_int

    parser = subparsers.add_parser(
        "garbage",
        help="random features: accuracy against k random features, with and without RandomProbeSelector",
        description=(
            "Append k random features (gaussian, uniform, categorical, id) to scikit-learn's bundled tables, "
            "train several model families, and report test accuracy against k (mean and 95%% interval over "
            "seeds), then the same on the features RandomProbeSelector keeps (fitted on the training split "
            "only). Default: breast_cancer, wine and digits; k = 0, 0.5, 1, 2 and 4 times the feature count; "
            "4 models; 3 seeds."
        ),
    )
    parser.add_argument("--datasets", type=_names, help="breast_cancer, wine, digits (default: all three)")
    parser.add_argument("--kinds", type=_names, help="gaussian, uniform, categorical, id (default: all four)")
    parser.add_argument("--multiples", type=_floats, help="k as multiples of the feature count (default: 0,0.5,1,2,4)")
    parser.add_argument(
        "--ks", type=_ints, help="k as absolute counts, the same for every table (not with --multiples)"
    )
    parser.add_argument(
        "--models", type=_names, help="logreg, random_forest, gradient_boosting, knn (default: all four)"
    )
    parser.add_argument("--seeds", type=_positive_int, help="seeds per cell (default: 3)")
    parser.add_argument("--probe-rounds", type=_positive_int, help="RandomProbeSelector's n_rounds (default: 20)")
    _common(parser, "runs/garbage")
    parser.set_defaults(run=_run_garbage)


def _run_garbage(args: argparse.Namespace) -> int:
    from .garbage import GarbageConfig, run_garbage, show_garbage

    if args.show:
        _print_shown(show_garbage(args.out), args.json)
        return 0
    settings = _settings(args, _GARBAGE_OPTIONS, GARBAGE_QUICK)
    if args.ks is not None and args.multiples is None:
        settings.pop("multiples", None)  # --ks replaces the quick grid's multiples
    config = GarbageConfig(**settings)
    summary = run_garbage(config, args.out, jobs=_jobs(args), progress=not args.no_progress)
    print(summary.format_table())
    print(f"report: {args.out / 'report.html'}  store: {args.out / 'grid.sqlite'}")
    return 0


# synthetic --------------------------------------------------------------------------------------------

_SYNTHETIC_OPTIONS = (
    "parts",
    "models",
    "seeds",
    "shares",
    "digits_total",
    "digits_real",
    "digits_added",
    "tabular_total",
    "tabular_real",
    "tabular_added",
    "augment",
)


def add_synthetic_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..cli import _floats, _ints, _names, _positive_int

    parser = subparsers.add_parser(
        "synthetic",
        help="synthetic data: accuracy on real data when training on real, synthetic and mixes",
        description=(
            "Train on real data, synthetic data and mixes of both, and test on real data: a fixed total with a "
            "share of synthetic from 0 to 100%%, and synthetic added on top of a fixed small real set. Digits: "
            "digits rendered from fonts, plain or domain-randomised, with or without a mithridate augmentation "
            "policy. Tabular: SMOTE rows on breast_cancer, against plain copies."
        ),
    )
    parser.add_argument("--parts", type=_names, help="digits, tabular (default: both)")
    parser.add_argument(
        "--variants",
        type=_names,
        help="kinds of synthetic data: plain, plain+aug, randomised, randomised+aug (digits); copies, smote "
        "(tabular) (default: all)",
    )
    parser.add_argument("--models", type=_names, help="logreg, svm, random_forest, knn (default: logreg,svm)")
    parser.add_argument("--seeds", type=_positive_int, help="seeds per cell (default: 5)")
    parser.add_argument(
        "--shares", type=_floats, help="synthetic shares at the fixed total (default: 0,0.1,0.25,0.5,0.75,0.9,1)"
    )
    parser.add_argument(
        "--digits-total", type=_positive_int, help="digits: training images of the share mix (default: 500)"
    )
    parser.add_argument(
        "--digits-real", type=_positive_int, help="digits: real images under the on-top mix (default: 50)"
    )
    parser.add_argument(
        "--digits-added", type=_ints, help="digits: synthetic images added on top (default: 0,50,...,5000)"
    )
    parser.add_argument(
        "--tabular-total", type=_positive_int, help="tabular: training rows of the share mix (default: 100)"
    )
    parser.add_argument(
        "--tabular-real", type=_positive_int, help="tabular: real rows under the on-top mix (default: 40)"
    )
    parser.add_argument("--tabular-added", type=_ints, help="tabular: SMOTE rows added on top (default: 0,20,...,1000)")
    parser.add_argument("--augment", help="policy applied to '+aug' synthetic digits (default: ta_wide-s0.5)")
    _common(parser, "runs/synthetic")
    parser.set_defaults(run=_run_synthetic)


def _run_synthetic(args: argparse.Namespace) -> int:
    from .synthetic import DIGIT_VARIANTS, TABULAR_VARIANTS, SyntheticConfig, run_synthetic, show_synthetic

    if args.show:
        _print_shown(show_synthetic(args.out), args.json)
        return 0
    settings = _settings(args, _SYNTHETIC_OPTIONS, SYNTHETIC_QUICK)
    variants = args.variants if args.variants is not None else settings.pop("variants", None)
    settings.pop("variants", None)
    if variants is not None:
        unknown = [v for v in variants if v not in DIGIT_VARIANTS + TABULAR_VARIANTS]
        if unknown:
            raise ValueError(
                f"variants: expected some of {', '.join(DIGIT_VARIANTS + TABULAR_VARIANTS)}, got {', '.join(unknown)}"
            )
        parts = settings.get("parts", ("digits", "tabular"))
        for part, known in (("digits", DIGIT_VARIANTS), ("tabular", TABULAR_VARIANTS)):
            chosen = tuple(v for v in variants if v in known)
            if part in parts and not chosen:
                raise ValueError(f"variants: none given for the {part} part; add some of {', '.join(known)}")
            if chosen:
                settings[f"{part}_variants"] = chosen
    config = SyntheticConfig(**settings)
    summary = run_synthetic(config, args.out, jobs=_jobs(args), progress=not args.no_progress)
    print(summary.format_table())
    print(f"report: {args.out / 'report.html'}  store: {args.out / 'grid.sqlite'}")
    return 0


def show_grid_folder(folder: Path) -> list:
    """The summaries of every garbage and synthetic recipe stored in `folder`/grid.sqlite (for a `show`
    command that also reads these folders); FileNotFoundError without a grid store, ValueError if empty."""
    from .garbage import show_garbage
    from .grid import GRID_FILE, GridStore
    from .synthetic import show_synthetic

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
