"""Units that ops edit (characters, whitespace-separated tokens, letter words) and protected spans."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

__all__ = ["DEFAULT_PROTECTED", "Protection"]

DEFAULT_PROTECTED: dict[str, str] = {
    "url": r"\b(?:[A-Za-z][A-Za-z0-9+.\-]*://|www\.)\S+",
    "email": r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+",
    "number": r"\d+(?:[.,:]\d+)*",  # integers, decimals, IPv4 addresses, times: no digit is ever edited
}
"""Spans that no op edits by default: URLs, e-mail addresses and numbers (IP addresses included)."""


class Protection:
    """Protected spans of a text: the matches of any of `patterns` (regex strings or compiled patterns)."""

    def __init__(self, patterns: Sequence[str | re.Pattern[str]] | None) -> None:
        if patterns is None:
            patterns = tuple(DEFAULT_PROTECTED.values())
        if isinstance(patterns, (str, re.Pattern)) or not isinstance(patterns, Sequence):
            raise TypeError(f"protect: expected a sequence of regular expressions, got {type(patterns).__name__}")
        sources = []
        for i, pattern in enumerate(patterns):
            if isinstance(pattern, re.Pattern):
                pattern = pattern.pattern
            if not isinstance(pattern, str):
                raise TypeError(f"protect[{i}]: expected a regular expression string, got {type(pattern).__name__}")
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"protect[{i}]: bad regular expression {pattern!r}: {error}") from None
            sources.append(pattern)
        self.patterns: tuple[str, ...] = tuple(sources)
        self._regex = re.compile("|".join(f"(?:{p})" for p in sources)) if sources else None

    def spans(self, text: str) -> tuple[list[int], list[int]]:
        """Starts and ends of the protected spans, sorted and not overlapping (empty matches dropped)."""
        starts: list[int] = []
        ends: list[int] = []
        if self._regex is not None:
            for match in self._regex.finditer(text):
                if match.end() > match.start():
                    starts.append(match.start())
                    ends.append(match.end())
        return starts, ends

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Protection) and other.patterns == self.patterns

    def __hash__(self) -> int:
        return hash(self.patterns)

    def __repr__(self) -> str:
        return f"Protection({list(self.patterns)!r})"


def overlaps(starts: list[int], ends: list[int], start: int, end: int) -> bool:
    """Whether [start, end) touches a protected span (spans from `Protection.spans`)."""
    if not starts:
        return False
    i = bisect_right(starts, end - 1) - 1  # the last span starting inside or before [start, end)
    return i >= 0 and ends[i] > start


TOKEN = re.compile(r"\S+")
"""Word ops' units: whitespace-separated tokens (a token without a letter or digit is never edited)."""
LETTER_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
"""Misspellings' units: runs of letters, with inner apostrophes."""
