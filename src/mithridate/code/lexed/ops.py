"""Token-level code ops for any language Pygments lexes: renaming of the identifiers a file declares, faulty code
(TransCoder's denoising noise on the token stream) and format noise (layout changes that keep the token stream).

Each op is a pure kernel: `parse` lexes the text with the op's language (a LexedSource passes as is), `edits` turns
the sample's draws into edits of the text, so the layout between the tokens an op does not touch stays as it was.
"""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar

import numpy as np
from pygments.lexer import Lexer
from pygments.token import Comment, String

from ...text.strings import Edit, apply_edits
from ..ops import CodeOp, SampleDraws
from .rename import FAMILIES, Renamable, renamable
from .source import LexedSource, LexToken, language_of, lexer_for, read_lexed

__all__ = ["OPS", "LexedFaulty", "LexedFormat", "LexedOp", "LexedRename", "code_units"]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_DEFAULT_LANGUAGE = "javascript"


class LexedOp(CodeOp):
    """Base of the token-level ops: `language` names the Pygments lexer that reads str sources (any alias, e.g.
    "javascript", "c", "bash"); a LexedSource is read as it was lexed."""

    language: ClassVar[str] = "any"

    def __init__(self, language: str = _DEFAULT_LANGUAGE) -> None:
        self.lexer: Lexer = lexer_for(language)
        self.lexer_language = language

    def parse(self, text: str | bytes | LexedSource) -> LexedSource:
        """The text lexed by the op's lexer (UTF-8 bytes are decoded); a CodeSyntaxError for bytes that do not
        decode, a TypeError for anything but str, bytes or a LexedSource."""
        return read_lexed(text, lexer=self.lexer)

    def params(self) -> dict[str, Any]:
        return {} if self.lexer_language == _DEFAULT_LANGUAGE else {"language": self.lexer_language}


# Renaming ---------------------------------------------------------------------------------------------------------

_PLAUSIBLE = {
    "VAR": _words("value item count total result data entry node current buffer offset length target origin config "
            "options state flag limit size temp record element token payload message response request input output "
            "cursor position width height prefix suffix counter candidate pending queue cache context parent child "
            "amount label field"),
    "FUNC": _words("compute process handle update build parse render load store transform validate resolve collect "
             "convert normalize prepare dispatch merge visit check create insert lookup emit reset"),
    "CLASS": _words("Manager Handler Builder Parser Record Container Registry Processor Adapter Controller Session "
              "Channel Worker Resolver Factory Entry Context"),
}  # fmt: skip
_NAME_STYLES = ("dobf", "plausible")


class LexedRename(LexedOp):
    """Renames identifiers the file declares (see `code.lexed.rename` for each language's rules): each renamable
    name with probability rate, at every identifier occurrence, to a fresh name that occurs nowhere in the file.
    `style="dobf"`: VAR_i / FUNC_i / CLASS_i numbered per kind in order of first occurrence (DOBF's obfuscation);
    `style="plausible"`: words drawn from a small table (value, compute, Manager...)."""

    name = "lexed_rename"
    stream = 0xC4_0001
    kind = "rename"
    reference_rate = 0.5
    preserving = True

    def __init__(self, language: str = _DEFAULT_LANGUAGE, style: str = "dobf") -> None:
        super().__init__(language)
        if style not in _NAME_STYLES:
            raise ValueError(f"style: expected one of {_NAME_STYLES}, got {style!r}")
        self.style = style

    def sites(self, source: LexedSource) -> int:
        return len(renamable(source))

    def mapping(self, source: LexedSource, draws: SampleDraws, names: list[Renamable] | None = None) -> dict[str, str]:
        """Old name -> new name for this sample (the draws' stream 0 chooses the names, stream 1 the words);
        `names`: `renamable(source)` when already computed."""
        names = renamable(source) if names is None else names
        chosen = [names[k] for k in draws.chosen(len(names), 0)]
        taken = set(re.findall(r"[A-Za-z_]\w*", source.text))
        out: dict[str, str] = {}
        if self.style == "dobf":
            counters = dict.fromkeys(_PLAUSIBLE, 0)
            for item in chosen:
                while (new := f"{item.kind}_{counters[item.kind]}") in taken:
                    counters[item.kind] += 1
                counters[item.kind] += 1
                taken.add(new)
                out[item.name] = new
            return out
        for item, u in zip(chosen, draws.uniform(len(chosen), 1), strict=True):
            pool = [word for word in _PLAUSIBLE[item.kind] if word not in taken]
            if pool:
                new = pool[min(int(u * len(pool)), len(pool) - 1)]
            else:
                words = _PLAUSIBLE[item.kind]
                base, suffix = words[min(int(u * len(words)), len(words) - 1)], 2
                while (new := f"{base}{suffix}") in taken:
                    suffix += 1
            taken.add(new)
            out[item.name] = new
        return out

    def edits(self, source: LexedSource, draws: SampleDraws) -> list[Edit]:
        names = renamable(source)
        mapping = self.mapping(source, draws, names)
        if not mapping:
            return []
        edits = [
            Edit(start, end, mapping[item.name], self.name)
            for item in names
            if item.name in mapping
            for start, end in item.spans
        ]
        return sorted(edits)

    def params(self) -> dict[str, Any]:
        out = super().params()
        if self.style != "dobf":
            out["style"] = self.style
        return out


# Faulty code ------------------------------------------------------------------------------------------------------


def _family(token: LexToken) -> str | None:
    kind = token.type
    if kind in String:
        return "string"
    if kind in Comment.Preproc or kind in Comment.PreprocFile:
        return "preproc"
    if kind in Comment:
        return "comment"
    return None


def code_units(source: LexedSource) -> list[tuple[int, int]]:
    """The [start, end) spans of the source's code units, the words of faulty code: each token that is not layout,
    except that the pieces of one string literal (with its interpolations), one comment or one preprocessor line
    (Pygments splits them) form one unit."""
    units: list[list[int]] = []
    family: str | None = None
    depth = 0  # open interpolations (`${`, `#{`) inside a string unit
    for token in source.tokens:
        if token.blank:
            continue
        current = _family(token)
        joined = bool(units) and (
            depth > 0
            or (current is not None and current == family and units[-1][1] == token.start)
            or (current == "preproc" == family and "\n" not in source.text[units[-1][1] : token.start])
        )
        if joined:
            units[-1][1] = token.end
        else:
            units.append([token.start, token.end])
            family = current
        if token.type in String.Interpol:
            if token.string.endswith("{"):
                depth += 1
            elif token.string == "}" and depth:
                depth -= 1
    return [(start, end) for start, end in units]


def _check_rate(name: str, value: float, upper: float | None = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (upper is not None and value > upper):
        bound = "" if upper is None else f" and <= {upper}"
        raise ValueError(f"{name}: expected a number >= 0{bound}, got {value}")
    return value


class LexedFaulty(LexedOp):
    """TransCoder's faulty code on the token stream (XLM's `add_noise` on code units, see `code_units`): units are
    shuffled by adding uniform noise in [0, word_shuffle) to their positions and sorting (no unit moves more than
    word_shuffle places), then dropped with probability word_dropout (at least one kept) and blanked (replaced by
    `mask`) with probability word_blank. The strength scales all three. Rendered as edits of the unit slots, so the
    layout between units stays; a dropped unit leaves its slot empty. Draw streams: 0 shuffle, 1 drop, 2 the unit
    kept when all would drop, 3 blank."""

    name = "lexed_faulty"
    stream = 0xC4_0002
    kind = "faulty"
    reference_rate = 1.0

    def __init__(
        self,
        language: str = _DEFAULT_LANGUAGE,
        word_shuffle: float = 3.0,
        word_dropout: float = 0.1,
        word_blank: float = 0.3,
        mask: str = "<mask>",
    ) -> None:
        super().__init__(language)
        self.word_shuffle = _check_rate("word_shuffle", word_shuffle, None)
        self.word_dropout = _check_rate("word_dropout", word_dropout)
        self.word_blank = _check_rate("word_blank", word_blank)
        if not isinstance(mask, str) or not mask or mask.isspace():
            raise ValueError(f"mask: expected a non-blank mask token (str), got {mask!r}")
        self.mask = mask

    def sites(self, source: LexedSource) -> int:
        return len(code_units(source))

    def order(self, count: int, draws: SampleDraws) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per slot: the unit it receives after the shuffle, whether it is dropped, whether it is blanked."""
        strength = max(draws.strength, 0.0)
        shuffle = self.word_shuffle * strength
        order = np.arange(count)
        if shuffle > 0 and count > 1:
            order = np.argsort(order + draws.uniform(count, 0) * shuffle, kind="stable")
        drop = draws.uniform(count, 1) < min(self.word_dropout * strength, 1.0)
        if count and drop.all():
            drop[draws.pick(count, 2)] = False
        blank = (draws.uniform(count, 3) < min(self.word_blank * strength, 1.0)) & ~drop
        return order, drop, blank

    def edits(self, source: LexedSource, draws: SampleDraws) -> list[Edit]:
        units = code_units(source)
        order, drop, blank = self.order(len(units), draws)
        text = source.text
        edits = []
        for slot, (start, end) in enumerate(units):
            unit = int(order[slot])
            if drop[slot]:
                edits.append(Edit(start, end, "", self.name))
            elif blank[slot]:
                edits.append(Edit(start, end, self.mask, self.name))
            elif unit != slot:
                begin, finish = units[unit]
                edits.append(Edit(start, end, text[begin:finish], self.name, begin))
        return edits

    def params(self) -> dict[str, Any]:
        out = super().params()
        defaults = {"word_shuffle": 3.0, "word_dropout": 0.1, "word_blank": 0.3, "mask": "<mask>"}
        out.update({key: getattr(self, key) for key, value in defaults.items() if getattr(self, key) != value})
        return out


# Format noise -----------------------------------------------------------------------------------------------------

_FREE_FORM = frozenset(
    _words("javascript js typescript ts jsx tsx c cpp c++ objective-c java csharp go rust kotlin scala swift json dart")
)
_INDENTABLE = _FREE_FORM | {alias for alias, family in FAMILIES.items() if family == "shell"}
_TIGHT = frozenset((".", "?.", "->", "::", "#", "@", "\\"))
_INDENT_UNITS = ("  ", "    ", "\t")


def _spaceable(left: LexToken, right: LexToken) -> bool:
    """Whether the space between two adjacent code tokens may be added or removed: one side an operator or
    punctuation (not a member access), the other not (two operators may be one split operator: `+ +`, `- >`)."""
    if not (left.code and right.code) or left.string in _TIGHT or right.string in _TIGHT:
        return False
    return left.operator != right.operator


class LexedFormat(LexedOp):
    """Format noise: layout changes that keep the token stream. With probability rate per place: a space around an
    operator or punctuation added or removed (free-form languages: C, JavaScript...), a blank line added (or one
    removed where there are several newlines) at a line break; and with probability rate the indentation unit of
    the whole file changed (2 spaces, 4 spaces or a tab; free-form languages and shells). The output is re-lexed:
    if its non-layout tokens differ the spacing edits are given up, and if they still differ every edit.
    Draw streams: 0 spacing, 1 blank lines, 2 indentation (whether, and which unit)."""

    name = "lexed_format"
    stream = 0xC4_0003
    kind = "format"
    reference_rate = 0.2
    preserving = True

    def _places(self, source: LexedSource) -> tuple[list[tuple[int, int, bool]], list[tuple[int, int, bool]]]:
        """Inline places (start, end, spaceable) and line-break places (start, end, indented: a token follows)."""
        text, tokens = source.text, source.tokens
        language = language_of(source.lexer)
        free = language in _FREE_FORM or any(alias in _FREE_FORM for alias in source.lexer.aliases)
        inline: list[tuple[int, int, bool]] = []
        breaks: list[tuple[int, int, bool]] = []
        left: LexToken | None = None
        i, n = 0, len(tokens)
        while i < n:
            j = i
            while j < n and tokens[j].blank:
                j += 1
            right = tokens[j] if j < n else None
            start = tokens[i].start if i < n else len(text)
            end = tokens[j - 1].end if j > i else start
            continued = start > 0 and text[start - 1] == "\\"
            if left is not None and not continued:
                if "\n" in text[start:end]:
                    breaks.append((start, end, right is not None))
                elif right is not None and free and _spaceable(left, right):
                    inline.append((start, end, True))
            elif left is None and j > i and right is not None:
                breaks.append((start, end, True))  # leading indentation of the first line
            if j < n:
                left = tokens[j]
            i = j + 1
        return inline, breaks

    def sites(self, source: LexedSource) -> int:
        inline, breaks = self._places(source)
        return len(inline) + len(breaks)

    def _indent(self, source: LexedSource, breaks: list[tuple[int, int, bool]]) -> str | None:
        """The file's indentation unit ("  ", "    ", "\t"...), None when it has no clear one."""
        widths, tabs = [], 0
        for start, end, indented in breaks:
            tail = source.text[start:end].rsplit("\n", 1)[-1]
            if not indented or not tail:
                continue
            if tail.strip("\t") == "":
                tabs += 1
            elif tail.strip(" ") == "":
                widths.append(len(tail))
        if tabs > len(widths):
            return "\t"
        unit = math.gcd(*widths) if widths else 0
        return " " * unit if unit in (2, 3, 4, 8) else None

    def edits(self, source: LexedSource, draws: SampleDraws) -> list[Edit]:
        text = source.text
        inline, breaks = self._places(source)
        spacing = []
        for k in draws.chosen(len(inline), 0):
            start, end, _ = inline[k]
            spacing.append(Edit(start, end, "" if end > start else " ", self.name))
        layout = []
        toggled = set(draws.chosen(len(breaks), 1).tolist())
        unit = new_unit = None
        language_ok = any(alias in _INDENTABLE for alias in source.lexer.aliases)
        if language_ok and draws.uniform(1, 2)[0] < draws.rate:
            unit = self._indent(source, breaks)
            if unit is not None:
                options = [option for option in _INDENT_UNITS if option != unit]
                new_unit = options[min(int(draws.uniform(2, 2)[1] * len(options)), len(options) - 1)]
        for k, (start, end, indented) in enumerate(breaks):
            gap = text[start:end]
            if k in toggled:
                first = gap.find("\n")
                second = gap.find("\n", first + 1)
                if second >= 0:
                    gap = gap[: first + 1] + gap[second + 1 :]
                elif first >= 0:
                    gap = gap[: first + 1] + ("\r\n" if gap[first - 1 : first] == "\r" else "\n") + gap[first + 1 :]
            if unit is not None and new_unit is not None and indented:
                head, _, tail = gap.rpartition("\n")
                sep = "\n" if "\n" in gap else ""
                if tail and tail.strip(unit[0]) == "" and len(tail) % len(unit) == 0:
                    gap = head + sep + new_unit * (len(tail) // len(unit))
            if gap != text[start:end]:
                layout.append(Edit(start, end, gap, self.name))
        for edits in (sorted(spacing + layout), layout):
            if not edits or source.relex(apply_edits(text, edits)).stream() == source.stream():
                return edits
        return []


OPS: dict[str, type[LexedOp]] = {op.name: op for op in (LexedRename, LexedFaulty, LexedFormat)}
