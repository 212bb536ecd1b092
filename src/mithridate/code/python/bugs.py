"""Injected bugs (DeepBugs, VarMisuse): one small, labelled change of meaning per sample.

Each op lists the places where it can inject its kind of bug (`sites`) and injects exactly one, at the site its
draws pick (`draws.pick`), as `Edit`s whose `op` is `bug:<kind>`: swapped arguments, a wrong binary operator, a
wrong comparison, an off-by-one constant or `range` bound, a variable misuse, a removed `not`. Every site changes
the syntax tree (sites where it would not, such as two equal arguments, are never counted); `bug_labels` gives
the (kind, start, end) of the bug in the output, for training a bug detector or localiser.
"""

from __future__ import annotations

import ast
import bisect
import itertools
import tokenize
from collections.abc import Iterator
from typing import Any

from ...text.strings import Edit
from ..ops import SampleDraws
from ..policies import EditedCode
from .rewrites import PythonOp, Site, outside_fstrings
from .source import PythonSource

__all__ = [
    "OPS",
    "BugOp",
    "OffByOne",
    "RemovedNot",
    "SwappedArgs",
    "VariableMisuse",
    "WrongBinaryOperator",
    "WrongComparison",
    "bug_labels",
]


class BugOp(PythonOp):
    """One injected bug per sample, at the site `draws.pick` chooses (stream 0); a second choice, when the kind
    has variants (+1 or -1, which variable), comes from stream 1. The edits' `op` is `bug:<name>`."""

    kind = "bug"
    preserving = False
    reference_rate = 1.0
    check = "bug"

    @property
    def label(self) -> str:
        return f"bug:{self.name}"

    def edits(self, source: Any, draws: SampleDraws) -> list[Edit]:
        source = self.parse(source)
        sites = self.find(source)
        k = draws.pick(len(sites))
        if k < 0:
            return []
        variant = float(draws.uniform(1, sub=1)[0])
        return sorted(self.edit_site(source, sites[k], variant, k), key=lambda edit: (edit.start, edit.end))


def _token_between(
    source: PythonSource, starts: list[int], start: int, end: int, strings: tuple[str, ...]
) -> list[Any]:
    """The tokens in [start, end) whose text is one of `strings` (operators between two operands); `starts`: the
    start of each token."""
    tokens = source.tokens
    first = bisect.bisect_left(starts, start)
    out = []
    for token in tokens[first:]:
        if token.start >= end:
            break
        if token.string in strings and token.type in (tokenize.OP, tokenize.NAME):
            out.append(token)
    return out


class SwappedArgs(BugOp):
    """Two neighbouring positional arguments of a call swapped (`f(a, b)` to `f(b, a)`), where they differ."""

    name = "swapped_args"
    stream = 0xC3_0100

    def find(self, source: PythonSource) -> list[Site]:
        sites = []
        for node in outside_fstrings(source.tree):
            if not isinstance(node, ast.Call):
                continue
            args = node.args
            for a, b in itertools.pairwise(args):
                if isinstance(a, ast.Starred) or isinstance(b, ast.Starred):
                    continue
                if ast.dump(a) != ast.dump(b):
                    sites.append(Site(source.node_span(a)[0], (source.node_span(a), source.node_span(b))))
        return sorted(sites)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        (a0, a1), (b0, b1) = site.data
        text = source.text
        return [Edit(a0, a1, text[b0:b1], self.label, b0), Edit(b0, b1, text[a0:a1], self.label, a0)]


_BINARY = {
    ast.Add: ("+", "-"),
    ast.Sub: ("-", "+"),
    ast.Mult: ("*", "/"),
    ast.Div: ("/", "*"),
    ast.FloorDiv: ("//", "/"),
    ast.Mod: ("%", "//"),
    ast.Pow: ("**", "*"),
    ast.LShift: ("<<", ">>"),
    ast.RShift: (">>", "<<"),
    ast.BitAnd: ("&", "|"),
    ast.BitOr: ("|", "&"),
    ast.BitXor: ("^", "|"),
    ast.MatMult: ("@", "*"),
}


class WrongBinaryOperator(BugOp):
    """A binary operator replaced by a related one (`+`/`-`, `*`/`/`, `//`/`/`, `%`/`//`, `**`/`*`, `<<`/`>>`,
    `&`/`|`, `^`/`|`, `@`/`*`), in expressions and augmented assignments (`+=` to `-=`)."""

    name = "wrong_binop"
    stream = 0xC3_0101

    def find(self, source: PythonSource) -> list[Site]:
        sites, starts = [], [token.start for token in source.tokens]
        for node in outside_fstrings(source.tree):
            if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
                left, right, suffix = node.left, node.right, ""
            elif isinstance(node, ast.AugAssign) and type(node.op) in _BINARY:
                left, right, suffix = node.target, node.value, "="
            else:
                continue
            old, new = _BINARY[type(node.op)]
            span = source.node_span(left)[1], source.node_span(right)[0]
            found = _token_between(source, starts, *span, (old + suffix,))
            if len(found) == 1:
                sites.append(Site(found[0].start, (found[0].end, new + suffix)))
        return sorted(sites)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        end, new = site.data
        return [Edit(site.offset, end, new, self.label)]


_COMPARE = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
    ast.Is: ("is", "is not"),
    ast.IsNot: ("is not", "is"),
    ast.In: ("in", "not in"),
    ast.NotIn: ("not in", "in"),
}


class WrongComparison(BugOp):
    """A comparison operator replaced by its near miss: `<`/`<=`, `>`/`>=`, `==`/`!=`, `is`/`is not`,
    `in`/`not in` (each operator of a chain is a site)."""

    name = "wrong_compare"
    stream = 0xC3_0102

    def find(self, source: PythonSource) -> list[Site]:
        sites, starts = [], [token.start for token in source.tokens]
        for node in outside_fstrings(source.tree):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            for i, op in enumerate(node.ops):
                old, new = _COMPARE[type(op)]
                start, end = source.node_span(operands[i])[1], source.node_span(operands[i + 1])[0]
                found = _token_between(source, starts, start, end, tuple(old.split()))
                if [token.string for token in found] == old.split():
                    sites.append(Site(found[0].start, (found[-1].end, new)))
        return sorted(sites)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        end, new = site.data
        return [Edit(site.offset, end, new, self.label)]


_ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)


class OffByOne(BugOp):
    """An integer constant (not a bool) or a non-constant `range(...)` bound off by one: `n` to `n + 1` or
    `n - 1` (the sign from the second draw); constants in match patterns and f-strings are left alone."""

    name = "off_by_one"
    stream = 0xC3_0103

    def find(self, source: PythonSource) -> list[Site]:
        numbers = {token.start: token for token in source.tokens if token.type == tokenize.NUMBER}
        patterns = set()
        for node in ast.walk(source.tree):
            if isinstance(node, ast.match_case):
                patterns.update(id(child) for child in ast.walk(node.pattern))
        sites = []
        for node in outside_fstrings(source.tree):
            if id(node) in patterns:
                continue
            if isinstance(node, ast.Constant) and type(node.value) is int:
                start, end = source.node_span(node)
                token = numbers.get(start)
                if token is not None and token.end == end:
                    sites.append(Site(start, (end, node.value, None)))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
                for arg in node.args:
                    if not isinstance(arg, (ast.Constant, ast.Starred)):
                        start, end = source.node_span(arg)
                        sites.append(Site(start, (end, None, arg)))
        return sorted(sites, key=lambda site: (site.offset, site.data[0]))

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        end, value, arg = site.data
        step = 1 if context < 0.5 else -1
        if arg is None:
            new = value + step
            return [Edit(site.offset, end, str(new) if new >= 0 else f"({new})", self.label)]
        text = source.text[site.offset : end]
        if not isinstance(arg, _ATOMS):
            text = f"({text})"
        return [Edit(site.offset, end, f"{text} {'+' if step > 0 else '-'} 1", self.label)]


_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.Lambda,
    ast.ClassDef,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.JoinedStr,
)


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function's own scope: its body without nested scopes (functions, lambdas, classes,
    comprehensions) and without f-strings."""
    stack = list(function.body)  # type: ignore[attr-defined]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))


class VariableMisuse(BugOp):
    """A use of a local variable replaced by another local variable of the same function that is defined before
    the use (a parameter, or a name assigned earlier in the text): VarMisuse's bug. Names declared global or
    nonlocal, and uses inside nested scopes, are left alone."""

    name = "var_misuse"
    stream = 0xC3_0104

    def find(self, source: PythonSource) -> list[Site]:
        sites = []
        for function in ast.walk(source.tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            start = source.node_span(function)[0]
            arguments = function.args
            first: dict[str, int] = {}
            for arg in (*arguments.posonlyargs, *arguments.args, arguments.vararg, *arguments.kwonlyargs,
                        arguments.kwarg):  # fmt: skip
                if arg is not None:
                    first[arg.arg] = start
            declared, uses = set(), []
            for node in _own_nodes(function):
                if isinstance(node, (ast.Global, ast.Nonlocal)):
                    declared.update(node.names)
                elif isinstance(node, ast.Name):
                    offset = source.node_span(node)[0]
                    if isinstance(node.ctx, ast.Load):
                        uses.append((offset, node))
                    elif isinstance(node.ctx, ast.Store) and (node.id not in first or offset < first[node.id]):
                        first[node.id] = offset
            for name in declared:
                first.pop(name, None)
            for offset, node in uses:
                if node.id not in first:
                    continue
                others = sorted(name for name, at in first.items() if name != node.id and at < offset)
                if others:
                    sites.append(Site(offset, (offset + len(node.id), others)))
        return sorted(sites, key=lambda site: site.offset)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        end, others = site.data
        return [Edit(site.offset, end, others[min(int(context * len(others)), len(others) - 1)], self.label)]


class RemovedNot(BugOp):
    """A `not` removed: `not x` to `x` (the operand, parentheses and all)."""

    name = "removed_not"
    stream = 0xC3_0105

    def find(self, source: PythonSource) -> list[Site]:
        sites = []
        for node in outside_fstrings(source.tree):
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                start, end = source.node_span(node)
                if source.text.startswith("not", start):
                    sites.append(Site(start, end))
        return sorted(sites)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        return [Edit(site.offset, site.data, source.text[site.offset + 3 : site.data].lstrip(), self.label)]


def bug_labels(edited: EditedCode) -> list[tuple[str, int, int]]:
    """(kind, start, end) of each injected bug in the output text `edited.text` (the span covering its edits; a
    bug's kind is its op's name), from the edit log of an `EditedCode`."""
    if not isinstance(edited, EditedCode):
        raise TypeError(f"edited: expected an EditedCode, got {type(edited).__name__}")
    spans: dict[str, list[int]] = {}
    shift = 0
    for edit in edited.edits:
        start, end = edit.start + shift, edit.start + shift + len(edit.text)
        shift += len(edit.text) - (edit.end - edit.start)
        if not edit.op.startswith("bug:"):
            continue
        kind = edit.op[4:]
        if kind in spans:
            spans[kind] = [min(spans[kind][0], start), max(spans[kind][1], end)]
        else:
            spans[kind] = [start, end]
    return [(kind, start, end) for kind, (start, end) in spans.items()]


OPS: dict[str, type[BugOp]] = {
    cls.name: cls for cls in (SwappedArgs, WrongBinaryOperator, WrongComparison, OffByOne, VariableMisuse, RemovedNot)
}
"""Op name -> class of the injected bugs (each edit's `op` is `bug:<name>`)."""
