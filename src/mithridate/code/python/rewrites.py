"""Semantics-preserving rewrites of Python source (ReCode, NatGen): dead code, `for` to `while`, swapped comparisons,
swapped `if`/`else`, and layout ops (blank lines, line splits, comments and docstrings removed or given typos,
indentation width).

Every op edits the text by position (`Edit`s on the source), so comments and layout outside an edit stay byte for
byte. An op finds its sites (`site_offsets`: where each unit starts) and edits the sites its draws choose at the
per-unit rate (`draws.chosen(count)`); a site the op cannot rewrite safely is never counted. `check` says how the
verifier proves an output right: "ast" (same `ast.dump`), "ast_without_docstrings" (the same once docstrings are
dropped) or "behaviour" (a normal form that undoes the rewrite, and runs of pure functions).
"""

from __future__ import annotations

import ast
import re
import tokenize
from collections.abc import Iterator
from typing import Any, ClassVar, NamedTuple

from ...text.strings import OPS as TEXT_OPS
from ...text.strings import Edit
from ..ops import CodeOp, SampleDraws
from .source import PythonSource

__all__ = [
    "OPS",
    "BlankLines",
    "CommentTypos",
    "DeadCode",
    "DocstringTypos",
    "DropComments",
    "DropDocstrings",
    "ForToWhile",
    "Indentation",
    "PythonOp",
    "SplitLines",
    "SwapComparison",
    "SwapIfElse",
    "docstring_nodes",
    "fresh_name",
    "line_start",
    "outside_fstrings",
    "statement_lists",
]


class Site(NamedTuple):
    """One unit an op can edit: where it starts (for coverage and labels) and what the op needs to edit it."""

    offset: int
    data: Any = None


class PythonOp(CodeOp):
    """A Python op with explicit sites: `find` lists them in text order, `sites` counts them, `site_offsets` says
    where they start, and `edit_site` rewrites one; `edits` edits the sites chosen at the per-unit rate."""

    check: ClassVar[str] = "ast"

    def find(self, source: PythonSource) -> list[Site]:
        raise NotImplementedError

    def sites(self, source: Any) -> int:
        return len(self.find(self.parse(source)))

    def site_offsets(self, source: Any) -> list[int]:
        """The character offset of each site, in text order."""
        return [site.offset for site in self.find(self.parse(source))]

    may_overlap: ClassVar[bool] = False
    """Whether the edits of two sites can overlap (nested blocks): a site whose edits would overlap those of an
    earlier chosen site is then left alone."""

    def context(self, source: PythonSource, draws: SampleDraws, count: int) -> Any:
        """What the edits of one call share (fresh names, extra draws)."""
        return draws

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        raise NotImplementedError

    def edits(self, source: Any, draws: SampleDraws) -> list[Edit]:
        source = self.parse(source)
        sites = self.find(source)
        chosen = draws.chosen(len(sites))
        if not len(chosen):
            return []
        context = self.context(source, draws, len(sites))
        out: list[Edit] = []
        for k in chosen:
            new = self.edit_site(source, sites[k], context, int(k))
            if self.may_overlap and any(a.start < b.end and b.start < a.end for a in new for b in out):
                continue
            out.extend(new)
        return sorted(out, key=lambda edit: (edit.start, edit.end))


# Helpers -------------------------------------------------------------------------------------------------------


def line_start(text: str, offset: int) -> int:
    """The offset where the line holding `offset` starts."""
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """The offset of the line break ending the line holding `offset` ('\\r\\n' counts from its '\\r')."""
    end = text.find("\n", offset)
    if end < 0:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def newline_of(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def fresh_name(taken: set[str], base: str) -> str:
    """`base` or `base` with a number, not in `taken` (which it is added to)."""
    name, k = base, 0
    while name in taken:
        k += 1
        name = f"{base}{k}"
    taken.add(name)
    return name


def names_in(source: PythonSource) -> set[str]:
    """Every NAME token of the source (fresh names avoid all of them, whatever their scope)."""
    return {token.string for token in source.tokens if token.type == tokenize.NAME}


_BODIES = ("body", "orelse", "finalbody")


def statement_lists(tree: ast.AST) -> Iterator[tuple[ast.AST, list[ast.stmt]]]:
    """(owner, statements) for every block of statements in the tree (module, function, loop and branch bodies,
    handlers, match cases)."""
    for node in ast.walk(tree):
        for name in _BODIES:
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield node, block


def docstring_nodes(tree: ast.AST) -> list[tuple[ast.AST, ast.Expr]]:
    """(owner, docstring statement) of the module, classes and functions that have one."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                out.append((node, first))
    return out


def outside_fstrings(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the tree but those inside f-strings (whose positions Python 3.11 does not always give)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.JoinedStr):
            stack.extend(ast.iter_child_nodes(node))


def statement_start(source: PythonSource, stmt: ast.stmt) -> int | None:
    """Where a statement begins (its first decorator's '@' for a decorated definition), or None when it does not
    begin its line (after ';' or a compound header on the same line) or is an `elif`."""
    start = source.ast_offset(stmt.lineno, stmt.col_offset)
    decorators = getattr(stmt, "decorator_list", None)
    if decorators:
        first = decorators[0]
        start = source.text.rfind("@", 0, source.ast_offset(first.lineno, first.col_offset))
    if isinstance(stmt, ast.If) and source.text.startswith("elif", start):
        return None  # an `elif`: a branch of the `if` before it, not a statement of its own
    head = source.text[line_start(source.text, start) : start]
    return start if not head.strip() else None


def _functions(tree: ast.AST) -> list[ast.AST]:
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _own_statements(function: ast.AST) -> Iterator[ast.stmt]:
    """Statements of a function's own scope (not those of nested functions or classes)."""
    stack = list(function.body)  # type: ignore[attr-defined]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in (*_BODIES, "handlers", "cases"):
            for child in getattr(node, name, None) or ():
                if isinstance(child, ast.stmt):
                    stack.append(child)
                else:  # ExceptHandler, match_case
                    stack.extend(child.body)


# Control-flow rewrites -------------------------------------------------------------------------------------------


class DeadCode(PythonOp):
    """Dead code at a statement boundary: `if False:` / `pass`, or an unused assignment to a fresh name (in
    function bodies only, where a new local changes nothing), indented as the statement it precedes. Never before
    a docstring or a `from __future__` import (which must stay first)."""

    name = "dead_code"
    stream = 0xC3_0000
    kind = "rewrite"
    preserving = True
    check = "behaviour"
    reference_rate = 0.1

    def find(self, source: PythonSource) -> list[Site]:
        tree = source.tree
        docstrings = {id(stmt) for _, stmt in docstring_nodes(tree)}
        functions = {id(node) for node in _functions(tree)}
        future_end = 0
        for stmt in tree.body:
            if isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
                future_end = stmt.end_lineno or 0
        sites = []
        for owner, block in statement_lists(tree):
            in_function = id(owner) in functions
            for stmt in block:
                if id(stmt) in docstrings or stmt.lineno <= future_end:
                    continue
                start = statement_start(source, stmt)
                if start is not None:
                    sites.append(Site(line_start(source.text, start), in_function))
        return sorted(sites)

    def context(self, source: PythonSource, draws: SampleDraws, count: int) -> Any:
        return names_in(source), draws.uniform(count, sub=1)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        taken, variants = context
        text, newline = source.text, newline_of(source.text)
        at, in_function = site
        line = text[at : line_end(text, at)]
        indent = line[: len(line) - len(line.lstrip())]
        if in_function and variants[k] < 0.5:
            code = f"{indent}{fresh_name(taken, '_unused')} = {int(variants[k] * 200)}{newline}"
        else:
            inner = indent + ("\t" if "\t" in indent else "    ")
            code = f"{indent}if False:{newline}{inner}pass{newline}"
        return [Edit(at, at, code, self.name)]


class ForToWhile(PythonOp):
    """A `for` loop in a function as a `while` loop over an explicit iterator with a sentinel:
    `_it = iter(X)`, `_end = object()`, `while (_item := next(_it, _end)) is not _end:` and the target assigned
    first in the body. `break`, `continue` and `else` keep their meaning (the test fails only when the iterator is
    exhausted); the fresh names appear nowhere else in the file. `async for` and loops at module or class level
    (where new names would be visible) are left alone."""

    name = "for_while"
    stream = 0xC3_0001
    kind = "rewrite"
    preserving = True
    check = "behaviour"
    reference_rate = 0.5
    may_overlap = True

    def find(self, source: PythonSource) -> list[Site]:
        sites = []
        for function in _functions(source.tree):
            for stmt in _own_statements(function):
                if isinstance(stmt, ast.For) and not stmt.type_comment:
                    start = statement_start(source, stmt)
                    if start is not None and self._colon(source, stmt) is not None:
                        sites.append(Site(start, stmt))
        return sorted(sites, key=lambda site: site.offset)

    @staticmethod
    def _colon(source: PythonSource, loop: ast.For) -> int | None:
        """The offset of the ':' closing the loop header."""
        end = source.node_span(loop.iter)[1]
        body = source.node_span(loop.body[0])[0]
        for token in source.tokens:
            if token.start >= end and token.type == tokenize.OP and token.string == ":" and token.end <= body:
                return token.start
        return None

    def context(self, source: PythonSource, draws: SampleDraws, count: int) -> Any:
        return names_in(source)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        text, newline = source.text, newline_of(source.text)
        start, loop = site
        it, end, item = (fresh_name(context, base) for base in ("_it", "_end", "_item"))
        at = line_start(text, start)
        indent = text[at:start]
        target = source.segment(loop.target)
        iterable = source.segment(loop.iter)
        if isinstance(loop.iter, (ast.Tuple, ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Starred)):
            iterable = f"({iterable})"  # `for x in a, b:` iterates a tuple, `iter(a, b)` would not
        header = f"while ({item} := next({it}, {end})) is not {end}:"
        prelude = f"{indent}{it} = iter({iterable}){newline}{indent}{end} = object(){newline}"
        colon = self._colon(source, loop)
        body_start = statement_start(source, loop.body[0])
        if body_start is None:  # the body on the header's line: `for x in y: f(x)`
            return [Edit(at, colon + 1, f"{prelude}{indent}{header} {target} = {item};", self.name)]
        head = line_start(text, body_start)
        return [
            Edit(at, colon + 1, f"{prelude}{indent}{header}", self.name),
            Edit(head, head, f"{text[head:body_start]}{target} = {item}{newline}", self.name),
        ]


_SIMPLE = (ast.Name, ast.Constant)
_FLIP = {ast.Lt: ">", ast.Gt: "<", ast.LtE: ">=", ast.GtE: "<=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is"}
_SYMBOL = {ast.Lt: "<", ast.Gt: ">", ast.LtE: "<=", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is"}


def _no_effects(node: ast.AST) -> bool:
    """Names, constants, attributes of names and subscripts of names by names or constants: operands whose order of
    evaluation does not matter."""
    if isinstance(node, _SIMPLE):
        return True
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name)
    if isinstance(node, ast.Subscript):
        return isinstance(node.value, ast.Name) and isinstance(node.slice, _SIMPLE)
    return False


class SwapComparison(PythonOp):
    """A comparison with its operands swapped and the operator flipped: `a < b` to `b > a`, `x == 0` to `0 == x`,
    where both operands are free of side effects (names, constants, attributes and subscripts of names) and the
    comparison is not a chain (`in` cannot be flipped)."""

    name = "swap_compare"
    stream = 0xC3_0002
    kind = "rewrite"
    preserving = True
    check = "behaviour"
    reference_rate = 0.5

    def find(self, source: PythonSource) -> list[Site]:
        sites = []
        for node in outside_fstrings(source.tree):
            if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _FLIP):
                continue
            left, right = node.left, node.comparators[0]
            if not (_no_effects(left) and _no_effects(right)):
                continue
            (a, b), (c, d) = source.node_span(left), source.node_span(right)
            middle = source.text[b:c]
            if middle.strip() != _SYMBOL[type(node.ops[0])] or "\n" in middle:
                continue  # parentheses or a line break between the operands
            sites.append(Site(a, (a, b, c, d, type(node.ops[0]))))
        return sorted(sites)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        a, b, c, d, op = site.data
        text = source.text
        middle = text[b:c].replace(_SYMBOL[op], _FLIP[op])
        return [Edit(a, d, text[c:d] + middle + text[a:b], self.name)]


class SwapIfElse(PythonOp):
    """`if t: A else: B` as `if not (t): B else: A` (a test `not u` becomes `u`), both blocks moved whole with their
    comments; `elif` chains and blocks on the header's line are left alone."""

    name = "swap_if"
    stream = 0xC3_0003
    kind = "rewrite"
    preserving = True
    check = "behaviour"
    reference_rate = 0.5
    may_overlap = True

    def find(self, source: PythonSource) -> list[Site]:
        text = source.text
        sites = []
        for node in ast.walk(source.tree):
            if not isinstance(node, ast.If) or not node.orelse:
                continue
            start = statement_start(source, node)
            if start is None:
                continue  # an elif: its test belongs to a chain
            orelse = node.orelse[0]
            if isinstance(orelse, ast.If) and text.startswith("elif", source.node_span(orelse)[0]):
                continue
            blocks = [self._block(source, node.body), self._block(source, node.orelse)]
            if None in blocks:
                continue
            sites.append(Site(start, (node, blocks)))
        return sorted(sites, key=lambda site: site.offset)

    @staticmethod
    def _block(source: PythonSource, body: list[ast.stmt]) -> tuple[int, int] | None:
        """[start of the first statement's line, end of the last statement's line) of a block on its own lines."""
        start = statement_start(source, body[0])
        if start is None:
            return None
        end = source.node_span(body[-1])[1]
        return line_start(source.text, start), line_end(source.text, end)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        node, ((a, b), (c, d)) = site.data
        text = source.text
        t0, t1 = source.node_span(node.test)
        test = node.test
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            new_test = text[t0 + 3 : t1].strip()
            if not new_test.startswith("("):
                new_test = text[t0 + 3 : t1].lstrip()
        else:
            new_test = f"not ({text[t0:t1]})"
        return [
            Edit(t0, t1, new_test, self.name),
            Edit(a, b, text[c:d], self.name, c),
            Edit(c, d, text[a:b], self.name, a),
        ]


# Layout ops ----------------------------------------------------------------------------------------------------


def _string_lines(source: PythonSource) -> set[int]:
    """Offsets of line starts that fall inside a token (a multi-line string): no layout edit may go there."""
    inside = set()
    text = source.text
    for token in source.tokens:
        if token.type == tokenize.STRING and "\n" in text[token.start : token.end]:
            position = text.find("\n", token.start)
            while 0 <= position < token.end - 1:
                inside.add(position + 1)
                position = text.find("\n", position + 1)
    return inside


class BlankLines(PythonOp):
    """A blank line inserted before a line (from the third line on, so that a shebang and an encoding cookie stay
    put), never inside a multi-line string nor after a backslash continuation."""

    name = "blank_lines"
    stream = 0xC3_0004
    kind = "format"
    preserving = True
    reference_rate = 0.1

    def find(self, source: PythonSource) -> list[Site]:
        text = source.text
        _ = source.tokens  # the text must tokenize
        inside = _string_lines(source)
        sites = []
        position = text.find("\n")
        line = 2
        while 0 <= position < len(text) - 1:
            start = position + 1
            previous = text[:position].rstrip("\r")
            if line >= 3 and start not in inside and not previous.endswith("\\"):
                sites.append(Site(start))
            position = text.find("\n", start)
            line += 1
        return sites

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        return [Edit(site.offset, site.offset, newline_of(source.text), self.name)]


_OPEN, _CLOSE = "([{", ")]}"
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12 tokenizes f-strings
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


class SplitLines(PythonOp):
    """A line split after a comma inside brackets: the space after the comma becomes a line break and the
    indentation of the line plus four spaces (inside brackets a line break means nothing to Python)."""

    name = "split_lines"
    stream = 0xC3_0005
    kind = "format"
    preserving = True
    reference_rate = 0.2

    def find(self, source: PythonSource) -> list[Site]:
        tokens = source.tokens
        depth, sites, fstring = 0, [], 0
        for i, token in enumerate(tokens):
            if token.type == _FSTRING_START:
                fstring += 1
            elif token.type == _FSTRING_END:
                fstring -= 1
            if token.type != tokenize.OP or fstring:
                continue
            if token.string in _OPEN:
                depth += 1
            elif token.string in _CLOSE:
                depth -= 1
            elif token.string == "," and depth > 0 and i + 1 < len(tokens):
                following = tokens[i + 1]
                gap = source.text[token.end : following.start]
                if (
                    gap.strip() == ""
                    and "\n" not in gap
                    and following.type not in (tokenize.COMMENT, tokenize.NL)
                    and following.string not in _CLOSE
                ):
                    sites.append(Site(token.end, following.start))
        return sites

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        text = source.text
        at = line_start(text, site.offset)
        line = text[at : line_end(text, at)]
        indent = line[: len(line) - len(line.lstrip())]
        return [Edit(site.offset, site.data, newline_of(text) + indent + "    ", self.name)]


_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=]")


def _comments(source: PythonSource) -> list[tokenize.TokenInfo | Any]:
    """Comment tokens an op may edit: all but a shebang and an encoding cookie on the first two lines."""
    text = source.text
    second = text.find("\n", text.find("\n") + 1)
    out = []
    for token in source.tokens:
        if token.type != tokenize.COMMENT:
            continue
        if (0 <= token.start < second or second < 0) and (token.string.startswith("#!") or _COOKIE.match(token.string)):
            continue
        out.append(token)
    return out


class DropComments(PythonOp):
    """A comment removed: a comment alone on its line goes with its line, a trailing comment with the spaces
    before it. The shebang and the encoding cookie stay."""

    name = "drop_comments"
    stream = 0xC3_0006
    kind = "format"
    preserving = True
    reference_rate = 0.5

    def find(self, source: PythonSource) -> list[Site]:
        return [Site(token.start, token.end) for token in _comments(source)]

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        text = source.text
        at = line_start(text, site.offset)
        if not text[at : site.offset].strip():
            end = text.find("\n", site.data)
            return [Edit(at, len(text) if end < 0 else end + 1, "", self.name)]
        before = len(text[at : site.offset].rstrip()) + at
        return [Edit(before, site.data, "", self.name)]


class DropDocstrings(PythonOp):
    """A docstring removed with its lines (`pass` in its place when it was the whole body). The verifier compares
    the trees with docstrings dropped: `__doc__` is what changes."""

    name = "drop_docstrings"
    stream = 0xC3_0007
    kind = "format"
    preserving = True
    check = "ast_without_docstrings"
    reference_rate = 1.0

    def find(self, source: PythonSource) -> list[Site]:
        text = source.text
        sites = []
        for owner, stmt in docstring_nodes(source.tree):
            start, end = source.node_span(stmt)
            tail = text[end : line_end(text, end)]
            if tail.strip() and not tail.strip().startswith("#"):
                continue  # `"doc"; x = 1`
            alone = len(owner.body) == 1  # type: ignore[attr-defined]
            if alone or statement_start(source, stmt) is not None:
                sites.append(Site(start, (end, alone)))
        return sorted(sites)

    def edit_site(self, source: PythonSource, site: Site, context: Any, k: int) -> list[Edit]:
        text = source.text
        end, alone = site.data
        if alone:  # the whole body: `pass` in its place
            return [Edit(site.offset, end, "pass", self.name)]
        at = line_start(text, site.offset)
        stop = text.find("\n", end)
        return [Edit(at, len(text) if stop < 0 else stop + 1, "", self.name)]


_ESCAPE = re.compile(r"\\(?:N\{[^}]*\}|x[0-9a-fA-F]{0,2}|u[0-9a-fA-F]{0,4}|U[0-9a-fA-F]{0,8}|[0-7]{1,3}|.)", re.S)


class _Typos(PythonOp):
    """Keyboard typos (the text noise's `typo` op) in the characters of some text regions, each character with
    the per-unit rate; escape sequences of strings are never touched and only letters or digits replace letters
    or digits, so a string stays a string."""

    kind = "format"
    preserving = True
    reference_rate = 0.05

    def __init__(self) -> None:
        self._typo = TEXT_OPS["typo"]()

    def regions(self, source: PythonSource) -> list[tuple[int, int]]:
        raise NotImplementedError

    def find(self, source: PythonSource) -> list[Site]:
        text = source.text
        sites = []
        for start, end in self.regions(source):
            protected = set()
            for match in _ESCAPE.finditer(text, start, end):
                protected.update(range(match.start(), match.end()))
            sites.extend(Site(i) for i in range(start, end) if text[i].isalnum() and i not in protected)
        return sites

    def edits(self, source: Any, draws: SampleDraws) -> list[Edit]:
        source = self.parse(source)
        sites = self.find(source)
        chosen = draws.chosen(len(sites))
        if not len(chosen):
            return []
        choices = draws.uniform(len(sites), sub=1)[chosen]
        positions = [sites[k].offset for k in chosen]
        edits = self._typo.edits(source.text, positions, list(choices), ([], []))
        return [Edit(e.start, e.end, e.text, self.name) for e in edits if e.text.isalnum() and e.text.isascii()]


class DocstringTypos(_Typos):
    """Keyboard typos in docstrings (inside the quotes; escapes kept). The verifier compares the trees with
    docstrings dropped."""

    name = "docstring_typos"
    stream = 0xC3_0008
    check = "ast_without_docstrings"

    def regions(self, source: PythonSource) -> list[tuple[int, int]]:
        strings = {t.start: t for t in source.tokens if t.type == tokenize.STRING}
        out = []
        for _, stmt in docstring_nodes(source.tree):
            start, end = source.node_span(stmt)
            token = strings.get(start)
            if token is None or token.end != end:
                continue  # implicitly concatenated parts, or parentheses
            match = re.match(r"[rRuU]{0,2}('\'\'|\"\"\"|'|\")", token.string)
            if match:
                out.append((start + match.end(), end - len(match.group(1))))
        return sorted(out)


class CommentTypos(_Typos):
    """Keyboard typos in comments (after the '#'; the shebang and the encoding cookie left alone)."""

    name = "comment_typos"
    stream = 0xC3_0009

    def regions(self, source: PythonSource) -> list[tuple[int, int]]:
        return [(token.start + 1, token.end) for token in _comments(source)]


class Indentation(PythonOp):
    """The indentation width changed for the whole file: each statement line indented by its block depth times
    the new width (2, 4 or 8 spaces, other than the file's; tabs become spaces), lines inside brackets shifted
    with their statement, comment lines with the block they sit in; lines inside strings untouched. One site per
    file that has indented blocks."""

    name = "indentation"
    stream = 0xC3_000A
    kind = "format"
    preserving = True
    reference_rate = 1.0
    widths: ClassVar[tuple[int, ...]] = (2, 4, 8)

    def find(self, source: PythonSource) -> list[Site]:
        for token in source.tokens:
            if token.type == tokenize.INDENT:
                return [Site(token.start)]
        return []

    def site_offsets(self, source: Any) -> list[int]:
        """Where each indented block starts (the one site, the file, reaches all of them)."""
        return [token.start for token in self.parse(source).tokens if token.type == tokenize.INDENT]

    def edits(self, source: Any, draws: SampleDraws) -> list[Edit]:
        source = self.parse(source)
        if not self.find(source) or not len(draws.chosen(1)):
            return []
        steps = [len(t.string.expandtabs(8)) for t in source.tokens if t.type == tokenize.INDENT]
        old = min(steps[0], 8) if steps else 4
        choices = [w for w in self.widths if w != old]
        width = choices[draws.pick(len(choices), sub=1)]
        return self._reindent(source, width)

    def _reindent(self, source: PythonSource, width: int) -> list[Edit]:
        text = source.text
        inside = _string_lines(source)
        depth, statement_line = 0, True
        shift = 0  # new minus old indentation of the current statement (for its continuation lines)
        levels: dict[int, int] = {0: 0}  # old column of a block -> its new column
        out = []
        handled: set[int] = set()
        pending_comments: list[tuple[int, int]] = []
        for token in source.tokens:
            if token.type == tokenize.INDENT:
                depth += 1
                continue
            if token.type == tokenize.DEDENT:
                depth -= 1
                continue
            at = line_start(text, token.start)
            if at in handled or at in inside:
                if token.type in (tokenize.NEWLINE,):
                    statement_line = True
                continue
            handled.add(at)
            old = text[at : token.start]
            if token.type == tokenize.NL and statement_line:
                continue  # a blank line
            if token.type == tokenize.COMMENT and statement_line:
                pending_comments.append((at, token.start))
                continue
            if statement_line:
                new = " " * (depth * width)
                levels[len(old.expandtabs(8))] = len(new)
                shift = len(new) - len(old.expandtabs(8))
                if new != old:
                    out.append(Edit(at, token.start, new, self.name))
                for c_at, c_start in pending_comments:  # comment lines before the statement: as the statement
                    c_old = text[c_at:c_start]
                    c_new = self._comment_indent(len(c_old.expandtabs(8)), levels, len(new))
                    if c_new != c_old:
                        out.append(Edit(c_at, c_start, c_new, self.name))
                pending_comments = []
                statement_line = False
            else:  # a continuation line: shifted with its statement
                column = max(len(old.expandtabs(8)) + shift, 0)
                if " " * column != old:
                    out.append(Edit(at, token.start, " " * column, self.name))
            if token.type == tokenize.NEWLINE:
                statement_line = True
        for c_at, c_start in pending_comments:
            c_old = text[c_at:c_start]
            c_new = self._comment_indent(len(c_old.expandtabs(8)), levels, 0)
            if c_new != c_old:
                out.append(Edit(c_at, c_start, c_new, self.name))
        return sorted(out, key=lambda edit: (edit.start, edit.end))

    @staticmethod
    def _comment_indent(column: int, levels: dict[int, int], default: int) -> str:
        """A comment line's new indentation: its block's new column when it sits at a known block column."""
        if column in levels:
            return " " * levels[column]
        known = [old for old in levels if old <= column]
        if not known:
            return " " * default
        base = max(known)
        return " " * (levels[base] + column - base)


OPS: dict[str, type[CodeOp]] = {
    cls.name: cls
    for cls in (
        DeadCode,
        ForToWhile,
        SwapComparison,
        SwapIfElse,
        BlankLines,
        SplitLines,
        DropComments,
        DropDocstrings,
        DocstringTypos,
        CommentTypos,
        Indentation,
    )
}
"""Op name -> class of the semantics-preserving rewrites and layout ops."""
