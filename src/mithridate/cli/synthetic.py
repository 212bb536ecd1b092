"""`mithridate synthetic`: accuracy on real data when training on real, synthetic and mixes of both.

    mithridate synthetic [--parts digits,tabular] [--variants ...] [--models logreg,svm] [--seeds 5]
                         [--shares ...] [--jobs N] [--out runs/synthetic] [--quick] [--show [--json]]

Each run stores every finished cell and seed at once in OUT/store.sqlite (re-running resumes), prints the
table and writes OUT/report.html, OUT/results.json and the figures. `--show` prints the tables again from
the store without computing anything. The experiment itself is `experiments.studies.synthetic`.
"""

from __future__ import annotations

import argparse

from .arguments import add_grid_options, floats, grid_settings, ints, names, positive_int, run_grid

__all__ = ["OPTIONS", "QUICK", "add_parser", "run"]

# The --quick grid: three variants, three shares, one on-top step, two seeds.
QUICK = {
    "variants": ("plain", "randomised", "smote"),
    "shares": (0.0, 0.5, 1.0),
    "digits_added": (0, 500),
    "tabular_added": (0, 100),
    "seeds": 2,
}
# The flags that are `SyntheticConfig` fields (--variants is split by part in `run`).
OPTIONS = (
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


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `synthetic` and its flags."""
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
    parser.add_argument("--parts", type=names, help="digits, tabular (default: both)")
    parser.add_argument(
        "--variants",
        type=names,
        help="kinds of synthetic data: plain, plain+aug, randomised, randomised+aug (digits); copies, smote "
        "(tabular) (default: all)",
    )
    parser.add_argument("--models", type=names, help="logreg, svm, random_forest, knn (default: logreg,svm)")
    parser.add_argument("--seeds", type=positive_int, help="seeds per cell (default: 5)")
    parser.add_argument(
        "--shares", type=floats, help="synthetic shares at the fixed total (default: 0,0.1,0.25,0.5,0.75,0.9,1)"
    )
    parser.add_argument(
        "--digits-total", type=positive_int, help="digits: training images of the share mix (default: 500)"
    )
    parser.add_argument(
        "--digits-real", type=positive_int, help="digits: real images under the on-top mix (default: 50)"
    )
    parser.add_argument(
        "--digits-added", type=ints, help="digits: synthetic images added on top (default: 0,50,...,5000)"
    )
    parser.add_argument(
        "--tabular-total", type=positive_int, help="tabular: training rows of the share mix (default: 100)"
    )
    parser.add_argument(
        "--tabular-real", type=positive_int, help="tabular: real rows under the on-top mix (default: 40)"
    )
    parser.add_argument("--tabular-added", type=ints, help="tabular: SMOTE rows added on top (default: 0,20,...,1000)")
    parser.add_argument("--augment", help="policy applied to '+aug' synthetic digits (default: ta_wide-s0.5)")
    add_grid_options(parser, "runs/synthetic")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the grid and print its table, or with --show print the stored tables; the exit status."""
    from ..experiments.studies.synthetic import (
        DIGIT_VARIANTS,
        TABULAR_VARIANTS,
        SyntheticConfig,
        run_synthetic,
        show_synthetic,
    )

    if args.show:
        return run_grid(args, show_synthetic, run_synthetic, None)
    settings = grid_settings(args, OPTIONS, QUICK)
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
    return run_grid(args, show_synthetic, run_synthetic, SyntheticConfig(**settings))
