"""How much of real code the rewrites and bugs reach, and how much of what they write is verified: measured on the
Python standard library (`sysconfig.get_paths()["stdlib"]`, without `test/`, `tests/`, `idlelib/` and
`site-packages/`).

Per op: the share of functions it applies to (a site inside the function) and, of the files it edited (one output
per file, at strength 1, draws keyed by the file's position), the share whose output compiles and the share the
verifier accepts (`verify.verify`). Run `python -m mithridate.code.python.coverage` for the full library or
`--limit 40` for a sample in under a minute.
"""

from __future__ import annotations

import argparse
import ast
import bisect
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...text.strings import apply_edits
from ..ops import CodeOp, SampleDraws
from .bugs import OPS as BUG_OPS
from .rewrites import OPS as REWRITE_OPS
from .rewrites import PythonOp
from .source import CodeSyntaxError, read_python
from .stdlib import stdlib_files
from .verify import verify

__all__ = ["CoverageRow", "coverage_table", "format_table"]



@dataclass(frozen=True)
class CoverageRow:
    """One op over a set of files: functions seen and applied to, outputs made, compiled and verified, functions
    run on generated inputs, op errors (should be 0) and, for bugs, the mean share of inputs that differed."""

    op: str
    kind: str
    files: int
    functions: int
    applies: int
    outputs: int
    compiled: int
    verified: int
    ran: int
    errors: int
    bug_share: float | None = None

    @property
    def applies_share(self) -> float:
        return self.applies / self.functions if self.functions else 0.0

    @property
    def verified_share(self) -> float:
        return self.verified / self.outputs if self.outputs else 0.0

    @property
    def compiled_share(self) -> float:
        return self.compiled / self.outputs if self.outputs else 0.0


def _draws(seed: int, index: int, stream: int, rate: float) -> SampleDraws:
    cache: dict[int, np.ndarray] = {}

    def uniform(count: int, sub: int) -> np.ndarray:
        values = cache.get(sub)
        if values is None or len(values) < count:
            generator = np.random.default_rng([seed, index, stream, sub])
            values = cache[sub] = generator.random(max(count, 64), dtype=np.float32).astype(np.float64)
        return values[:count]

    return SampleDraws(uniform, rate, 1.0)


def _offsets(op: CodeOp, source: object) -> list[int]:
    if isinstance(op, PythonOp):
        return op.site_offsets(source)
    return [0] * op.sites(source)


def coverage_table(
    ops: Sequence[CodeOp] | None = None,
    files: Sequence[str | Path] | None = None,
    limit: int | None = None,
    *,
    seed: int = 0,
    examples: int = 10,
) -> list[CoverageRow]:
    """One row per op (all rewrites and bugs by default) over `files` (the standard library by default; with
    `limit`, that many files spread evenly over the list)."""
    if ops is None:
        ops = [cls() for cls in (*REWRITE_OPS.values(), *BUG_OPS.values())]
    ops = list(ops)
    if not all(isinstance(op, CodeOp) for op in ops):
        raise TypeError("ops: expected a sequence of CodeOp")
    paths = [Path(p) for p in files] if files is not None else stdlib_files()
    if limit is not None:
        if limit < 1:
            raise ValueError(f"limit: expected a positive number of files, got {limit}")
        step = max(1, math.ceil(len(paths) / limit))
        paths = paths[::step][:limit]
    totals = {op.name: [0] * 9 for op in ops}
    shares: dict[str, list[float]] = {op.name: [] for op in ops}
    for index, path in enumerate(paths):
        try:
            source = read_python(path.read_bytes())
            tree = source.tree
            _ = source.tokens
        except (CodeSyntaxError, OSError):
            continue
        spans = sorted(
            source.node_span(node)
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        )
        for op in ops:
            row = totals[op.name]
            row[0] += 1
            row[1] += len(spans)
            try:
                offsets = sorted(_offsets(op, source))
                edits = op.edits(source, _draws(seed, index, op.stream, min(op.reference_rate, 1.0)))
            except Exception:  # an op that fails on real code is what this report is for
                row[8] += 1
                continue
            row[2] += sum(1 for a, b in spans if bisect.bisect_left(offsets, a) < bisect.bisect_left(offsets, b))
            if not edits:
                continue
            output = apply_edits(source.text, edits)
            verdict = verify(op, source, output, examples=examples, max_functions=3)
            row[3] += 1
            row[4] += "compiles" in verdict.checks
            row[5] += verdict.ok
            row[6] += verdict.ran
            if verdict.share is not None:
                shares[op.name].append(verdict.share)
    return [
        CoverageRow(
            op.name,
            op.kind,
            *totals[op.name][:4],
            totals[op.name][4],
            totals[op.name][5],
            totals[op.name][6],
            totals[op.name][8],
            float(np.mean(shares[op.name])) if shares[op.name] else None,
        )
        for op in ops
    ]


def format_table(rows: Sequence[CoverageRow]) -> str:
    """The rows as a Markdown table."""
    lines = [
        "| op | kind | functions applied to | outputs | compile | verified | functions run | bug: inputs differing |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        share = "" if row.bug_share is None else f"{row.bug_share:.0%}"
        errors = f" ({row.errors} errors)" if row.errors else ""
        lines.append(
            f"| {row.op} | {row.kind} | {row.applies_share:.1%} of {row.functions} | {row.outputs}{errors} | "
            f"{row.compiled_share:.1%} | {row.verified_share:.1%} | {row.ran} | {share} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="files, spread over the library (default: all)")
    parser.add_argument("--ops", default=None, help="comma-separated op names (default: all rewrites and bugs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=10, help="generated inputs per function run")
    args = parser.parse_args(argv)
    catalog = {**REWRITE_OPS, **BUG_OPS}
    names = list(catalog) if args.ops is None else args.ops.split(",")
    unknown = [name for name in names if name not in catalog]
    if unknown:
        parser.error(f"unknown ops {unknown}; expected some of {list(catalog)}")
    started = time.perf_counter()
    rows = coverage_table([catalog[name]() for name in names], limit=args.limit, seed=args.seed,
                          examples=args.examples)  # fmt: skip
    print(format_table(rows))
    print(f"\n{rows[0].files if rows else 0} files in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
