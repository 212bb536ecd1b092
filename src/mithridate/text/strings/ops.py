"""String ops: pure kernels from (text, the units drawn for editing, a choice uniform per unit) to edits.

Each op edits units (characters, tokens or letter words) independently: a policy draws one uniform per
unit and edits the units whose uniform falls below the op's rate (`reference_rate` x strength), so the
expected number of edits is the rate times the number of eligible units, linear in the strength. A unit
is eligible when the op can edit it (a letter or digit, a key of the table) and it lies outside every
protected span; characters followed by a combining mark are never split from it. Kernels draw nothing
themselves: which units and which replacement come from the uniforms they are given.
"""

from __future__ import annotations

import string
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from ._edits import Edit
from ._tables import OCR_CONFUSIONS, KeyboardLayout, keyboard_neighbours, misspellings
from ._units import LETTER_WORD, TOKEN, Protection, overlaps

__all__ = ["OPS", "TextOp"]


def _protected(starts: list[int], ends: list[int], position: int) -> bool:
    return bool(starts) and overlaps(starts, ends, position, position + 1)


def _attached(text: str, position: int) -> bool:
    """Whether the character after `position` is a combining mark (which must stay with its base)."""
    following = position + 1
    return following < len(text) and text[following] >= "\u0300" and unicodedata.combining(text[following]) != 0


def _follow_case(source: str, replacement: str) -> str:
    return replacement.upper() if source.isupper() else replacement


class TextOp(ABC):
    """One string op: its name, its unit, its reference rate (the share of eligible units edited at
    strength 1) and its kernel `edits`. Ops are pure and immutable; `protect` is a `Protection`."""

    name: ClassVar[str]
    unit: ClassVar[str]
    reference_rate: ClassVar[float]
    stream: ClassVar[int]
    """A fixed stream number for the op's unit draws (never reused, so draws stay put when ops are added)."""

    def __init__(self, protect: Protection | None = None) -> None:
        self.protect = protect if protect is not None else Protection(None)

    def unit_bound(self, lengths: np.ndarray) -> np.ndarray:
        """An upper bound on the number of units of texts of these lengths (one draw per unit up to it)."""
        return lengths

    @abstractmethod
    def edits(self, text: str, positions: Sequence[int], choices: Sequence[float]) -> list[Edit]:
        """The edits of `text` when the units at `positions` (sorted) are drawn, with one choice uniform
        in [0, 1) each; positions past the text's units or not eligible are skipped."""

    def params(self) -> dict[str, Any]:
        """Parameters that set the op apart from its defaults (for equality and the policy string)."""
        return {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.params() == self.params() and other.protect == self.protect

    def __hash__(self) -> int:
        return hash((self.name, self.protect))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params()})"


class _CharOp(TextOp):
    unit = "character"
    reference_rate = 0.05

    def eligible(self, text: str, position: int) -> bool:
        return text[position].isalnum() and not _attached(text, position)

    def edits(self, text: str, positions: Sequence[int], choices: Sequence[float]) -> list[Edit]:
        starts, ends = self.protect.spans(text)
        out: list[Edit] = []
        for position, choice in zip(positions, choices, strict=True):
            if position < len(text) and self.eligible(text, position) and not _protected(starts, ends, position):
                out.append(self.edit(text, position, choice))
        return out

    def edit(self, text: str, position: int, choice: float) -> Edit:
        raise NotImplementedError


class KeyboardTypo(_CharOp):
    """A character replaced by a neighbouring key of a keyboard layout (QWERTY by default), case kept."""

    name = "typo"
    stream = 0x7E01

    def __init__(self, protect: Protection | None = None, layout: str | KeyboardLayout | Mapping[str, str] = "qwerty"):
        super().__init__(protect)
        self.layout = layout
        self.table = keyboard_neighbours(layout)

    def params(self) -> dict[str, Any]:
        return {} if self.layout == "qwerty" else {"layout": self.layout}

    def eligible(self, text: str, position: int) -> bool:
        char = text[position]
        return char.lower() in self.table and char.isalnum() and not _attached(text, position)

    def edit(self, text: str, position: int, choice: float) -> Edit:
        char = text[position]
        options = self.table[char.lower()]
        return Edit(position, position + 1, _follow_case(char, options[int(choice * len(options))]), self.name)


class CharDelete(_CharOp):
    """A letter or digit deleted."""

    name = "char_delete"
    stream = 0x7E02

    def edit(self, text: str, position: int, choice: float) -> Edit:
        return Edit(position, position + 1, "", self.name)


def _draw_from(char: str, choice: float, exclude: bool) -> str:
    alphabet = string.digits if char.isdigit() else string.ascii_lowercase
    if not exclude or char.lower() not in alphabet:
        return _follow_case(char, alphabet[int(choice * len(alphabet))])
    k = int(choice * (len(alphabet) - 1))
    k += k >= alphabet.index(char.lower())
    return _follow_case(char, alphabet[k])


class CharInsert(_CharOp):
    """A random ASCII letter inserted after a letter (a digit after a digit), in its case."""

    name = "char_insert"
    stream = 0x7E03

    def edit(self, text: str, position: int, choice: float) -> Edit:
        return Edit(position + 1, position + 1, _draw_from(text[position], choice, False), self.name)


class CharSubstitute(_CharOp):
    """A letter replaced by another random ASCII letter (a digit by another digit), case kept."""

    name = "char_substitute"
    stream = 0x7E04

    def edit(self, text: str, position: int, choice: float) -> Edit:
        return Edit(position, position + 1, _draw_from(text[position], choice, True), self.name)


class CharSwap(_CharOp):
    """A letter or digit swapped with the next one (two different letters or digits, left to right, no
    character swapped twice): two edits, each a copy of the other's character."""

    name = "char_swap"
    stream = 0x7E05

    def edits(self, text: str, positions: Sequence[int], choices: Sequence[float]) -> list[Edit]:
        starts, ends = self.protect.spans(text)
        out: list[Edit] = []
        free = 0
        for position in positions:
            after = position + 1
            if position < free or after >= len(text):
                continue
            first, second = text[position], text[after]
            if (
                first != second
                and first.isalnum()
                and second.isalnum()
                and not _attached(text, after)
                and not (starts and overlaps(starts, ends, position, after + 1))
            ):
                out.append(Edit(position, after, second, self.name, after))
                out.append(Edit(after, after + 1, first, self.name, position))
                free = after + 1
        return out


class CaseFlip(_CharOp):
    """A cased letter's case flipped."""

    name = "case"
    stream = 0x7E06

    def eligible(self, text: str, position: int) -> bool:
        char = text[position]
        return char.swapcase() != char

    def edit(self, text: str, position: int, choice: float) -> Edit:
        return Edit(position, position + 1, text[position].swapcase(), self.name)


class OcrError(TextOp):
    """A character (or pair, "rn" -> "m") replaced by one an OCR engine confuses it with (`OCR_CONFUSIONS`
    or a given table); no two confusions overlap."""

    name = "ocr"
    unit = "character"
    reference_rate = 0.05
    stream = 0x7E07

    def __init__(self, protect: Protection | None = None, table: Mapping[str, Sequence[str]] | None = None):
        super().__init__(protect)
        self.table = dict(OCR_CONFUSIONS if table is None else table)
        by_first: dict[str, list[tuple[str, str]]] = {}
        for source in sorted(self.table, key=len, reverse=True):
            if not isinstance(source, str) or not source:
                raise ValueError(f"table: expected non-empty strings as sources, got {source!r}")
            for output in self.table[source]:
                by_first.setdefault(source[0], []).append((source, output))
        self._by_first = by_first

    def params(self) -> dict[str, Any]:
        return {} if self.table == OCR_CONFUSIONS else {"table": self.table}

    def edits(self, text: str, positions: Sequence[int], choices: Sequence[float]) -> list[Edit]:
        starts, ends = self.protect.spans(text)
        out: list[Edit] = []
        free = 0
        for position, choice in zip(positions, choices, strict=True):
            if position < free or position >= len(text):
                continue
            candidates = self._by_first.get(text[position])
            if candidates is None:
                continue
            options = [pair for pair in candidates if text.startswith(pair[0], position)]
            if not options:
                continue
            source, output = options[int(choice * len(options))]
            end = position + len(source)
            if _attached(text, end - 1) or (starts and overlaps(starts, ends, position, end)):
                continue
            out.append(Edit(position, end, output, self.name))
            free = end
        return out


class Misspelling(TextOp):
    """A word replaced by one of its natural misspellings (codespell's dictionary, inverted), its case
    pattern kept. Units: letter words; eligible: words with a known misspelling."""

    name = "misspell"
    unit = "word with a known misspelling"
    reference_rate = 0.2
    stream = 0x7E08

    def __init__(self, protect: Protection | None = None) -> None:
        super().__init__(protect)
        self.table = misspellings()  # ImportError without codespell, at construction

    def unit_bound(self, lengths: np.ndarray) -> np.ndarray:
        return (lengths + 1) // 2

    def edits(self, text: str, positions: Sequence[int], choices: Sequence[float]) -> list[Edit]:
        words = [(m.start(), m.end()) for m in LETTER_WORD.finditer(text)]
        starts, ends = self.protect.spans(text)
        out: list[Edit] = []
        for position, choice in zip(positions, choices, strict=True):
            if position >= len(words):
                break
            start, end = words[position]
            word = text[start:end]
            options = self.table.get(word.lower())
            if options is None or (starts and overlaps(starts, ends, start, end)) or _attached(text, end - 1):
                continue
            wrong = options[int(choice * len(options))]
            if word.isupper() and len(word) > 1:
                wrong = wrong.upper()
            elif word[0].isupper():
                wrong = wrong[0].upper() + wrong[1:]
            out.append(Edit(start, end, wrong, self.name))
        return out


class _WordOp(TextOp):
    unit = "token"
    reference_rate = 0.1

    def unit_bound(self, lengths: np.ndarray) -> np.ndarray:
        return (lengths + 1) // 2

    def edits(self, text: str, positions: Sequence[int], choices: Sequence[float]) -> list[Edit]:
        tokens = [(m.start(), m.end()) for m in TOKEN.finditer(text)]
        starts, ends = self.protect.spans(text)
        eligible = [
            not (starts and overlaps(starts, ends, s, e)) and any(c.isalnum() for c in text[s:e]) for s, e in tokens
        ]
        return self.token_edits(text, tokens, eligible, positions, choices)

    @abstractmethod
    def token_edits(
        self,
        text: str,
        tokens: list[tuple[int, int]],
        eligible: list[bool],
        positions: Sequence[int],
        choices: Sequence[float],
    ) -> list[Edit]: ...


def _deletions(tokens: list[tuple[int, int]], removed: set[int], op: str) -> list[Edit]:
    """Edits deleting the `removed` tokens with one whitespace run each: the one after a token, or the one
    before it for tokens after the last kept one, so that no double or dangling space is left."""
    kept = [j for j in range(len(tokens)) if j not in removed]
    last_kept = kept[-1] if kept else -1
    out = []
    for j in sorted(removed):
        start, end = tokens[j]
        if j < last_kept or (last_kept < 0 and j + 1 < len(tokens)):
            out.append(Edit(start, tokens[j + 1][0], "", op))
        elif last_kept >= 0:
            out.append(Edit(tokens[j - 1][1], end, "", op))
        else:
            out.append(Edit(start, end, "", op))
    return out


class WordDrop(_WordOp):
    """A token (with a letter or digit) deleted with one adjacent whitespace run."""

    name = "word_drop"
    stream = 0x7E09

    def token_edits(self, text, tokens, eligible, positions, choices):
        removed = {j for j in positions if j < len(tokens) and eligible[j]}
        return _deletions(tokens, removed, self.name) if removed else []


class WordSwap(_WordOp):
    """A token swapped with the next token (both with a letter or digit, different, none swapped twice):
    two edits, each a copy of the other token; the whitespace between them stays."""

    name = "word_swap"
    stream = 0x7E0A

    def token_edits(self, text, tokens, eligible, positions, choices):
        out: list[Edit] = []
        free = 0
        for j in positions:
            if j < free or j + 1 >= len(tokens):
                continue
            (s1, e1), (s2, e2) = tokens[j], tokens[j + 1]
            if eligible[j] and eligible[j + 1] and text[s1:e1] != text[s2:e2]:
                out.append(Edit(s1, e1, text[s2:e2], self.name, s2))
                out.append(Edit(s2, e2, text[s1:e1], self.name, s1))
                free = j + 2
        return out


class WordSplit(_WordOp):
    """A space inserted inside a token, between two of its letters or digits (the place drawn uniformly)."""

    name = "word_split"
    stream = 0x7E0B

    def token_edits(self, text, tokens, eligible, positions, choices):
        out: list[Edit] = []
        for j, choice in zip(positions, choices, strict=True):
            if j >= len(tokens) or not eligible[j]:
                continue
            start, end = tokens[j]
            places = [
                k
                for k in range(start + 1, end)
                if text[k - 1].isalnum() and text[k].isalnum() and not _attached(text, k - 1)
            ]
            if places:
                place = places[int(choice * len(places))]
                out.append(Edit(place, place, " ", self.name))
        return out


class WordRepeat(_WordOp):
    """A token repeated: a copy and a space inserted before it (two insertions: the copy, then the space)."""

    name = "word_repeat"
    stream = 0x7E0C

    def token_edits(self, text, tokens, eligible, positions, choices):
        out: list[Edit] = []
        for j in positions:
            if j < len(tokens) and eligible[j]:
                start, end = tokens[j]
                out.append(Edit(start, start, text[start:end], self.name, start))
                out.append(Edit(start, start, " ", self.name))
        return out


class WordCrop(_WordOp):
    """A random contiguous window of tokens kept: the number of tokens cut is the number of tokens drawn
    (at most all but one), the window's place uniform; protected tokens outside the window stay."""

    name = "word_crop"
    stream = 0x7E0D

    def token_edits(self, text, tokens, eligible, positions, choices):
        n = len(tokens)
        drawn = [j for j in positions if j < n]
        cut = min(len(drawn), n - 1)
        if cut <= 0:
            return []
        offset = int(choices[0] * (cut + 1))
        starts, ends = self.protect.spans(text)
        removed = {
            j
            for j in range(n)
            if not offset <= j < offset + n - cut and not (starts and overlaps(starts, ends, *tokens[j]))
        }
        return _deletions(tokens, removed, self.name) if removed else []


OPS: dict[str, type[TextOp]] = {
    cls.name: cls
    for cls in (
        KeyboardTypo,
        OcrError,
        CharInsert,
        CharDelete,
        CharSwap,
        CharSubstitute,
        CaseFlip,
        Misspelling,
        WordDrop,
        WordSwap,
        WordSplit,
        WordRepeat,
        WordCrop,
    )
}
"""Op name -> class, in the order text_ta draws them from (after identity)."""
