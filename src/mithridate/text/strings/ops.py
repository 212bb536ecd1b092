"""String ops: pure kernels from (text, the units drawn for editing, a choice uniform per unit) to edits.

Each op edits units (characters, tokens or letter words) independently: a policy draws one uniform per
unit and edits the units whose uniform falls below the op's rate (`reference_rate` x strength), so the
expected number of edits is the rate times the number of eligible units, linear in the strength. A unit
is eligible when the op can edit it (a letter or digit, a key of the table) and it lies outside every
protected span; characters followed by a combining mark are never split from it. Kernels draw nothing
themselves: which units and which replacement come from the uniforms they are given.
"""

from __future__ import annotations

import re
import string
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar
from unicodedata import combining

import numpy as np

from ._batch import TextBatch
from ._edits import Edit, splice
from ._tables import OCR_CONFUSIONS, KeyboardLayout, keyboard_neighbours, misspellings
from ._units import LETTER_WORD, TOKEN, Protection, overlaps

__all__ = ["OPS", "TextOp"]

Spans = tuple[list[int], list[int]] | None


_ALNUM = re.compile(r"[^\W_]")


def _attached(text: str, position: int) -> bool:
    """Whether the character after `position` is a combining mark (which must stay with its base)."""
    following = position + 1
    return following < len(text) and text[following] >= "\u0300" and combining(text[following]) != 0


def _drawn_chars(
    text: str, positions: Sequence[int], choices: Sequence[float], protected: tuple[list[int], list[int]]
) -> Iterator[tuple[int, str, float]]:
    """(position, character, choice) of the drawn letters and digits that are outside protected spans and
    not followed by a combining mark."""
    starts, ends = protected
    n = len(text)
    for position, choice in zip(positions, choices, strict=True):
        if position >= n:
            return
        char = text[position]
        if not char.isalnum():
            continue
        following = position + 1
        if following < n and text[following] >= "\u0300" and combining(text[following]):
            continue
        if starts and overlaps(starts, ends, position, following):
            continue
        yield position, char, choice


class TextOp(ABC):
    """One string op: its name, its unit, its reference rate (the share of eligible units edited at
    strength 1) and its kernel `edits`. Ops are pure and immutable; `protect` is a `Protection`."""

    name: ClassVar[str]
    unit: ClassVar[str]
    reference_rate: ClassVar[float]
    takes_tokens: ClassVar[bool] = False
    """Whether `edits` takes the text's whitespace tokens (`tokens=`), found for a whole batch at once."""
    stream: ClassVar[int]
    """A fixed stream number for the op's unit draws (never reused, so draws stay put when ops are added)."""

    def __init__(self, protect: Protection | None = None) -> None:
        self.protect = protect if protect is not None else Protection(None)

    def unit_bound(self, batch: TextBatch) -> np.ndarray:
        """Per text of a batch, an upper bound on its number of units (one draw per unit up to it)."""
        return batch.lengths

    @abstractmethod
    def edits(
        self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None
    ) -> list[Edit]:
        """The edits of `text` when the units at `positions` (sorted) are drawn, with one choice uniform
        in [0, 1) each; positions past the text's units or not eligible are skipped. `protected`: the
        text's protected spans (starts, ends) when known, else None (computed from `protect`)."""

    def apply(self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None) -> str:
        """The output of `edits` (the same arguments) without its edit log: `splice(text, edits)`, built
        directly from positions by the ops that override it."""
        return splice(text, self.edits(text, positions, choices, protected))

    def spans(self, text: str, protected: Spans = None) -> tuple[list[int], list[int]]:
        """The protected spans of `text`: `protected` when given, else those of `self.protect`."""
        return self.protect.spans(text) if protected is None else protected

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


class KeyboardTypo(_CharOp):
    """A character replaced by a neighbouring key of a keyboard layout (QWERTY by default), case kept."""

    name = "typo"
    stream = 0x7E01

    def __init__(self, protect: Protection | None = None, layout: str | KeyboardLayout | Mapping[str, str] = "qwerty"):
        super().__init__(protect)
        self.layout = layout
        self.table = keyboard_neighbours(layout)
        # Both cases looked up at once: an upper-case key types its neighbours in upper case.
        self._lookup = {key.upper(): near.upper() for key, near in self.table.items() if key.upper() != key}
        self._lookup.update(self.table)

    def params(self) -> dict[str, Any]:
        return {} if self.layout == "qwerty" else {"layout": self.layout}

    def edits(
        self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None
    ) -> list[Edit]:
        lookup, name = self._lookup, self.name
        starts, ends = self.spans(text, protected)
        n = len(text)
        out = []
        for position, choice in zip(positions, choices, strict=True):
            near = lookup.get(text[position]) if position < n else None
            if near is None:
                continue
            following = position + 1
            if following < n and text[following] >= "\u0300" and combining(text[following]):
                continue
            if starts and overlaps(starts, ends, position, following):
                continue
            out.append(Edit(position, following, near[int(choice * len(near))], name))
        return out

    def apply(self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None) -> str:
        lookup = self._lookup
        starts, ends = self.spans(text, protected)
        n = len(text)
        parts: list[str] = []
        last = 0
        for position, choice in zip(positions, choices, strict=True):
            near = lookup.get(text[position]) if position < n else None
            if near is None:
                continue
            following = position + 1
            if following < n and text[following] >= "\u0300" and combining(text[following]):
                continue
            if starts and overlaps(starts, ends, position, following):
                continue
            parts.append(text[last:position])
            parts.append(near[int(choice * len(near))])
            last = following
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)


class CharDelete(_CharOp):
    """A letter or digit deleted."""

    name = "char_delete"
    stream = 0x7E02

    def edits(
        self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None
    ) -> list[Edit]:
        name = self.name
        return [
            Edit(p, p + 1, "", name) for p, _, _ in _drawn_chars(text, positions, choices, self.spans(text, protected))
        ]

    def apply(self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None) -> str:
        starts, ends = self.spans(text, protected)
        n = len(text)
        parts: list[str] = []
        last = 0
        for position in positions:
            if position >= n:
                break
            if not text[position].isalnum():
                continue
            following = position + 1
            if following < n and text[following] >= "\u0300" and combining(text[following]):
                continue
            if starts and overlaps(starts, ends, position, following):
                continue
            parts.append(text[last:position])
            last = following
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)


def _alphabets(exclude: bool) -> dict[str, str]:
    """Character -> the alphabet a random replacement is drawn from: digits for a digit, ASCII letters in
    the character's case otherwise, less the character itself if `exclude` (for the ASCII ones)."""
    table = {}
    for alphabet in (string.digits, string.ascii_lowercase, string.ascii_uppercase):
        for char in alphabet:
            table[char] = alphabet.replace(char, "") if exclude else alphabet
    return table


_INSERTED = _alphabets(False)
_SUBSTITUTED = _alphabets(True)


def _alphabet(table: dict[str, str], char: str) -> str:
    found = table.get(char)
    if found is not None:
        return found
    if char.isdigit():
        return string.digits
    return string.ascii_uppercase if char.isupper() else string.ascii_lowercase


class CharInsert(_CharOp):
    """A random ASCII letter inserted after a letter (a digit after a digit), in its case."""

    name = "char_insert"
    stream = 0x7E03

    def edits(
        self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None
    ) -> list[Edit]:
        name = self.name
        out = []
        for p, char, choice in _drawn_chars(text, positions, choices, self.spans(text, protected)):
            alphabet = _alphabet(_INSERTED, char)
            out.append(Edit(p + 1, p + 1, alphabet[int(choice * len(alphabet))], name))
        return out

    def apply(self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None) -> str:
        starts, ends = self.spans(text, protected)
        n = len(text)
        table = _INSERTED
        parts: list[str] = []
        last = 0
        for position, choice in zip(positions, choices, strict=True):
            if position >= n:
                break
            char = text[position]
            if not char.isalnum():
                continue
            following = position + 1
            if following < n and text[following] >= "\u0300" and combining(text[following]):
                continue
            if starts and overlaps(starts, ends, position, following):
                continue
            alphabet = table.get(char) or _alphabet(table, char)
            parts.append(text[last:following])
            parts.append(alphabet[int(choice * len(alphabet))])
            last = following
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)


class CharSubstitute(_CharOp):
    """A letter replaced by another random ASCII letter (a digit by another digit), case kept."""

    name = "char_substitute"
    stream = 0x7E04

    def edits(
        self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None
    ) -> list[Edit]:
        name = self.name
        out = []
        for p, char, choice in _drawn_chars(text, positions, choices, self.spans(text, protected)):
            alphabet = _alphabet(_SUBSTITUTED, char)
            out.append(Edit(p, p + 1, alphabet[int(choice * len(alphabet))], name))
        return out


class CharSwap(_CharOp):
    """A letter or digit swapped with the next one (two different letters or digits, left to right, no
    character swapped twice): two edits, each a copy of the other's character."""

    name = "char_swap"
    stream = 0x7E05

    def edits(
        self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None
    ) -> list[Edit]:
        starts, ends = self.spans(text, protected)
        out: list[Edit] = []
        free, n, name = 0, len(text), self.name
        for position in positions:
            after = position + 1
            if position < free or after >= n:
                continue
            first, second = text[position], text[after]
            if (
                first != second
                and first.isalnum()
                and second.isalnum()
                and not _attached(text, after)
                and not (starts and overlaps(starts, ends, position, after + 1))
            ):
                out.append(Edit(position, after, second, name, after))
                out.append(Edit(after, after + 1, first, name, position))
                free = after + 1
        return out

    def apply(self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None) -> str:
        starts, ends = self.spans(text, protected)
        parts: list[str] = []
        free, last, n = 0, 0, len(text)
        for position in positions:
            after = position + 1
            if position < free or after >= n:
                continue
            first, second = text[position], text[after]
            if (
                first != second
                and first.isalnum()
                and second.isalnum()
                and not _attached(text, after)
                and not (starts and overlaps(starts, ends, position, after + 1))
            ):
                parts.append(text[last:position])
                parts.append(second)
                parts.append(first)
                last = free = after + 1
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)


class CaseFlip(_CharOp):
    """A cased letter's case flipped."""

    name = "case"
    stream = 0x7E06

    def edits(
        self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None
    ) -> list[Edit]:
        name = self.name
        return [
            Edit(p, p + 1, flipped, name)
            for p, char, _ in _drawn_chars(text, positions, choices, self.spans(text, protected))
            if (flipped := char.swapcase()) != char
        ]


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
        # First character -> (source, output) pairs, longest sources first; a character whose sources are
        # all one character long gets its pairs without a look at the text after it.
        by_first: dict[str, list[tuple[str, str]]] = {}
        for source in sorted(self.table, key=len, reverse=True):
            if not isinstance(source, str) or not source:
                raise ValueError(f"table: expected non-empty strings as sources, got {source!r}")
            outputs = self.table[source]
            if isinstance(outputs, str) or not all(isinstance(o, str) for o in outputs):
                raise ValueError(f"table: expected a sequence of strings for {source!r}, got {outputs!r}")
            by_first.setdefault(source[0], []).extend((source, output) for output in outputs)
        self._single = {c: pairs for c, pairs in by_first.items() if all(len(s) == 1 for s, _ in pairs)}
        self._multi = {c: pairs for c, pairs in by_first.items() if c not in self._single}

    def params(self) -> dict[str, Any]:
        return {} if self.table == OCR_CONFUSIONS else {"table": self.table}

    def edits(
        self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None
    ) -> list[Edit]:
        starts, ends = self.spans(text, protected)
        single, multi, name = self._single, self._multi, self.name
        n = len(text)
        out: list[Edit] = []
        free = 0
        for position, choice in zip(positions, choices, strict=True):
            if position < free or position >= n:
                continue
            char = text[position]
            options = single.get(char)
            if options is None:
                options = multi.get(char)
                if options is None:
                    continue
                options = [pair for pair in options if text.startswith(pair[0], position)]
                if not options:
                    continue
            source, output = options[int(choice * len(options))]
            end = position + len(source)
            if (end < n and text[end] >= "\u0300" and combining(text[end])) or (
                starts and overlaps(starts, ends, position, end)
            ):
                continue
            out.append(Edit(position, end, output, name))
            free = end
        return out

    def apply(self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None) -> str:
        starts, ends = self.spans(text, protected)
        single, multi = self._single, self._multi
        n = len(text)
        parts: list[str] = []
        free = last = 0
        for position, choice in zip(positions, choices, strict=True):
            if position < free or position >= n:
                continue
            char = text[position]
            options = single.get(char)
            if options is None:
                options = multi.get(char)
                if options is None:
                    continue
                options = [pair for pair in options if text.startswith(pair[0], position)]
                if not options:
                    continue
            source, output = options[int(choice * len(options))]
            end = position + len(source)
            if (end < n and text[end] >= "\u0300" and combining(text[end])) or (
                starts and overlaps(starts, ends, position, end)
            ):
                continue
            parts.append(text[last:position])
            parts.append(output)
            last = free = end
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)


class Misspelling(TextOp):
    """A word replaced by one of its natural misspellings (codespell's dictionary, inverted), its case
    pattern kept. Units: letter words; eligible: words with a known misspelling."""

    name = "misspell"
    unit = "word with a known misspelling"
    reference_rate = 0.2
    stream = 0x7E08

    def __init__(self, protect: Protection | None = None) -> None:
        super().__init__(protect)
        misspellings()  # ImportError without codespell, at construction

    @property
    def table(self) -> dict[str, tuple[str, ...]]:
        """Word -> its misspellings (read once per process; not pickled with the op)."""
        return misspellings()

    def unit_bound(self, batch: TextBatch) -> np.ndarray:
        return (batch.lengths + 1) // 2

    def edits(
        self, text: str, positions: Sequence[int], choices: Sequence[float], protected: Spans = None
    ) -> list[Edit]:
        words = [m.span() for m in LETTER_WORD.finditer(text)]
        table = self.table
        starts, ends = self.spans(text, protected)
        out: list[Edit] = []
        for position, choice in zip(positions, choices, strict=True):
            if position >= len(words):
                break
            start, end = words[position]
            word = text[start:end]
            options = table.get(word.lower())
            if options is None or (starts and overlaps(starts, ends, start, end)) or _attached(text, end - 1):
                continue
            wrong = options[int(choice * len(options))]
            if word.isupper() and len(word) > 1:
                wrong = wrong.upper()
            elif word[0].isupper():
                wrong = wrong[0].upper() + wrong[1:]
            out.append(Edit(start, end, wrong, self.name))
        return out


Tokens = tuple[list[int], list[int]]


class _WordOp(TextOp):
    unit = "token"
    takes_tokens = True
    reference_rate = 0.1

    def unit_bound(self, batch: TextBatch) -> np.ndarray:
        return batch.token_counts()

    def edits(
        self,
        text: str,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: Spans = None,
        tokens: Tokens | None = None,
    ) -> list[Edit]:
        """As `TextOp.edits`; `tokens`: the text's token starts and ends when known (else found here)."""
        if tokens is None:
            spans = [match.span() for match in TOKEN.finditer(text)]
            tokens = ([s for s, _ in spans], [e for _, e in spans])
        if not positions or positions[0] >= len(tokens[0]):
            return []
        return self.token_edits(text, tokens, positions, choices, self.spans(text, protected))

    def apply(
        self,
        text: str,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: Spans = None,
        tokens: Tokens | None = None,
    ) -> str:
        """As `TextOp.apply`; `tokens` as in `edits`."""
        if tokens is None:
            spans = [match.span() for match in TOKEN.finditer(text)]
            tokens = ([s for s, _ in spans], [e for _, e in spans])
        if not positions or positions[0] >= len(tokens[0]):
            return text
        return self.token_apply(text, tokens, positions, choices, self.spans(text, protected))

    def token_apply(
        self,
        text: str,
        tokens: Tokens,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: tuple[list[int], list[int]],
    ) -> str:
        """The output of `token_edits` without its edit log."""
        return splice(text, self.token_edits(text, tokens, positions, choices, protected))

    def apply_drawn(
        self,
        texts: Sequence[str],
        drawn: list[tuple[int, list[int], list[float]]],
        all_tokens: tuple[list[int], list[int], list[int]],
        maybe: Sequence[bool],
        outputs: list[str],
    ) -> None:
        """`token_apply` of each drawn sample of a batch into `outputs` (`all_tokens`: `TextBatch.all_tokens()`;
        `maybe`: per text, whether it may hold a protected span)."""
        starts, ends, first = all_tokens
        none: tuple[list[int], list[int]] = ([], [])
        spans, token_apply = self.protect.spans, self.token_apply
        for sample, units, choices in drawn:
            begin, end = first[sample], first[sample + 1]
            if units[0] >= end - begin:
                continue
            text = texts[sample]
            protected = spans(text) if maybe[sample] else none
            outputs[sample] = token_apply(text, (starts[begin:end], ends[begin:end]), units, choices, protected)

    @staticmethod
    def eligible(text: str, tokens: Tokens, j: int, protected: tuple[list[int], list[int]]) -> bool:
        """Whether token j holds a letter or digit and lies outside the protected spans."""
        start, end = tokens[0][j], tokens[1][j]
        starts, ends = protected
        return not (starts and overlaps(starts, ends, start, end)) and _ALNUM.search(text, start, end) is not None

    @abstractmethod
    def token_edits(
        self,
        text: str,
        tokens: Tokens,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: tuple[list[int], list[int]],
    ) -> list[Edit]: ...


def _deletions(tokens: Tokens, removed: Sequence[int], op: str) -> list[Edit]:
    """Edits deleting the `removed` tokens (sorted) with one whitespace run each: the one after a token, or
    the one before it for tokens after the last kept one, so that no double or dangling space is left."""
    return [Edit(start, end, "", op) for start, end in _deleted_spans(tokens, removed)]


def _without(text: str, tokens: Tokens, removed: Sequence[int], begin: int = 0, count: int | None = None) -> str:
    """The text less the `removed` tokens (sorted): `splice(text, _deletions(tokens, removed, op))`. The text's
    tokens are `count` entries of `tokens` from `begin` (a batch's lists read in place); default: all of them."""
    starts, ends = tokens
    count = len(starts) - begin if count is None else count
    if len(removed) == 1:  # the usual case, `_deleted_spans` of one token
        j = removed[0]
        at = begin + j
        if j + 1 < count:
            return text[: starts[at]] + text[starts[at + 1] :]
        if j > 0:
            return text[: ends[at - 1]] + text[ends[at] :]
        return text[: starts[at]] + text[ends[at] :]
    own = (starts[begin : begin + count], ends[begin : begin + count])
    parts = []
    last = 0
    for start, end in _deleted_spans(own, removed):
        parts.append(text[last:start])
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _deleted_spans(tokens: Tokens, removed: Sequence[int]) -> list[tuple[int, int]]:
    """The (start, end) spans that `_deletions` deletes."""
    starts, ends = tokens
    n = len(starts)
    last_kept = n - 1
    k = len(removed) - 1
    while last_kept >= 0 and k >= 0 and removed[k] == last_kept:  # the run of removed tokens at the end
        last_kept -= 1
        k -= 1
    out = []
    for j in removed:
        if j < last_kept or (last_kept < 0 and j + 1 < n):
            out.append((starts[j], starts[j + 1]))
        elif last_kept >= 0:
            out.append((ends[j - 1], ends[j]))
        else:
            out.append((starts[j], ends[j]))
    return out


class WordDrop(_WordOp):
    """A token (with a letter or digit) deleted with one adjacent whitespace run."""

    name = "word_drop"
    stream = 0x7E09

    def token_edits(
        self,
        text: str,
        tokens: Tokens,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: tuple[list[int], list[int]],
    ) -> list[Edit]:
        n, eligible = len(tokens[0]), self.eligible
        removed = [j for j in positions if j < n and eligible(text, tokens, j, protected)]
        return _deletions(tokens, removed, self.name) if removed else []

    def token_apply(
        self,
        text: str,
        tokens: Tokens,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: tuple[list[int], list[int]],
    ) -> str:
        starts, ends = tokens
        n = len(starts)
        spans_start, spans_end = protected
        search = _ALNUM.search
        removed = [
            j
            for j in positions
            if j < n
            and not (spans_start and overlaps(spans_start, spans_end, starts[j], ends[j]))
            and search(text, starts[j], ends[j]) is not None
        ]
        return _without(text, tokens, removed) if removed else text

    def apply_drawn(
        self,
        texts: Sequence[str],
        drawn: list[tuple[int, list[int], list[float]]],
        all_tokens: tuple[list[int], list[int], list[int]],
        maybe: Sequence[bool],
        outputs: list[str],
    ) -> None:
        """As `_WordOp.apply_drawn`, with texts without protected spans inlined (the same output as `token_apply`:
        each removed token with the whitespace after it, or before it for tokens after the last kept one)."""
        starts, ends, first = all_tokens
        search = _ALNUM.search
        token_apply = self.token_apply
        spans = self.protect.spans
        for sample, units, choices in drawn:
            begin = first[sample]
            count = first[sample + 1] - begin
            if units[0] >= count:
                continue
            text = texts[sample]
            if maybe[sample]:
                end = begin + count
                protected = spans(text)
                outputs[sample] = token_apply(text, (starts[begin:end], ends[begin:end]), units, choices, protected)
                continue
            removed = [j for j in units if j < count and search(text, starts[begin + j], ends[begin + j]) is not None]
            if removed:
                outputs[sample] = _without(text, (starts, ends), removed, begin, count)


class WordSwap(_WordOp):
    """A token swapped with the next token (both with a letter or digit, different, none swapped twice):
    two edits, each a copy of the other token; the whitespace between them stays."""

    name = "word_swap"
    stream = 0x7E0A

    def token_edits(
        self,
        text: str,
        tokens: Tokens,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: tuple[list[int], list[int]],
    ) -> list[Edit]:
        starts, ends = tokens
        out: list[Edit] = []
        free, n, name = 0, len(starts), self.name
        for j in positions:
            if j < free or j + 1 >= n:
                continue
            s1, e1, s2, e2 = starts[j], ends[j], starts[j + 1], ends[j + 1]
            first, second = text[s1:e1], text[s2:e2]
            eligible = self.eligible
            if first != second and eligible(text, tokens, j, protected) and eligible(text, tokens, j + 1, protected):
                out.append(Edit(s1, e1, second, name, s2))
                out.append(Edit(s2, e2, first, name, s1))
                free = j + 2
        return out

    def token_apply(
        self,
        text: str,
        tokens: Tokens,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: tuple[list[int], list[int]],
    ) -> str:
        starts, ends = tokens
        spans_start, spans_end = protected
        search = _ALNUM.search
        parts: list[str] = []
        free, last, n = 0, 0, len(starts)
        for j in positions:
            if j < free or j + 1 >= n:
                continue
            s1, e1, s2, e2 = starts[j], ends[j], starts[j + 1], ends[j + 1]
            first, second = text[s1:e1], text[s2:e2]
            if (
                first != second
                and not (spans_start and overlaps(spans_start, spans_end, s1, e1))
                and search(first) is not None
                and not (spans_start and overlaps(spans_start, spans_end, s2, e2))
                and search(second) is not None
            ):
                parts.append(text[last:s1])
                parts.append(second)
                parts.append(text[e1:s2])
                parts.append(first)
                last = e2
                free = j + 2
        if not parts:
            return text
        parts.append(text[last:])
        return "".join(parts)

    def apply_drawn(
        self,
        texts: Sequence[str],
        drawn: list[tuple[int, list[int], list[float]]],
        all_tokens: tuple[list[int], list[int], list[int]],
        maybe: Sequence[bool],
        outputs: list[str],
    ) -> None:
        """As `_WordOp.apply_drawn`, with texts without protected spans inlined (the same output as
        `token_apply`), reading the batch's token lists in place."""
        starts, ends, first_token = all_tokens
        search = _ALNUM.search
        token_apply, spans = self.token_apply, self.protect.spans
        for sample, units, choices in drawn:
            begin = first_token[sample]
            end = first_token[sample + 1]
            if units[0] + 1 >= end - begin:
                continue
            text = texts[sample]
            if maybe[sample]:
                tokens = (starts[begin:end], ends[begin:end])
                outputs[sample] = token_apply(text, tokens, units, choices, spans(text))
                continue
            parts: list[str] = []
            free, last = 0, 0
            for j in units:
                at = begin + j
                if j < free or at + 1 >= end:
                    continue
                s1, e1, s2, e2 = starts[at], ends[at], starts[at + 1], ends[at + 1]
                first, second = text[s1:e1], text[s2:e2]
                if first != second and search(first) is not None and search(second) is not None:
                    parts += (text[last:s1], second, text[e1:s2], first)
                    last = e2
                    free = j + 2
            if parts:
                parts.append(text[last:])
                outputs[sample] = "".join(parts)


class WordSplit(_WordOp):
    """A space inserted inside a token, between two of its letters or digits (the place drawn uniformly)."""

    name = "word_split"
    stream = 0x7E0B

    def token_edits(
        self,
        text: str,
        tokens: Tokens,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: tuple[list[int], list[int]],
    ) -> list[Edit]:
        starts, ends = tokens
        out: list[Edit] = []
        for j, choice in zip(positions, choices, strict=True):
            if j >= len(starts) or not self.eligible(text, tokens, j, protected):
                continue
            places = [
                k
                for k in range(starts[j] + 1, ends[j])
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

    def token_edits(
        self,
        text: str,
        tokens: Tokens,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: tuple[list[int], list[int]],
    ) -> list[Edit]:
        starts, ends = tokens
        out: list[Edit] = []
        for j in positions:
            if j < len(starts) and self.eligible(text, tokens, j, protected):
                start = starts[j]
                out.append(Edit(start, start, text[start : ends[j]], self.name, start))
                out.append(Edit(start, start, " ", self.name))
        return out


class WordCrop(_WordOp):
    """A random contiguous window of tokens kept: the number of tokens cut is the number of tokens drawn
    (at most all but one), the window's place uniform; protected tokens outside the window stay."""

    name = "word_crop"
    stream = 0x7E0D

    def token_edits(
        self,
        text: str,
        tokens: Tokens,
        positions: Sequence[int],
        choices: Sequence[float],
        protected: tuple[list[int], list[int]],
    ) -> list[Edit]:
        starts, ends = tokens
        n = len(starts)
        cut = min(sum(1 for j in positions if j < n), n - 1)
        if cut <= 0:
            return []
        offset = int(choices[0] * (cut + 1))
        spans_start, spans_end = protected
        removed = [
            j
            for j in range(n)
            if not offset <= j < offset + n - cut
            and not (spans_start and overlaps(spans_start, spans_end, starts[j], ends[j]))
        ]
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
