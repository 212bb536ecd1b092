"""Code noise for languages other than Python, at token level through Pygments lexers: `LexedSource` (tokens with
character offsets that tile the text), renaming of the identifiers a file declares (`lexed_rename`), TransCoder's
faulty code on the token stream (`lexed_faulty`) and format noise that keeps the token stream (`lexed_format`)."""

from .ops import OPS, LexedFaulty, LexedFormat, LexedOp, LexedRename, code_units
from .rename import FAMILIES, Renamable, family_of, renamable
from .source import LexedSource, LexToken, language_names, language_of, lexer_for, read_lexed

__all__ = [
    "FAMILIES",
    "OPS",
    "LexToken",
    "LexedFaulty",
    "LexedFormat",
    "LexedOp",
    "LexedRename",
    "LexedSource",
    "Renamable",
    "code_units",
    "family_of",
    "language_names",
    "language_of",
    "lexer_for",
    "read_lexed",
    "renamable",
]
