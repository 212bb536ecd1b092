"""The code benchmark (`mithridate bench --modality code`): every code op's throughput on one thread, beside the
floor any tool of its kind pays on the same files.

Python ops run on the standard library's files, beside `tokenize`'s round trip of the same files
(`generate_tokens` then `untokenize`); the token-level ops for other languages run on JavaScript files (npm's, where
present), beside Pygments' lexing. Each op runs through `OpPolicy` at p = 1 and strength 1 (the plain call, which
builds the outputs), one process, `torch.set_num_threads(1)`; the table gives the best of `repeats` rounds and the
ratio op time / floor time (the issue's target for renaming and faulty code: at most 3).
"""

from __future__ import annotations

import ast
import io
import json
import time
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..code import CODE_OPS, OpPolicy
from ..code.lexed.source import lexer_for
from ..code.python.source import CodeSyntaxError, read_python
from ..code.python.stdlib import stdlib_files
from ..dose import Dose
from .text.harness import text_machine_info

__all__ = ["CODE_FLOOR_RATIO", "CodeBenchSettings", "code_markdown", "run_code_bench", "write_code_outputs"]

CODE_FLOOR_RATIO = 3.0
"""Renaming and faulty code: at most this many times the time of tokenize's round trip of the same files."""

TARGET_OPS = ("rename", "faulty")
JAVASCRIPT_ROOT = Path("/usr/lib/node_modules/npm")


@dataclass(frozen=True)
class CodeBenchSettings:
    """`limit` standard-library files (None: all), `js_limit` JavaScript files, `repeats` rounds, the ops."""

    limit: int | None = 200
    js_limit: int = 30
    repeats: int = 3
    ops: tuple[str, ...] = tuple(CODE_OPS)

    def __post_init__(self) -> None:
        unknown = [name for name in self.ops if name not in CODE_OPS]
        if unknown:
            raise ValueError(f"ops: unknown code ops {unknown}; expected some of {', '.join(CODE_OPS)}")
        if self.repeats < 1:
            raise ValueError(f"repeats: expected >= 1, got {self.repeats}")


def _best(call: Callable[[], Any], repeats: int) -> float:
    call()  # warm-up: first calls of the keyed draws and of lazily built tables
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def _python_inputs(limit: int | None) -> dict[str, Any]:
    texts, functions = [], 0
    for path in stdlib_files(limit):
        try:
            source = read_python(path.read_bytes())
            tree = source.tree
        except CodeSyntaxError:
            continue
        texts.append(source.text)
        functions += sum(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) for node in ast.walk(tree))
    tokens = sum(len(list(tokenize.generate_tokens(io.StringIO(text).readline))) for text in texts)
    return {"texts": texts, "functions": functions, "tokens": tokens}


def _round_trip(texts: list[str]) -> None:
    for text in texts:
        tokenize.untokenize(tokenize.generate_tokens(io.StringIO(text).readline))


def _javascript_inputs(limit: int) -> dict[str, Any] | None:
    files = sorted(JAVASCRIPT_ROOT.rglob("*.js")) if JAVASCRIPT_ROOT.is_dir() else []
    if not files or limit < 1:
        return None
    step = max(len(files) // limit, 1)
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in files[::step][:limit]]
    lexer = lexer_for("javascript")
    tokens = sum(1 for text in texts for _ in lexer.get_tokens_unprocessed(text))
    return {"texts": texts, "tokens": tokens, "lexer": lexer}


def run_code_bench(settings: CodeBenchSettings, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Time every op of `settings` (see the module docstring); returns the run as a JSON-ready dict."""
    torch.set_num_threads(1)
    python = _python_inputs(settings.limit)
    floor = _best(lambda: _round_trip(python["texts"]), settings.repeats)
    echo(f"tokenize round trip: {len(python['texts'])} files, {floor:.3f} s")
    javascript = _javascript_inputs(settings.js_limit)
    js_floor = None
    if javascript is not None:
        lexer = javascript["lexer"]
        js_floor = _best(lambda: [list(lexer.get_tokens_unprocessed(t)) for t in javascript["texts"]], settings.repeats)
    rows = []
    for name in settings.ops:
        op = CODE_OPS[name]()
        lexed = op.language == "any"
        inputs = javascript if lexed else python
        if inputs is None:
            rows.append({"op": name, "skipped": f"no JavaScript files under {JAVASCRIPT_ROOT}"})
            continue
        texts = inputs["texts"]
        policy = OpPolicy(op, seed=0, dose=Dose(1.0, 1.0), on_error="pass")
        index = list(range(len(texts)))
        seconds = _best(lambda policy=policy, texts=texts, index=index: policy(texts, index=index), settings.repeats)
        changed = sum(out.changed for out in policy.augment(texts, index=index))
        base = js_floor if lexed else floor
        row = {
            "op": name, "kind": op.kind, "language": "javascript" if lexed else "python", "seconds": seconds,
            "files_per_s": len(texts) / seconds, "tokens_per_s": inputs["tokens"] / seconds,
            "x_floor": seconds / base, "changed": changed, "files": len(texts),
        }  # fmt: skip
        if not lexed:
            row["functions_per_s"] = python["functions"] / seconds
        rows.append(row)
        echo(f"{name}: {seconds:.3f} s, {row['x_floor']:.2f}x the floor")
    targets = [
        {"what": f"{row['op']}: at most {CODE_FLOOR_RATIO:g}x tokenize's round trip", "ratio": round(row["x_floor"], 2),
         "met": row["x_floor"] <= CODE_FLOOR_RATIO}
        for row in rows if row["op"] in TARGET_OPS and "x_floor" in row
    ]  # fmt: skip
    machine = text_machine_info()
    machine["pygments"] = _version("pygments")
    return {
        "machine": machine,
        "settings": {"limit": settings.limit, "js_limit": settings.js_limit, "repeats": settings.repeats},
        "python": {"files": len(python["texts"]), "functions": python["functions"], "tokens": python["tokens"],
                   "floor_seconds": floor, "floor_tokens_per_s": python["tokens"] / floor},
        "javascript": None if javascript is None else {
            "files": len(javascript["texts"]), "tokens": javascript["tokens"], "floor_seconds": js_floor,
            "floor_tokens_per_s": javascript["tokens"] / js_floor},
        "ops": rows,
        "targets": targets,
    }  # fmt: skip


def _version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def code_markdown(result: dict[str, Any]) -> str:
    """The run as Markdown: machine, inputs, the table, the targets."""
    machine, python, javascript = result["machine"], result["python"], result["javascript"]
    lines = [
        "# mithridate bench: code",
        "",
        f"Machine: {machine['cpu']} (lscpu model name), {machine['cores']} cores; {machine['os']}; Python "
        f"{machine['python']}; {machine['date']}. One thread; best of {result['settings']['repeats']} rounds.",
        "",
        f"Python: {python['files']} standard-library files, {python['functions']:,} functions, {python['tokens']:,} "
        f"tokens; floor: `tokenize` round trip, {python['floor_seconds']:.3f} s "
        f"({python['floor_tokens_per_s']:,.0f} tokens/s).",
    ]
    if javascript is not None:
        lines.append(
            f"JavaScript: {javascript['files']} npm files, {javascript['tokens']:,} Pygments tokens; floor: Pygments "
            f"{machine.get('pygments') or '?'} lexing, {javascript['floor_seconds']:.3f} s "
            f"({javascript['floor_tokens_per_s']:,.0f} tokens/s)."
        )
    lines += [
        "",
        "| op | kind | language | files changed | functions/s | tokens/s | x floor |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for row in result["ops"]:
        if "skipped" in row:
            lines.append(f"| {row['op']} | | | skipped: {row['skipped']} | | | |")
            continue
        functions = f"{row['functions_per_s']:,.0f}" if "functions_per_s" in row else "–"
        lines.append(
            f"| {row['op']} | {row['kind']} | {row['language']} | {row['changed']}/{row['files']} | {functions} | "
            f"{row['tokens_per_s']:,.0f} | {row['x_floor']:.2f} |"
        )
    lines += ["", "## Targets", ""]
    for target in result["targets"]:
        lines.append(f"- {'met' if target['met'] else '**not met**'}: {target['what']} (measured {target['ratio']})")
    return "\n".join(lines) + "\n"


def write_code_outputs(result: dict[str, Any], folder: str | Path, name: str) -> dict[str, Path]:
    """NAME.md and NAME.json in `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": folder / f"{name}.md", "json": folder / f"{name}.json"}
    paths["markdown"].write_text(code_markdown(result))
    paths["json"].write_text(json.dumps(result, indent=1, default=str) + "\n")
    return paths
