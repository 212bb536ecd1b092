"""Edit logs: what an op changed in a text, and how positions of the original map to the output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = ["Edit", "EditedText", "apply_edits", "map_span", "source_index", "splice"]


class Edit(NamedTuple):
    """One edit: the original's characters [start, end) replaced by `text` (start == end: an insertion).

    `origin` is None for new text, whose characters stand where the replaced ones stood (character k of
    `text` comes from original position start + k while k < end - start, the rest are inserted), or the
    original position that `text` is copied from (a moved or repeated word, a swapped character):
    character k of `text` then comes from origin + k.
    """

    start: int
    end: int
    text: str
    op: str
    origin: int | None = None


def _check_edits(length: int, edits: Sequence[Edit]) -> None:
    previous = 0
    for i, edit in enumerate(edits):
        if not isinstance(edit, tuple) or len(edit) < 4:
            raise TypeError(f"edits[{i}]: expected an Edit(start, end, text, op[, origin]), got {edit!r}")
        start, end, text = edit[0], edit[1], edit[2]
        if not (isinstance(start, int) and isinstance(end, int) and isinstance(text, str)):
            raise TypeError(f"edits[{i}]: expected integer start and end and str text, got {edit!r}")
        if not previous <= start <= end <= length:
            raise ValueError(
                f"edits[{i}]: expected edits sorted and not overlapping within the text's {length} characters, "
                f"got [{start}, {end}) after position {previous}"
            )
        previous = end


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """The text with its edits applied, in order (edits sorted by start, not overlapping; insertions at
    one position go in the order listed)."""
    if not isinstance(text, str):
        raise TypeError(f"text: expected str, got {type(text).__name__}")
    _check_edits(len(text), edits)
    return splice(text, edits)


def splice(text: str, edits: Sequence[Edit]) -> str:
    """`apply_edits` without the checks (for edit logs that ops made)."""
    if not edits:
        return text
    parts: list[str] = []
    position = 0
    for edit in edits:
        parts.append(text[position : edit[0]])
        parts.append(edit[2])
        position = edit[1]
    parts.append(text[position:])
    return "".join(parts)


def source_index(length: int, edits: Sequence[Edit]) -> np.ndarray:
    """For each character of the output, the position in the original it comes from (int64), -1 for
    inserted characters; `length` is the original's length. Unedited characters map to themselves."""
    pieces, position = [], 0
    for start, end, replacement, _, *rest in edits:
        origin = rest[0] if rest else None
        pieces.append(np.arange(position, start, dtype=np.int64))
        if origin is not None:
            pieces.append(np.arange(origin, origin + len(replacement), dtype=np.int64))
        else:
            kept = min(len(replacement), end - start)
            pieces.append(np.arange(start, start + kept, dtype=np.int64))
            pieces.append(np.full(len(replacement) - kept, -1, dtype=np.int64))
        position = end
    pieces.append(np.arange(position, length, dtype=np.int64))
    return np.concatenate(pieces)


def _boundary(position: int, edits: Sequence[Edit]) -> int:
    """Where a boundary of the original lands in the output (inside an edit: at the start of its text)."""
    shift = 0
    for start, end, replacement, *_ in edits:
        if end <= position and start < position:
            shift += len(replacement) - (end - start)
        elif start < position < end:
            return start + shift
        elif start >= position:
            break
    return position + shift


def map_span(length: int, edits: Sequence[Edit], start: int, end: int) -> tuple[int, int]:
    """The output span [start', end') holding what the original span [start, end) became: the smallest
    span covering every output character that comes from it (`source_index`), characters inserted
    inside it included. A span whose characters were all deleted (or an empty span) maps to an empty
    span where it was."""
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name}: expected an integer position, got {type(value).__name__}")
    if not 0 <= start <= end <= length:
        raise ValueError(f"start, end: expected 0 <= start <= end <= {length}, got start={start}, end={end}")
    if not edits:
        return int(start), int(end)
    return _map_with(source_index(length, edits), edits, int(start), int(end))


def _map_with(source: np.ndarray, edits: Sequence[Edit], start: int, end: int) -> tuple[int, int]:
    inside = np.flatnonzero((source >= start) & (source < end))
    if inside.size:
        return int(inside[0]), int(inside[-1]) + 1
    position = _boundary(start, edits)
    return position, position


@dataclass(frozen=True, slots=True)
class EditedText:
    """An output text with its edit log: `original`, `text` (= `apply_edits(original, edits)`) and `edits`."""

    original: str
    text: str
    edits: tuple[Edit, ...]

    def source_index(self) -> np.ndarray:
        """Per output character, its position in the original (int64), -1 for inserted characters."""
        return source_index(len(self.original), self.edits)

    def map_span(self, start: int, end: int) -> tuple[int, int]:
        """Where the original's span [start, end) is in the output (see `map_span`): for NER or QA labels."""
        return map_span(len(self.original), self.edits, start, end)

    def map_spans(self, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """`map_span` of each (start, end), the source index computed once."""
        if not self.edits:
            return [self.map_span(start, end) for start, end in spans]
        source = self.source_index()
        out = []
        for start, end in spans:
            map_span(len(self.original), (), start, end)  # checks the span
            out.append(_map_with(source, self.edits, int(start), int(end)))
        return out

    @property
    def changed(self) -> bool:
        """Whether any edit was made."""
        return bool(self.edits)
