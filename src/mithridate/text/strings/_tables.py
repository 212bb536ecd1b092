"""The data the character and word ops draw from: keyboard layouts, OCR confusions, natural misspellings."""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LAYOUTS",
    "OCR_CONFUSIONS",
    "KeyboardLayout",
    "keyboard_neighbours",
    "misspellings",
]

_TEXT_EXTRA = "pip install 'mithridate[text]'"


@dataclass(frozen=True)
class KeyboardLayout:
    """A keyboard as data: its rows of keys (unshifted, top row first) and each row's offset from the
    top row's left edge, in key widths. Two keys are neighbours when they touch: side by side in a row,
    or in adjacent rows less than one key width apart horizontally."""

    name: str
    rows: tuple[str, ...]
    offsets: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.offsets) or not self.rows:
            raise ValueError(f"KeyboardLayout {self.name!r}: expected one offset per row, got {self.offsets!r}")

    def neighbours(self) -> dict[str, str]:
        """Key -> its neighbours, letters and digits only, in row order."""
        places = [(r, c + self.offsets[r], key) for r, row in enumerate(self.rows) for c, key in enumerate(row)]
        table: dict[str, str] = {}
        for r, x, key in places:
            if not key.isalnum():
                continue
            near = [
                other
                for r2, x2, other in places
                if other != key
                and other.isalnum()
                and ((r2 == r and abs(x2 - x) == 1) or (abs(r2 - r) == 1 and abs(x2 - x) < 1))
            ]
            table[key] = "".join(dict.fromkeys(near))
        return table


# Offsets of ANSI/ISO rows relative to the digit row ('1' at 0): Tab 1.5, Caps Lock 1.75, Shift 2.25 wide
# (ISO's narrower left Shift plus its extra key put the bottom row at the same place).
_OFFSETS = (0.0, 0.5, 0.75, 1.25)
LAYOUTS: dict[str, KeyboardLayout] = {
    "qwerty": KeyboardLayout("qwerty", ("1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./"), _OFFSETS),
    "azerty": KeyboardLayout("azerty", ("1234567890", "azertyuiop", "qsdfghjklmù", "wxcvbn,;:!"), _OFFSETS),
    "qwertz": KeyboardLayout("qwertz", ("1234567890ß", "qwertzuiopü", "asdfghjklöä", "yxcvbnm,.-"), _OFFSETS),
}


def keyboard_neighbours(layout: str | KeyboardLayout | Mapping[str, str]) -> dict[str, str]:
    """The neighbour table of a layout: a name in `LAYOUTS`, a `KeyboardLayout`, or a mapping from a
    lowercase key to the string (or sequence) of its neighbours."""
    if isinstance(layout, str):
        if layout not in LAYOUTS:
            raise ValueError(f"layout: unknown keyboard layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
        return _cached_neighbours(LAYOUTS[layout])
    if isinstance(layout, KeyboardLayout):
        return _cached_neighbours(layout)
    if isinstance(layout, Mapping):
        table = {}
        for key, near in layout.items():
            if not (isinstance(key, str) and len(key) == 1) or isinstance(near, bytes):
                raise ValueError(f"layout: expected single characters mapped to neighbours, got {key!r}: {near!r}")
            near = "".join(near)
            if near:
                table[key] = near
        return table
    raise TypeError(f"layout: expected a layout name, a KeyboardLayout or a mapping, got {type(layout).__name__}")


@functools.cache
def _cached_neighbours(layout: KeyboardLayout) -> dict[str, str]:
    return layout.neighbours()


# Characters OCR engines confuse (after nlpaug's OCR map and the usual glyph look-alikes): source -> outputs.
# Multi-character sources ("rn" read as "m") and outputs ("m" read as "rn") are allowed.
OCR_CONFUSIONS: dict[str, tuple[str, ...]] = {
    "0": ("o", "O", "D"),
    "1": ("l", "I", "i"),
    "2": ("z", "Z"),
    "5": ("s", "S"),
    "6": ("b", "G"),
    "8": ("B", "&"),
    "9": ("g", "q"),
    "o": ("0", "u"),
    "O": ("0", "D", "Q"),
    "l": ("1", "I", "|"),
    "I": ("1", "l", "|"),
    "i": ("1", "l"),
    "s": ("5",),
    "S": ("5", "$"),
    "z": ("2",),
    "Z": ("2",),
    "b": ("6", "h"),
    "B": ("8",),
    "g": ("9", "q"),
    "q": ("9", "g"),
    "e": ("c",),
    "c": ("e",),
    "C": ("G",),
    "G": ("C", "6"),
    "E": ("B", "F"),
    "a": ("o",),
    "u": ("v",),
    "v": ("u",),
    "h": ("b",),
    "n": ("h",),
    "r": ("k",),
    "t": ("f",),
    "f": ("t",),
    "m": ("rn",),
    "rn": ("m",),
    "w": ("vv",),
    "vv": ("w",),
    "d": ("cl",),
    "cl": ("d",),
}

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def _codespell_dictionary() -> str:
    """codespell's dictionary.txt, found through the package's import spec without running its (GPL) code."""
    spec = None
    if sys.modules.get("codespell_lib", False) is not None:  # None there: imports of it blocked
        try:
            spec = importlib.util.find_spec("codespell_lib")
        except (ImportError, ValueError):
            spec = None
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "data" / "dictionary.txt"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise ImportError(f"natural misspellings need codespell's dictionary, which is not installed: {_TEXT_EXTRA}")


@functools.cache
def misspellings() -> dict[str, tuple[str, ...]]:
    """codespell's dictionary inverted: a correct word (lowercase) -> its known misspellings, sorted.

    codespell maps a misspelling to one or more corrections; each single-word correction gets the
    misspelling. The dictionary (CC BY-SA 3.0) is read at run time from the installed `codespell` package,
    never copied (nor is codespell's code run); without it this raises ImportError.
    """
    text = _codespell_dictionary()
    inverted: dict[str, set[str]] = {}
    for line in text.splitlines():
        wrong, arrow, right = line.partition("->")
        if not arrow or not _WORD.fullmatch(wrong):
            continue
        for correction in right.split(","):
            correction = correction.strip()
            if correction and correction != wrong and _WORD.fullmatch(correction):
                inverted.setdefault(correction.lower(), set()).add(wrong.lower())
    return {word: tuple(sorted(wrongs)) for word, wrongs in sorted(inverted.items())}
