"""The `mithridate` command.

    mithridate sweep [--config sweep.toml] [--data digits] [--policy ta_wide] [--axis strength] ...
    mithridate show runs/NAME [--json]
    mithridate corrupt --data DIR --out DIR2 [--corruptions ...] [--severities ...]
    mithridate preview --policy ta_wide --data digits --out preview.png --seed 0 --rows 4 --cols 6
    mithridate bench [--device cpu] [--sizes 32:1024,224:128] [--threads 1,all] [--out benchmarks/results]
    mithridate garbage [--quick] [--show [--json]] ...
    mithridate synthetic [--quick] [--show [--json]] ...

One module per subcommand, each with `add_parser(subparsers)`, which declares its arguments, and
`run(args)`, which does the work and returns the exit status; `arguments` holds what they share. This
module only assembles the parser and reports errors: errors in what the user gave (an unknown policy, a
missing folder, a bad value) print one line `mithridate: error: ...` on stderr and exit with status 2, and so
does a command whose optional dependencies are missing (the line names the extra to install).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..extras import install_hint
from . import bench, convert, corrupt, garbage, preview, show, sweep, synthetic
from .arguments import PROG, Parser, UsageError

__all__ = ["COMMANDS", "PROG", "build_parser", "main"]

# The subcommand modules, in the order `mithridate --help` lists them.
COMMANDS = (sweep, show, convert, corrupt, preview, bench, garbage, synthetic)


def build_parser() -> argparse.ArgumentParser:
    """The `mithridate` parser; each subcommand sets `run`, the function that executes it."""
    parser = Parser(prog=PROG, description="Measured doses of randomness for ML training data.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    subparsers.required = True
    for command in COMMANDS:
        command.add_parser(subparsers)
    return parser


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line `argv` (default: sys.argv[1:]); returns the exit status."""
    from ..data.datasets import DatasetError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except SystemExit as done:  # --help and --version print and exit 0
        return done.code if isinstance(done.code, int) else 0
    try:
        return args.run(args)
    except ModuleNotFoundError as error:  # an optional part that is not installed: say which extra has it
        hint = install_hint(error)
        if hint is None:
            raise
        print(f"{PROG}: error: {PROG} {args.command}: {hint}", file=sys.stderr)
        return 2
    except (DatasetError, ValueError, TypeError, OSError) as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2
