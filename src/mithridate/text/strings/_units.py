"""Units that ops edit (characters, whitespace-separated tokens, letter words) and protected spans."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from ._batch import TextBatch, char_table

__all__ = ["DEFAULT_PROTECTED", "Protection"]

DEFAULT_PROTECTED: dict[str, str] = {
    "url": r"\b(?:[A-Za-z][A-Za-z0-9+.\-]*://|www\.)\S+",
    "email": r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+",
    "number": r"\d+(?:[.,:]\d+)*",  # integers, decimals, IPv4 addresses, times: no digit is ever edited
}
"""Spans that no op edits by default: URLs, e-mail addresses and numbers (IP addresses included)."""


_TRIGGER = re.compile(r"[\d@:]")
_TRIGGER_TABLE = char_table("0123456789@:")


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
        # The default patterns match only where a digit, '@', ':' or 'www.' is: a quicker scan first.
        self._default = self.patterns == tuple(DEFAULT_PROTECTED.values())

    def spans(self, text: str) -> tuple[list[int], list[int]]:
        """Starts and ends of the protected spans, sorted and not overlapping (empty matches dropped)."""
        starts: list[int] = []
        ends: list[int] = []
        if self._regex is None or (self._default and _TRIGGER.search(text) is None and "www." not in text):
            return starts, ends
        for match in self._regex.finditer(text):
            start, end = match.span()
            if end > start:
                starts.append(start)
                ends.append(end)
        return starts, ends

    def may_match(self, batch: TextBatch) -> np.ndarray | list[bool]:
        """Per text of a batch, False where no pattern can match (known for the default patterns: where
        no digit, '@', ':' or 'www.' is), True otherwise."""
        n = len(batch.texts)
        if self._regex is None:
            return [False] * n
        if not self._default:
            return [True] * n
        maybe = batch.holding(_TRIGGER_TABLE)
        start = batch.joined.find("www.")
        while start >= 0:
            maybe[np.searchsorted(batch.offsets, start, side="right") - 1] = True
            start = batch.joined.find("www.", start + 4)
        return maybe

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
