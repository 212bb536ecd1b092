"""`mithridate garbage`: accuracy against k random features, with and without RandomProbeSelector.

    mithridate garbage [--datasets ...] [--kinds ...] [--multiples 0,0.5,1,2,4 | --ks ...] [--models ...]
                       [--seeds 3] [--jobs N] [--out runs/garbage] [--quick] [--show [--json]]

Each run stores every finished cell and seed at once in OUT/store.sqlite (re-running resumes), prints the
table and writes OUT/report.html, OUT/results.json and the figures. `--show` prints the tables again from
the store without computing anything. The experiment itself is `experiments.studies.garbage`.
"""

from __future__ import annotations

import argparse

from .arguments import add_grid_options, floats, grid_settings, ints, names, positive_int, run_grid

__all__ = ["OPTIONS", "QUICK", "add_parser", "run"]

# The --quick grid: one small table, two kinds, two k, two models, two seeds.
QUICK = {
    "datasets": ("wine",),
    "kinds": ("gaussian", "id"),
    "multiples": (0.0, 2.0),
    "models": ("logreg", "knn"),
    "seeds": 2,
    "probe_rounds": 10,
}
# The flags that are `GarbageConfig` fields.
OPTIONS = ("datasets", "kinds", "multiples", "ks", "models", "seeds", "probe_rounds")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Declare `garbage` and its flags."""
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
    parser.add_argument("--datasets", type=names, help="breast_cancer, wine, digits (default: all three)")
    parser.add_argument("--kinds", type=names, help="gaussian, uniform, categorical, id (default: all four)")
    parser.add_argument("--multiples", type=floats, help="k as multiples of the feature count (default: 0,0.5,1,2,4)")
    parser.add_argument(
        "--ks", type=ints, help="k as absolute counts, the same for every table (not with --multiples)"
    )
    parser.add_argument(
        "--models", type=names, help="logreg, random_forest, gradient_boosting, knn (default: all four)"
    )
    parser.add_argument("--seeds", type=positive_int, help="seeds per cell (default: 3)")
    parser.add_argument("--probe-rounds", type=positive_int, help="RandomProbeSelector's n_rounds (default: 20)")
    add_grid_options(parser, "runs/garbage")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run (or resume) the grid and print its table, or with --show print the stored tables; the exit status."""
    from ..experiments.studies.garbage import GarbageConfig, run_garbage, show_garbage

    if args.show:
        return run_grid(args, show_garbage, run_garbage, None)
    settings = grid_settings(args, OPTIONS, QUICK)
    if args.ks is not None and args.multiples is None:
        settings.pop("multiples", None)  # --ks replaces the quick grid's multiples
    return run_grid(args, show_garbage, run_garbage, GarbageConfig(**settings))
