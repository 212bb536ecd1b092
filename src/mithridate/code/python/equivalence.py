"""Alpha-equivalence of two Python sources: the same program up to a consistent, injective renaming.

Two sources are alpha-equivalent when their syntax trees are equal in everything but identifiers, and the
identifiers differ only by a renaming of definitions: every occurrence of one definition of the original becomes the
same new name, two definitions never become one (no capture, no collision), and only definitions the never-rename
list allows change their name (`scopes.analyze` with `rename_parameters=True`: builtins, imports, attributes, class
attributes, dunder names, `__all__` names, ... stay). Definitions are resolved with `symtable`, as the compiler
resolves them, so a renaming that passes keeps every name bound to what it was bound to.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .scopes import BUILTIN_NAMES, KEYWORDS, Definition, analyze
from .source import CodeSyntaxError, PythonSource, read_python

__all__ = ["alpha_equivalent", "same_shape"]

# Identifier fields: compared through the scope analysis, not as plain values (only whether they are set).
_IDENTIFIERS = {
    ast.Name: ("id",),
    ast.arg: ("arg",),
    ast.FunctionDef: ("name",),
    ast.AsyncFunctionDef: ("name",),
    ast.ClassDef: ("name",),
    ast.ExceptHandler: ("name",),
    ast.MatchAs: ("name",),
    ast.MatchStar: ("name",),
    ast.MatchMapping: ("rest",),
    ast.keyword: ("arg",),
    ast.Global: ("names",),
    ast.Nonlocal: ("names",),
}
_SKIP = frozenset({"lineno", "col_offset", "end_lineno", "end_col_offset", "type_comment"})


def _pairs(a: ast.AST, b: ast.AST) -> Iterator[bool]:
    """Yields False where the trees differ in anything but identifiers (node types, constants, attributes, the
    number of names in a declaration, whether an optional name is set)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            yield False
            return
        if isinstance(x, ast.AST):
            identifiers = _IDENTIFIERS.get(type(x), ())
            for name in x._fields:
                if name in _SKIP:
                    continue
                u, v = getattr(x, name, None), getattr(y, name, None)
                if name in identifiers:
                    if (u is None) != (v is None) or (isinstance(u, list) and len(u) != len(v)):  # type: ignore[arg-type]
                        yield False
                        return
                    continue
                stack.append((u, v))
        elif isinstance(x, list):
            if len(x) != len(y):  # type: ignore[arg-type]
                yield False
                return
            stack.extend(zip(x, y, strict=True))  # type: ignore[call-overload]
        elif x != y or type(x) is not type(y):
            yield False
            return
    yield True


def same_shape(original: ast.AST, renamed: ast.AST) -> bool:
    """Whether two trees are equal in everything but identifiers (the names of `_IDENTIFIERS`' fields)."""
    return all(_pairs(original, renamed))


def _parse(source: str | bytes | PythonSource, name: str) -> PythonSource:
    try:
        return read_python(source)
    except TypeError:
        raise TypeError(f"{name}: expected Python source as str or bytes, got {type(source).__name__}") from None


def alpha_equivalent(original: str | bytes | PythonSource, renamed: str | bytes | PythonSource) -> bool:
    """Whether `renamed` is `original` up to a consistent, injective renaming of the identifiers that may be
    renamed (see the module docstring). `original` must parse (a CodeSyntaxError otherwise); a `renamed` that does
    not parse is not equivalent."""
    first = _parse(original, "original")
    second = _parse(renamed, "renamed")
    tree = first.tree  # raises for an original that does not parse
    if not second.parses():
        return False
    if not same_shape(tree, second.tree):
        return False
    try:
        left = analyze(first)
        right = analyze(second)
    except CodeSyntaxError:
        return False
    if len(left.occurrences) != len(right.occurrences):
        return False
    forward: dict[Definition, Definition] = {}
    backward: dict[Definition, Definition] = {}
    for a, b in zip(left.occurrences, right.occurrences, strict=True):
        if a.role != b.role:
            return False
        da, db = a.definition, b.definition
        if da is None or db is None:
            if da is not db or a.name != b.name:
                return False
            continue
        if forward.setdefault(da, db) is not db or backward.setdefault(db, da) is not da:
            return False
    for da, db in forward.items():
        if da.name == db.name:
            continue
        if da.frozen is not None or db.scope is None:
            return False
        if db.name in KEYWORDS or db.name in BUILTIN_NAMES or db.name.startswith("__"):
            return False
    return True
