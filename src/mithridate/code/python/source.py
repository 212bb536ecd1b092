"""Python source as the code ops see it: the text, its tokens with character offsets, and its syntax tree.

Ops edit source by position (a list of `Edit`s on the text, as the text noise does), so comments, layout and
everything an op does not target stay byte for byte; `ast.unparse` would drop comments and reflow the code.
`tokenize` offsets are in characters and `ast` column offsets in UTF-8 bytes: `PythonSource` converts both.
"""

from __future__ import annotations

import ast
import functools
import io
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["CodeSyntaxError", "PythonSource", "Token", "check_sources", "decode_source", "read_python"]


class CodeSyntaxError(ValueError):
    """Source that does not tokenize or parse as Python, for an op that needs it (the message names where)."""


@dataclass(frozen=True, slots=True)
class Token:
    """One token of `tokenize`: its type (`tokenize.NAME`, `OP`...), text and [start, end) character offsets."""

    type: int
    string: str
    start: int
    end: int


def decode_source(source: bytes) -> str:
    """Bytes of a Python file as text, in the encoding its cookie or BOM names (UTF-8 by default), as Python
    reads a file; a clear error when the cookie names an unknown encoding or the bytes do not decode."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return source.decode(encoding).removeprefix("\ufeff")
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise CodeSyntaxError(f"source: expected Python source bytes in a known encoding, got {error}") from None


@dataclass(eq=False)
class PythonSource:
    """A Python source text with its tokens and tree, computed on first use (each op needs only some of them)."""

    text: str
    _line_starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        for line in self.text.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        self._line_starts = starts

    # Positions -----------------------------------------------------------------------------------------------

    def offset(self, line: int, column: int) -> int:
        """The character offset of (1-based line, 0-based character column), as `tokenize` reports them."""
        if line - 1 >= len(self._line_starts):
            return len(self.text)
        return self._line_starts[line - 1] + column

    def ast_offset(self, line: int, column: int) -> int:
        """The character offset of an `ast` position (1-based line, 0-based UTF-8 byte column)."""
        start = self.offset(line, 0)
        end = self._line_starts[line] if line < len(self._line_starts) else len(self.text)
        text_line = self.text[start:end]
        if text_line.isascii():
            return start + column
        return start + len(text_line.encode("utf-8")[:column].decode("utf-8", errors="ignore"))

    def node_span(self, node: ast.AST) -> tuple[int, int]:
        """The [start, end) character offsets of an `ast` node that has positions."""
        return (
            self.ast_offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.ast_offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def segment(self, node: ast.AST) -> str:
        start, end = self.node_span(node)
        return self.text[start:end]

    # Tokens and tree ---------------------------------------------------------------------------------------

    @functools.cached_property
    def tokens(self) -> tuple[Token, ...]:
        """Every token of the text with character offsets (ENCODING and ENDMARKER left out)."""
        out = []
        try:
            for info in tokenize.generate_tokens(io.StringIO(self.text).readline):
                if info.type in (tokenize.ENCODING, tokenize.ENDMARKER):
                    continue
                start, end = self.offset(*info.start), self.offset(*info.end)
                out.append(Token(info.type, info.string, start, end))
        except (tokenize.TokenError, SyntaxError) as error:
            raise CodeSyntaxError(f"source: expected Python code that tokenizes, got {error}") from None
        return tuple(out)

    @functools.cached_property
    def tree(self) -> ast.Module:
        """The syntax tree (`ast.parse`), or a CodeSyntaxError naming the line."""
        try:
            return ast.parse(self.text)
        except SyntaxError as error:
            where = f"line {error.lineno}" if error.lineno else "the source"
            raise CodeSyntaxError(f"source: expected Python code that parses, got {error.msg} at {where}") from None
        except ValueError as error:  # null bytes
            raise CodeSyntaxError(f"source: expected Python code that parses, got {error}") from None

    def parses(self) -> bool:
        """Whether the text parses as Python."""
        try:
            _ = self.tree
        except CodeSyntaxError:
            return False
        return True

    def untokenized(self) -> str:
        """`tokenize.untokenize` of the full token stream: equal to the text for every file this module reads (the
        round trip the tests check on the standard library)."""
        return tokenize.untokenize(tokenize.generate_tokens(io.StringIO(self.text).readline))


def read_python(source: str | bytes | PythonSource) -> PythonSource:
    """A PythonSource from text, from the bytes of a file (decoded by its encoding cookie) or as given."""
    if isinstance(source, PythonSource):
        return source
    if isinstance(source, (bytes, bytearray)):
        return PythonSource(decode_source(bytes(source)))
    if isinstance(source, str):
        return PythonSource(source)
    raise TypeError(f"source: expected Python source as str or bytes, got {type(source).__name__}")


def check_sources(sources: object, name: str = "sources") -> list[str | bytes]:
    """`sources` as a list (a sequence of str or bytes, one per sample), else a clear TypeError."""
    if isinstance(sources, (str, bytes, bytearray)):
        raise TypeError(f"{name}: expected a sequence of sources (one per sample), got one {type(sources).__name__}")
    if not isinstance(sources, Sequence):
        raise TypeError(f"{name}: expected a sequence of str or bytes, got {type(sources).__name__}")
    out = list(sources)
    for i, item in enumerate(out):
        if not isinstance(item, (str, bytes, bytearray)):
            raise TypeError(f"{name}[{i}]: expected str or bytes, got {type(item).__name__}")
    return out
