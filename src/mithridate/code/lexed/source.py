"""Source in any language Pygments can lex, as the token-level code ops see it: the text and its tokens with
character offsets that tile the text exactly.

Pygments' `get_tokens` preprocesses the text (CRLF to LF, tabs, stripped and added newlines), so its tokens do
not tile the original; `LexedSource` calls the lexer's `get_tokens_unprocessed` on the text as it is, with
`stripnl=False` and `ensurenl=False`. Many lexers' rules end at a newline (line comments, preprocessor lines),
so a text that does not end with one is lexed with one appended, and that character is cut from the last token
again (dropping the token if it was only that newline). The tiling is then checked: the tokens' offsets follow
each other from 0 to the text's length and their strings join to the text, else a ValueError names the lexer.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pygments.lexer import Lexer
from pygments.lexers import get_all_lexers, get_lexer_by_name, get_lexer_for_filename
from pygments.token import Comment, Error, Name, Operator, Punctuation, String, Text, Whitespace, _TokenType
from pygments.util import ClassNotFound

from ..python.source import CodeSyntaxError

__all__ = ["LexToken", "LexedSource", "language_names", "language_of", "lexer_for", "read_lexed"]


@dataclass(frozen=True, slots=True)
class LexToken:
    """One Pygments token: its type (`pygments.token.Name.Other`...), text and [start, end) character offsets."""

    type: _TokenType
    string: str
    start: int
    end: int

    @property
    def blank(self) -> bool:
        """Whether the token is layout: a Text or Whitespace token made of whitespace only."""
        return _flags(self.type)[0] and self.string.isspace()

    @property
    def code(self) -> bool:
        """Whether the token is code proper: not layout, a comment, a string or preprocessor line, or an error."""
        return _flags(self.type)[1] and not self.blank

    @property
    def operator(self) -> bool:
        """An operator or punctuation made of symbols (not a word operator such as `new`, `typeof`, `in`)."""
        return _flags(self.type)[2] and not (self.string[:1].isalnum() or self.string[:1] in "_$")

    @property
    def name(self) -> bool:
        return _flags(self.type)[3]


@functools.lru_cache(maxsize=1024)
def _flags(kind: _TokenType) -> tuple[bool, bool, bool, bool]:
    """(may be layout, may be code, operator or punctuation, name) of a token type: Pygments' `in` on token types
    walks the type's parents, so each type is asked once."""
    return (
        kind in Whitespace or kind in Text,
        not (kind in Comment or kind in String or kind in Error),
        kind in Operator or kind in Punctuation,
        kind in Name,
    )


@functools.cache
def language_names() -> frozenset[str]:
    """Every alias of every Pygments lexer (the names `lexer_for` accepts)."""
    return frozenset(alias for _, aliases, _, _ in get_all_lexers() for alias in aliases)


@functools.lru_cache(maxsize=64)
def _lexer_by_name(name: str) -> Lexer:
    return get_lexer_by_name(name, stripnl=False, ensurenl=False)


def lexer_for(language: str | None = None, *, filename: str | None = None, lexer: Lexer | None = None) -> Lexer:
    """A Pygments lexer by language name (any alias: "javascript", "js", "c", "bash"), by file name, or as given;
    an unknown name raises a ValueError listing the closest known names."""
    if lexer is not None:
        if not isinstance(lexer, Lexer):
            raise TypeError(f"lexer: expected a pygments Lexer, got {type(lexer).__name__}")
        return lexer
    if language is not None:
        if not isinstance(language, str):
            raise TypeError(f"language: expected a Pygments language name (str), got {type(language).__name__}")
        try:
            return _lexer_by_name(language.lower())
        except ClassNotFound:
            close = difflib.get_close_matches(language.lower(), sorted(language_names()), n=6, cutoff=0.6)
            hint = f"; did you mean: {', '.join(close)}" if close else "; see pygments.lexers.get_all_lexers()"
            raise ValueError(f"language: unknown Pygments lexer {language!r}{hint}") from None
    if filename is not None:
        try:
            return get_lexer_for_filename(str(filename), stripnl=False, ensurenl=False)
        except ClassNotFound:
            raise ValueError(f"filename: no Pygments lexer for {filename!r}; name the language instead") from None
    raise TypeError("lexer_for: expected a language name, a filename or a lexer")


def language_of(lexer: Lexer) -> str:
    """The lexer's main alias ("javascript", "c", "bash"), or its name lower-cased when it has none."""
    return lexer.aliases[0] if lexer.aliases else lexer.name.lower()


def _tokens(text: str, lexer: Lexer) -> tuple[LexToken, ...]:
    padded = not text.endswith("\n")
    raw: Iterable[tuple[int, Any, str]] = lexer.get_tokens_unprocessed(text + "\n" if padded else text)
    out: list[LexToken] = []
    position = 0
    for start, kind, value in raw:
        if not value:
            continue
        if start != position:
            break
        position = end = start + len(value)
        if end > len(text):  # the newline appended for the lexer
            value = value[: len(text) - start]
            end = len(text)
            if not value:
                continue
        out.append(LexToken(kind, value, start, end))
    if position != len(text) + padded or "".join(token.string for token in out) != text:
        raise ValueError(f"lexer {language_of(lexer)!r}: its tokens do not tile the text (a Pygments lexer that skips "
                         "or repeats characters); choose another lexer")  # fmt: skip
    return tuple(out)


@dataclass(eq=False)
class LexedSource:
    """A text and its Pygments tokens (offsets in characters, tiling the text), and the lexer's `language`."""

    text: str
    lexer: Lexer
    tokens: tuple[LexToken, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError(f"text: expected str, got {type(self.text).__name__}")
        self.tokens = _tokens(self.text, self.lexer)

    @property
    def language(self) -> str:
        return language_of(self.lexer)

    @functools.cached_property
    def significant(self) -> tuple[int, ...]:
        """Indices (into `tokens`) of the tokens that are not layout."""
        return tuple(i for i, token in enumerate(self.tokens) if not token.blank)

    def stream(self) -> list[tuple[_TokenType, str]]:
        """(type, string) of every token that is not layout: what format noise must keep."""
        return [(self.tokens[i].type, self.tokens[i].string) for i in self.significant]

    def relex(self, text: str) -> LexedSource:
        """Another text through the same lexer."""
        return LexedSource(text, self.lexer)


def read_lexed(
    source: str | bytes | LexedSource,
    language: str | None = None,
    *,
    filename: str | None = None,
    lexer: Lexer | None = None,
) -> LexedSource:
    """A LexedSource from text (or UTF-8 bytes) by language name, file name or lexer; a LexedSource as given."""
    if isinstance(source, LexedSource):
        return source
    if isinstance(source, (bytes, bytearray)):
        try:
            source = bytes(source).decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            raise CodeSyntaxError(f"source: expected UTF-8 bytes (or decode them first), got {error}") from None
    if not isinstance(source, str):
        raise TypeError(f"source: expected source text as str or bytes, got {type(source).__name__}")
    return LexedSource(source, lexer_for(language, filename=filename, lexer=lexer))
