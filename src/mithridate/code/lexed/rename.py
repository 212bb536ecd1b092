"""Which identifiers of a lexed file can be renamed, by a per-language table of declaring contexts.

A token stream has no scopes, so renaming here is by name over the whole file: a name is renamed at every one
of its identifier occurrences or nowhere, and old names map to fresh names one to one. That keeps the program's
meaning as long as the name refers to nothing outside the file. So a name is renamed only when the file itself
declares it, in a declaring context of its language's table, and never when it is a builtin, exported, or used
in a way that ties the identifier to a property name (JavaScript's `{name}` shorthand). Occurrences that are
property names (after `.`, `->`, `::`; object keys and class members in JavaScript; struct members in C) are a
different namespace and stay as they are. Names that are called but never declared (library functions, globals)
are never touched.

Families and their declaring contexts:
- JavaScript/TypeScript: after `var`, `let`, `const` (VAR), `function` (FUNC), `class` (CLASS); parameters of
  `function`s, methods, arrow functions and `catch`; not after `export`.
- C/C++: the lexer's function names (FUNC) and struct/union/enum tags (CLASS); a name after a type keyword,
  a tag or `*` after them (VAR); not `main`, not members declared inside struct/union bodies, not any word that
  occurs in a preprocessor line (a macro may use it).
- Shell (bash, sh, zsh...): variables assigned with `name=` and read as `$name`/`${name}`; not exported or
  all-caps names (the environment), not names that also occur as bare words (`for name in`, `read name`).
Other languages have no table: nothing is renamed (`renamable` is empty).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pygments.token import Comment, Keyword, Name, Operator

from .source import LexedSource, LexToken

__all__ = ["FAMILIES", "Renamable", "family_of", "renamable"]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FAMILIES: dict[str, str] = {
    **dict.fromkeys(("javascript", "js", "typescript", "ts", "jsx", "tsx", "javascript+jsx"), "js"),
    **dict.fromkeys(("c", "cpp", "c++", "objective-c"), "c"),
    **dict.fromkeys(("bash", "sh", "ksh", "zsh", "shell", "openrc"), "shell"),
}

_JS_BUILTINS = frozenset(
    _words(
        "arguments undefined NaN Infinity globalThis window document self console require module exports process "
        "Buffer __dirname __filename Object Array String Number Boolean Symbol BigInt Function Math JSON Date RegExp "
        "Error TypeError RangeError SyntaxError ReferenceError Promise Map Set WeakMap WeakSet Proxy Reflect Intl "
        "setTimeout setInterval clearTimeout clearInterval setImmediate queueMicrotask eval isNaN isFinite parseInt "
        "parseFloat encodeURIComponent decodeURIComponent URL URLSearchParams TextEncoder TextDecoder fetch "
        "ArrayBuffer Uint8Array DataView async await yield get set static of from as constructor prototype"
    )
)
_JS_DECLARING = {"var": "VAR", "let": "VAR", "const": "VAR", "function": "FUNC", "class": "CLASS"}
_JS_OBJECT_AFTER = frozenset(
    _words(
        "= ( , : [ ? ?? || && ! ... return yield await import export typeof in of case += -= *= ||= &&= ??= "
        "var let const"
    )
)
_NOT_PARAMS = frozenset(("if", "for", "while", "switch", "with"))
_C_QUALIFIERS = frozenset(("*", "const", "volatile", "restrict", "&", "&&"))
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Renamable:
    """A name the file declares: its kind ("VAR", "FUNC", "CLASS") and the [start, end) spans of its identifier
    occurrences (in text order; property occurrences excluded)."""

    name: str
    kind: str
    spans: list[tuple[int, int]] = field(default_factory=list)


def family_of(source: LexedSource) -> str | None:
    """The renaming table of the source's language ("js", "c", "shell"), None when there is none."""
    for alias in source.lexer.aliases:
        if alias in FAMILIES:
            return FAMILIES[alias]
    return None


class _Names:
    """Identifier occurrences, declarations and exclusions gathered by a family's pass."""

    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[int, int]]] = {}
        self.kinds: dict[str, str] = {}
        self.excluded: set[str] = set()

    def use(self, name: str, start: int, end: int) -> None:
        self.spans.setdefault(name, []).append((start, end))

    def declare(self, name: str, kind: str) -> None:
        self.kinds.setdefault(name, kind)

    def result(self, builtins: frozenset[str] = frozenset()) -> list[Renamable]:
        out = [
            Renamable(name, self.kinds[name], sorted(spans))
            for name, spans in self.spans.items()
            if name in self.kinds and name not in self.excluded and name not in builtins
        ]
        return sorted(out, key=lambda item: item.spans[0][0])


def _syntax(source: LexedSource) -> list[LexToken]:
    return [token for token in source.tokens if not token.blank and token.type not in Comment]


def _javascript(source: LexedSource) -> list[Renamable]:
    tokens = _syntax(source)
    names = _Names()
    stack: list[tuple[str, int]] = []  # (kind, index of the opening token)
    groups: list[tuple[int, int]] = []
    params: dict[int, int] = {}  # name token index -> index of its innermost "("
    class_pending = False
    n = len(tokens)
    for i, token in enumerate(tokens):
        text = token.string
        prev = tokens[i - 1].string if i else ";"
        if text in ("(", "[", "{") and token.type not in Name:
            if text == "{":
                if class_pending:
                    kind, class_pending = "class", False
                elif prev in _JS_OBJECT_AFTER or (i and tokens[i - 1].type in Operator):
                    kind = "object"
                else:
                    kind = "block"
            else:
                kind = text
            stack.append((kind, i))
            continue
        if text in (")", "]", "}") and token.type not in Name:
            if stack:
                kind, opening = stack.pop()
                if kind == "(":
                    groups.append((opening, i))
            continue
        if token.type in Keyword and text == "class":
            class_pending = True
        if token.type not in Name or token.type in Name.Builtin or not _IDENTIFIER.fullmatch(text):
            continue
        following = tokens[i + 1].string if i + 1 < n else ";"
        enclosing = stack[-1][0] if stack else "block"
        if prev in (".", "?.", "#"):
            continue
        before = prev
        if prev in ("get", "set", "async", "static", "*") and i >= 2:
            before = tokens[i - 2].string
        if enclosing == "object" and before in ("{", ","):
            if following in (",", "}", "="):
                names.excluded.add(text)  # shorthand: the name is also a property name
            if following in (":", "(", ",", "}", "="):
                continue
        if enclosing == "class" and before in ("{", ";", "}", "static"):
            continue
        names.use(text, token.start, token.end)
        if i and tokens[i - 1].type in Keyword and prev in _JS_DECLARING:
            names.declare(text, _JS_DECLARING[prev])
            k = i - 2
            while k >= 0 and tokens[k].string in ("async", "default"):
                k -= 1
            if k >= 0 and tokens[k].string == "export":
                names.excluded.add(text)
        elif prev == "*" and i >= 2 and tokens[i - 2].string == "function":
            names.declare(text, "FUNC")
        elif following == "=>":
            names.declare(text, "VAR")
        if stack and stack[-1][0] == "(" and prev in ("(", ",", "...") and following in (",", ")", "="):
            params[i] = stack[-1][1]
    for opening, closing in groups:
        after = tokens[closing + 1].string if closing + 1 < n else ";"
        before = tokens[opening - 1].string if opening else ";"
        if after in ("{", "=>") and before not in _NOT_PARAMS:
            for i in range(opening + 1, closing):
                if params.get(i) == opening:
                    names.declare(tokens[i].string, "VAR")
    return names.result(_JS_BUILTINS)


def _c(source: LexedSource) -> list[Renamable]:
    names = _Names()
    names.excluded.add("main")
    for token in source.tokens:
        if token.type in Comment.Preproc or token.type in Comment.PreprocFile:
            names.excluded.update(_WORD.findall(token.string))
    tokens = _syntax(source)
    stack: list[str] = []
    n = len(tokens)
    for i, token in enumerate(tokens):
        text = token.string
        prev = tokens[i - 1].string if i else ";"
        if text == "{" and token.type not in Name:
            k = i - 1
            while k >= 0 and tokens[k].type in Name.Class:
                k -= 1
            stack.append("struct" if k >= 0 and tokens[k].string in ("struct", "union") else "block")
            continue
        if text == "}" and token.type not in Name:
            if stack:
                stack.pop()
            continue
        if token.type not in Name or token.type in Name.Builtin or not _IDENTIFIER.fullmatch(text):
            continue
        following = tokens[i + 1].string if i + 1 < n else ";"
        if (
            prev in (".", "->", "::")
            or following == "::"
            or (prev == ">" and i >= 2 and tokens[i - 2].string == "-" and tokens[i - 2].end == tokens[i - 1].start)
        ):
            continue
        if stack and stack[-1] == "struct" and token.type not in Name.Class:
            continue
        names.use(text, token.start, token.end)
        if token.type in Name.Function:
            names.declare(text, "FUNC")
        elif token.type in Name.Class:
            names.declare(text, "CLASS")
        else:
            k = i - 1
            while k >= 0 and tokens[k].string in _C_QUALIFIERS:
                k -= 1
            if k >= 0 and (tokens[k].type in Keyword.Type or tokens[k].type in Name.Class):
                names.declare(text, "VAR")
    return names.result()


def _shell(source: LexedSource) -> list[Renamable]:
    names = _Names()
    tokens = source.tokens
    n = len(tokens)
    for i, token in enumerate(tokens):
        if token.type not in Name.Variable:
            if token.type not in Comment:
                names.excluded.update(_WORD.findall(token.string))
            continue
        prefix = 1 if token.string.startswith("$") else 0
        name = token.string[prefix:]
        if not _IDENTIFIER.fullmatch(name):
            continue
        names.use(name, token.start + prefix, token.end)
        if not prefix and i + 1 < n and tokens[i + 1].string in ("=", "+="):
            names.declare(name, "VAR")
            k = i - 1
            while k >= 0 and tokens[k].blank:
                k -= 1
            if name.isupper() or (k >= 0 and tokens[k].string in ("export", "readonly", "declare", "typeset")):
                names.excluded.add(name)
    return names.result()


_PASSES = {"js": _javascript, "c": _c, "shell": _shell}


def renamable(source: LexedSource) -> list[Renamable]:
    """The names of `source` that a renaming may change, in order of first occurrence, with their identifier
    occurrences; empty for a language without a table (see the module's docstring for the rules)."""
    family = family_of(source)
    return [] if family is None else _PASSES[family](source)
