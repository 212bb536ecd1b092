"""Scope-correct renaming of identifiers (DOBF's obfuscation), as edits on the source.

Each definition of the file that may be renamed (`scopes.analyze`: variables, parameters, functions and classes at
module, function, lambda and comprehension scope; never builtins, imports, attributes, class attributes, dunder
names, `__all__` names ...) is renamed with probability `rate` (reference 0.5, as DOBF's p_obf; the strength scales
it linearly, capped at 1: strength 2 renames them all), at every occurrence (loads, stores, `del`, `global`/
`nonlocal` lists, f-string fields, keyword arguments of calls to the function), to `VAR_i`/`FUNC_i`/`CLASS_i`
(DOBF's names, numbered from 0 per kind in order of first appearance) or, with `style="plausible"`, to a common
identifier of the kind. New names never collide with a word of the file. Comments, strings and layout stay byte for
byte; the output compiles and is alpha-equivalent to the input (`equivalence.alpha_equivalent`).
"""

from __future__ import annotations

import re
import weakref
from typing import Any, ClassVar

from ...text.strings import Edit
from ..ops import CodeOp, SampleDraws
from .scopes import BUILTIN_NAMES, KEYWORDS, Definition, analyze, locate
from .source import PythonSource

__all__ = ["OPS", "PLAUSIBLE_NAMES", "STYLES", "Rename"]

STYLES = ("dobf", "plausible")

PLAUSIBLE_NAMES: dict[str, tuple[str, ...]] = {
    "VAR": (
        "value", "result", "item", "data", "count", "index", "total", "name", "key", "text", "line", "node",
        "size", "length", "offset", "start", "end", "limit", "state", "entry", "record", "element", "current",
        "previous", "buffer", "output", "target", "source", "options", "config", "params", "args_list", "items",
        "values", "keys", "names", "lines", "parts", "pieces", "chunk", "block", "token", "tokens", "word", "words",
        "path", "filename", "directory", "content", "message", "status", "flag", "enabled", "found", "done", "ok",
        "error", "errors", "response", "request", "payload", "header", "headers", "body", "row", "rows", "column",
        "columns", "table", "field", "fields", "label", "labels", "score", "scores", "weight", "weights", "matrix",
        "vector", "point", "points", "width", "height", "depth", "level", "step", "steps", "counter", "acc",
        "accumulator", "temp", "tmp", "obj", "instance", "other", "first", "second", "last", "pair", "mapping",
        "lookup", "cache", "queue", "stack", "seen", "visited", "pending", "batch", "sample", "samples", "info",
    ),
    "FUNC": (
        "process", "compute", "handle", "update", "build", "create", "parse", "load", "save", "render", "check",
        "validate", "convert", "transform", "apply", "run", "execute", "prepare", "setup", "cleanup", "reset",
        "collect", "gather", "merge", "split", "join_parts", "format_value", "read_data", "write_data", "fetch",
        "store", "emit", "dispatch", "resolve", "normalize", "evaluate", "visit", "walk", "scan", "search",
        "find_item", "lookup_value", "get_value", "set_value", "make_key", "to_string", "from_string", "encode_data",
        "decode_data", "helper", "callback", "wrapper", "inner", "step_once", "advance", "finish", "start_up",
    ),
    "CLASS": (
        "Handler", "Manager", "Builder", "Parser", "Loader", "Writer", "Reader", "Processor", "Controller",
        "Service", "Client", "Server", "Worker", "Task", "Job", "Node", "Tree", "Graph", "Item", "Record", "Entry",
        "Config", "Options", "Context", "State", "Result", "Response", "Request", "Message", "Event", "Listener",
        "Adapter", "Wrapper", "Factory", "Registry", "Container", "Store", "Cache", "Buffer", "Stream", "Helper",
    ),
}  # fmt: skip

_WORD = re.compile(r"\w+")
# Analyses of the sources the op has read (a policy calls `sites` and `edits` on the same PythonSource).
_ANALYSES: weakref.WeakKeyDictionary[PythonSource, dict[bool, list[tuple[Definition, list[tuple[int, int]]]]]] = (
    weakref.WeakKeyDictionary()
)


def candidates(source: PythonSource, rename_parameters: bool = True) -> list[tuple[Definition, list[tuple[int, int]]]]:
    """The renamable definitions of a source (in order of first appearance) with the [start, end) spans of their
    occurrences; a definition with an occurrence that cannot be located in the text is left out."""
    cached = _ANALYSES.setdefault(source, {})
    found = cached.get(rename_parameters)
    if found is not None:
        return found
    out = []
    for definition in analyze(source, rename_parameters=rename_parameters).renamable:
        spans = [locate(source, occurrence) for occurrence in definition.occurrences]
        if all(span is not None for span in spans):
            out.append((definition, sorted(set(spans))))  # type: ignore[arg-type]
    cached[rename_parameters] = out
    return out


class Rename(CodeOp):
    """DOBF's renaming: each renamable definition with probability `rate`, consistently over its scope, to
    `VAR_i`/`FUNC_i`/`CLASS_i` (style "dobf") or a common identifier (style "plausible"). `rename_parameters`
    (default True, as DOBF): rename the parameters that callers outside the file may pass by keyword, of functions
    at module or class level; keyword arguments of calls to a function of the file follow its parameters either
    way."""

    name = "rename"
    stream = 0xC2_0001
    reference_rate: ClassVar[float] = 0.5
    kind = "rename"
    preserving = True

    def __init__(self, style: str = "dobf", rename_parameters: bool = True) -> None:
        if style not in STYLES:
            raise ValueError(f"style: expected one of {STYLES}, got {style!r}")
        if not isinstance(rename_parameters, bool):
            raise TypeError(f"rename_parameters: expected a bool, got {type(rename_parameters).__name__}")
        self.style = style
        self.rename_parameters = rename_parameters

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.style != "dobf":
            out["style"] = self.style
        if not self.rename_parameters:
            out["rename_parameters"] = False
        return out

    def sites(self, source: PythonSource) -> int:
        """The number of renamable definitions."""
        return len(candidates(source, self.rename_parameters))

    def edits(self, source: PythonSource, draws: SampleDraws) -> list[Edit]:
        found = candidates(source, self.rename_parameters)
        chosen = draws.chosen(len(found), 0)
        if not len(chosen):
            return []
        picked = [found[k] for k in chosen]
        taken = set(_WORD.findall(source.text))
        kinds = [definition.kind for definition, _ in picked]
        if self.style == "dobf":
            names = _dobf_names(kinds, taken)
        else:
            names = _plausible_names(kinds, taken, draws.uniform(len(picked), 1))
        edits = [Edit(start, end, new, self.name) for (_, spans), new in zip(picked, names, strict=True)
                 for start, end in spans]  # fmt: skip
        edits.sort()
        return edits


def _dobf_names(kinds: list[str], taken: set[str]) -> list[str]:
    """VAR_i / FUNC_i / CLASS_i numbered from 0 per kind, skipping names the file already has."""
    counters = {"VAR": 0, "FUNC": 0, "CLASS": 0}
    out = []
    for kind in kinds:
        while f"{kind}_{counters[kind]}" in taken:
            counters[kind] += 1
        out.append(f"{kind}_{counters[kind]}")
        counters[kind] += 1
    return out


def _plausible_names(kinds: list[str], taken: set[str], uniforms: Any) -> list[str]:
    """A common identifier of the kind per definition, drawn without replacement by its uniform, never one the file
    has, a builtin or a keyword (numbered variants once the list runs out)."""
    available = {
        kind: [name for name in names if name not in taken and name not in BUILTIN_NAMES and name not in KEYWORDS]
        for kind, names in PLAUSIBLE_NAMES.items()
    }
    used: set[str] = set()
    out = []
    for kind, u in zip(kinds, uniforms, strict=True):
        pool = available[kind]
        if pool:
            name = pool.pop(min(int(u * len(pool)), len(pool) - 1))
        else:
            base = PLAUSIBLE_NAMES[kind][min(int(u * len(PLAUSIBLE_NAMES[kind])), len(PLAUSIBLE_NAMES[kind]) - 1)]
            number = 2
            while f"{base}{number}" in taken or f"{base}{number}" in used:
                number += 1
            name = f"{base}{number}"
        used.add(name)
        out.append(name)
    return out


OPS: dict[str, type[CodeOp]] = {Rename.name: Rename}
