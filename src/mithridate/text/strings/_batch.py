"""A batch of texts as one array of code points, for what is quicker to find for all texts at once:
whitespace-separated tokens, and which texts hold a character of a set."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

__all__ = ["TextBatch"]

_TOP = 0x3001
"""Code points from here on are looked up as this one: no whitespace lies above U+3000."""


@functools.cache
def _space_table() -> np.ndarray:
    return np.array([chr(c).isspace() for c in range(_TOP)] + [False])


def char_table(chars: str) -> np.ndarray:
    """A lookup table (bool, _TOP + 1) of characters below U+3001."""
    table = np.zeros(_TOP + 1, dtype=bool)
    table[[ord(c) for c in chars if ord(c) < _TOP]] = True
    return table


class TextBatch:
    """Texts joined by newlines (whitespace, so no token crosses from one text to the next), as code points."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts
        self.lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths + 1)])
        self.joined = "\n".join(texts)
        codes = np.frombuffer(self.joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        self._codes = np.minimum(codes, _TOP)

    def holding(self, table: np.ndarray) -> np.ndarray:
        """Per text, whether it holds a character of `table` (from `char_table`)."""
        found = np.flatnonzero(table[self._codes])
        held = np.zeros(len(self.texts), dtype=bool)
        held[np.searchsorted(self.offsets, found, side="right") - 1] = True
        return held

    @functools.cached_property
    def _tokens(self) -> tuple[list[int], list[int], list[int]]:
        solid = (~_space_table()[self._codes]).view(np.int8)
        edges = np.diff(solid, prepend=np.int8(0), append=np.int8(0))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        text = np.searchsorted(self.offsets, starts, side="right") - 1
        first = np.searchsorted(starts, self.offsets).tolist()
        return (starts - self.offsets[text]).tolist(), (ends - self.offsets[text]).tolist(), first

    def token_counts(self) -> np.ndarray:
        """Per text, its number of whitespace-separated tokens (int64)."""
        return np.diff(np.asarray(self._tokens[2], dtype=np.int64))

    def all_tokens(self) -> tuple[list[int], list[int], list[int]]:
        """Token starts and ends (within their text) of all texts, and where each text's tokens begin in
        them (one more entry than texts): text i's tokens are [first[i], first[i + 1])."""
        return self._tokens

    def tokens(self, i: int) -> tuple[list[int], list[int]]:
        """Starts and ends of text i's whitespace-separated tokens (the matches of `\\S+`)."""
        starts, ends, first = self._tokens
        return starts[first[i] : first[i + 1]], ends[first[i] : first[i + 1]]
