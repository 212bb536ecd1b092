"""Argument types and helpers shared by the `mithridate` subcommands.

Each command module declares its own flags; what two or more of them parse or print the same way lives
here, with public names, so that no command reaches into another: the parser whose errors are one line,
integer and comma-list types whose messages name what was expected, the default number of worker
processes, the options shared by the grid experiments (`garbage`, `synthetic`), and printing summaries.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

__all__ = [
    "PROG",
    "Parser",
    "UsageError",
    "add_backend_options",
    "add_grid_options",
    "backend_from",
    "default_jobs",
    "floats",
    "grid_settings",
    "int_at_least",
    "ints",
    "names",
    "non_negative_int",
    "positive_int",
    "print_summaries",
    "resolve_jobs",
]

PROG = "mithridate"


class UsageError(Exception):
    """A command line argparse rejected; reported as one line."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def int_at_least(minimum: int, words: str) -> Callable[[str], int]:
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


positive_int = int_at_least(1, "a positive integer")
non_negative_int = int_at_least(0, "a non-negative integer")


def floats(text: str) -> tuple[float, ...]:
    """An argparse type: numbers separated by commas (empty items skipped)."""
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, e.g. 0,0.5,1,2,3; got {text!r}"
        ) from None


def ints(text: str) -> tuple[int, ...]:
    """An argparse type: integers separated by commas (empty items skipped)."""
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}") from None


def names(text: str) -> tuple[str, ...]:
    """An argparse type: names separated by commas, stripped (empty items skipped)."""
    return tuple(v.strip() for v in text.split(",") if v.strip())


def default_jobs() -> int:
    """Worker processes when --jobs is not given: the CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def resolve_jobs(jobs: int | None) -> int:
    """`jobs` as given, or `default_jobs()` when it was not."""
    return jobs if jobs is not None else default_jobs()


BACKEND_OPTIONS = ("backend", "address", "cpus_per_run", "gpus_per_run", "max_retries")
"""The settings of where runs execute (flags and TOML keys of `sweep`, `garbage` and `synthetic`)."""


def add_backend_options(parser: argparse.ArgumentParser) -> None:
    """Where the runs execute: local worker processes (the default) or a Ray cluster."""
    parser.add_argument(
        "--backend", choices=("local", "ray"), help="local worker processes (default) or Ray tasks (mithridate[ray])"
    )
    parser.add_argument(
        "--address", help="with --backend ray: the cluster, 'auto' or HOST:PORT (default: start a local Ray)"
    )
    parser.add_argument("--cpus-per-run", type=float, help="with --backend ray: CPUs each run asks for (default: 1)")
    parser.add_argument("--gpus-per-run", type=float, help="with --backend ray: GPUs each run asks for (default: 0)")
    parser.add_argument(
        "--max-retries",
        type=non_negative_int,
        help="with --backend ray: retries of a run whose worker dies (default: 3)",
    )


def backend_from(settings: dict[str, Any], jobs: int | None) -> Any:
    """The engine's `Backend` from the backend settings (flags or TOML keys) and the number of local jobs."""
    from ..experiments.engine import Backend

    kind = settings.get("backend") or "local"
    if kind != "ray":
        extra = [f"--{name.replace('_', '-')}" for name in BACKEND_OPTIONS[1:] if settings.get(name) is not None]
        if extra:
            raise ValueError(f"{', '.join(extra)}: only with --backend ray")
    return Backend(
        kind=kind,
        jobs=resolve_jobs(jobs) if kind == "local" else 1,
        address=settings.get("address"),
        cpus=float(settings.get("cpus_per_run") or 1.0),
        gpus=float(settings.get("gpus_per_run") or 0.0),
        max_retries=int(3 if settings.get("max_retries") is None else settings["max_retries"]),
    )


def add_grid_options(parser: argparse.ArgumentParser, out: str) -> None:
    """The options every grid experiment (`garbage`, `synthetic`) takes; `out` is the default output folder."""
    parser.add_argument("--jobs", type=positive_int, help="cells in parallel worker processes (default: CPU cores)")
    add_backend_options(parser)
    parser.add_argument("--out", type=Path, default=Path(out), help=f"output folder (default: {out})")
    parser.add_argument("--quick", action="store_true", help="a tiny grid, for a smoke test (flags given override it)")
    parser.add_argument("--show", action="store_true", help="print the tables stored in --out again; compute nothing")
    parser.add_argument("--json", action="store_true", help="with --show: print the summaries as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def grid_settings(args: argparse.Namespace, options: Sequence[str], quick: dict[str, Any]) -> dict[str, Any]:
    """A grid experiment's config fields: the quick grid's (with --quick), overridden by the flags given."""
    settings = dict(quick) if args.quick else {}
    settings.update({name: getattr(args, name) for name in options if getattr(args, name) is not None})
    return settings


def run_grid(args: argparse.Namespace, show: Any, run: Any, config: Any) -> int:
    """The tail every grid command shares: with --show print the stored tables, else run (or resume) the grid
    for `config` (None when --show), print its table and where its report and store are; the exit status."""
    if args.show:
        print_summaries(show(args.out), args.json)
        return 0
    import sys

    from ..experiments.store import STORE_FILE

    backend = backend_from({name: getattr(args, name) for name in BACKEND_OPTIONS}, args.jobs)
    summary = run(config, args.out, backend=backend, progress=not args.no_progress)
    print(summary.format_table())
    print(f"report: {args.out / 'report.html'}  store: {args.out / STORE_FILE}")
    for failure in summary.failures:
        cell = " ".join(f"{name}={value}" for name, value in failure.cell.items())
        print(f"failed: {cell} seed={failure.seed}: {failure.error}", file=sys.stderr)
    return 1 if summary.failures else 0


def print_summaries(summaries: Sequence[Any], as_json: bool) -> None:
    """Print summaries (anything with `to_dict` and `format_table`) as a JSON list or as tables."""
    if as_json:
        print(json.dumps([summary.to_dict() for summary in summaries], indent=2))
    else:
        print("\n\n".join(summary.format_table() for summary in summaries))
