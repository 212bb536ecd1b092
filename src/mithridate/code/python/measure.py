"""Coverage and speed of the renaming and faulty-code ops on the Python standard library.

`measure(limit=...)` reads the standard library's files (`sysconfig.get_paths()["stdlib"]`, tests and
`site-packages` excluded) and reports, per op: the share of modules and functions it applies to, the share of its
outputs verified (renaming: compiles and `alpha_equivalent`), and throughput on one thread (functions/s, tokens/s,
through `OpPolicy.augment` at p = 1) beside `tokenize`'s own round trip of the same files (`generate_tokens` then
`untokenize`: the floor of any tokenize-based tool). Run `python -m mithridate.code.python.measure --limit 60`.
"""

from __future__ import annotations

import argparse
import ast
import io
import time
import tokenize
from typing import Any

from ...dose import Dose
from ..ops import CodeOp
from ..policies import OpPolicy
from .equivalence import alpha_equivalent
from .faulty import FaultyCode, SpanMask
from .rename import Rename, candidates
from .source import CodeSyntaxError, read_python
from .stdlib import stdlib_files

__all__ = ["format_report", "measure"]

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _renamed_functions(text: str) -> tuple[int, int]:
    """(functions, functions with a renamable definition: its name, a parameter or a local)."""
    source = read_python(text)
    functions = [node for node in ast.walk(source.tree) if isinstance(node, _FUNCTIONS)]
    touched: set[int] = set()
    for definition, _ in candidates(source):
        if definition.scope is not None:
            touched.add(id(definition.scope.node))
        for occurrence in definition.occurrences:
            if occurrence.role == "def":
                touched.add(id(occurrence.node))
    return len(functions), sum(id(node) in touched for node in functions)


def _timed(op: CodeOp, texts: list[str], strength: float) -> tuple[float, list[Any]]:
    policy = OpPolicy(op, seed=0, dose=Dose(1.0, strength))
    policy.augment(texts[:2], index=[0, 1])  # warm-up: first calls of the keyed draws
    start = time.perf_counter()
    out = policy.augment(texts, index=list(range(len(texts))))
    return time.perf_counter() - start, out


def measure(limit: int | None = 60, strength: float = 1.0) -> dict[str, Any]:
    """Coverage, verification and one-thread throughput of `rename` (at `strength`, and at 2: every definition),
    `faulty` and `faulty_spans` over `limit` standard-library files (None: all of them)."""
    texts, skipped = [], 0
    for path in stdlib_files(limit):
        try:
            source = read_python(path.read_bytes())
            _ = source.tree
        except CodeSyntaxError:
            skipped += 1
            continue
        texts.append(source.text)
    start = time.perf_counter()
    tokens = 0
    for text in texts:
        found = list(tokenize.generate_tokens(io.StringIO(text).readline))
        tokens += len(found)
        tokenize.untokenize(found)
    floor = time.perf_counter() - start
    functions = applies = modules = 0
    for text in texts:
        total, touched = _renamed_functions(text)
        functions += total
        applies += touched
        modules += bool(candidates(read_python(text)))
    report: dict[str, Any] = {
        "files": len(texts), "skipped": skipped, "tokens": tokens, "functions": functions,
        "tokenize_seconds": floor, "ops": {},
    }  # fmt: skip
    runs = [("rename", Rename(), strength), ("rename (all)", Rename(), 2.0),
            ("rename plausible", Rename("plausible"), strength), ("faulty", FaultyCode(), strength),
            ("faulty_spans", SpanMask(), strength)]  # fmt: skip
    for label, op, s in runs:
        seconds, outputs = _timed(op, texts, s)
        row: dict[str, Any] = {"seconds": seconds, "functions_per_s": functions / seconds,
                               "tokens_per_s": tokens / seconds, "x_tokenize": seconds / floor,
                               "changed": sum(bool(o.edits) for o in outputs)}  # fmt: skip
        if op.kind == "rename":
            changed = [o for o in outputs if o.edits]
            row["compiled"] = sum(_compiles(o.text) for o in changed)
            row["verified"] = sum(_compiles(o.text) and alpha_equivalent(o.original, o.text) for o in changed)
            row["modules_applies"] = modules / len(texts) if texts else 0.0
            row["functions_applies"] = applies / functions if functions else 0.0
            row["renamed_edits"] = sum(len(o.edits) for o in outputs)
        report["ops"][label] = row
    return report


def _compiles(text: str) -> bool:
    try:
        compile(text, "<renamed>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def format_report(report: dict[str, Any]) -> str:
    """The report as a Markdown table."""
    lines = [
        f"{report['files']} standard-library files ({report['skipped']} skipped), {report['functions']} functions, "
        f"{report['tokens']} tokens; tokenize round trip {report['tokenize_seconds']:.2f} s "
        f"({report['tokens'] / report['tokenize_seconds']:,.0f} tokens/s)",
        "",
        "| op | modules applied | functions applied | changed | verified | functions/s | tokens/s | x tokenize |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, row in report["ops"].items():
        modules = f"{row['modules_applies']:.1%}" if "modules_applies" in row else "-"
        functions = f"{row['functions_applies']:.1%}" if "functions_applies" in row else "-"
        verified = f"{row['verified']}/{row['changed']}" if "verified" in row else "-"
        speed = f"{row['functions_per_s']:,.0f} | {row['tokens_per_s']:,.0f} | {row['x_tokenize']:.2f}"
        lines.append(
            f"| {label} | {modules} | {functions} | {row['changed']}/{report['files']} | {verified} | {speed} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=60, help="files to read (0: all of them)")
    parser.add_argument("--strength", type=float, default=1.0)
    args = parser.parse_args(argv)
    print(format_report(measure(args.limit or None, args.strength)))


if __name__ == "__main__":
    main()
