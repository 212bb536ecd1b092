"""Faulty code: TransCoder's denoising noise (XLM's `add_noise`) and T5-style span masking on code tokens.

The units are the code tokens of `tokenize` (NAME, OP, NUMBER, STRING, and ERRORTOKENs that are not blank): comments,
NEWLINE/NL, INDENT and DEDENT are layout and take no part (TransCoder's tokenizer drops comments and turns newlines
and indents into tokens; here they stay where they are, so the output keeps the file's lines). Token k's slot is its
[start, end) in the text; the output fills slot k with the token the noise puts there, so the layout between tokens
stays byte for byte: a dropped token is deleted, a blanked one replaced by the mask, a moved one copied from its
origin (`Edit(..., origin=)`). The output need not parse: that is the point.
"""

from __future__ import annotations

import tokenize
from typing import Any, ClassVar

import numpy as np

from ...text.strings import Edit
from ..ops import CodeOp, SampleDraws
from .source import PythonSource, read_python

__all__ = ["CODE_TOKEN_TYPES", "OPS", "FaultyCode", "SpanMask", "code_tokens"]

CODE_TOKEN_TYPES = frozenset({tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING, tokenize.ERRORTOKEN})
"""Token types that take part in the noise (ERRORTOKENs only when not blank)."""


def code_tokens(source: PythonSource) -> list[tuple[int, int, str]]:
    """(start, end, text) of the source's code tokens, in order (see `CODE_TOKEN_TYPES`)."""
    return [(t.start, t.end, t.string) for t in source.tokens
            if t.type in CODE_TOKEN_TYPES and t.string.strip()]  # fmt: skip


def _check_rate(name: str, value: Any, upper: float | None = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (upper is not None and value > upper):
        bound = f"[0, {upper}]" if upper is not None else ">= 0"
        raise ValueError(f"{name}: expected a finite number in {bound}, got {value}")
    return value


def _check_mask(mask: Any) -> str:
    if not isinstance(mask, str):
        raise TypeError(f"mask: expected a str, got {type(mask).__name__}")
    return mask


def _render(tokens: list[tuple[int, int, str]], order: np.ndarray, drop: np.ndarray, blank: np.ndarray, mask: str,
            op: str) -> list[Edit]:  # fmt: skip
    """Edits putting token order[k] in slot k, deleting the dropped slots and masking the blanked ones."""
    edits = []
    for k, (start, end, _) in enumerate(tokens):
        source = int(order[k])
        if drop[k]:
            edits.append(Edit(start, end, "", op))
        elif blank[k]:
            edits.append(Edit(start, end, mask, op))
        elif source != k:
            edits.append(Edit(start, end, tokens[source][2], op, tokens[source][0]))
    return edits


class FaultyCode(CodeOp):
    """TransCoder's denoising noise on code tokens, as XLM's `add_noise`: shuffle (uniform noise in [0,
    word_shuffle) added to each token's position, then a stable sort: no token moves word_shuffle places or more),
    then dropout (each token with probability word_dropout; if none is left, one drawn token is kept) and blank (each
    remaining token replaced by `mask` with probability word_blank). Defaults: TransCoder's 3, 0.1 and 0.3. The
    strength scales all three linearly (rates capped at 1)."""

    name = "faulty"
    stream = 0xC2_0002
    reference_rate: ClassVar[float] = 0.3
    kind = "faulty"

    def __init__(
        self, word_shuffle: float = 3.0, word_dropout: float = 0.1, word_blank: float = 0.3, mask: str = "<mask>"
    ) -> None:
        self.word_shuffle = _check_rate("word_shuffle", word_shuffle, None)
        self.word_dropout = _check_rate("word_dropout", word_dropout)
        self.word_blank = _check_rate("word_blank", word_blank)
        self.mask = _check_mask(mask)

    def params(self) -> dict[str, Any]:
        defaults = {"word_shuffle": 3.0, "word_dropout": 0.1, "word_blank": 0.3, "mask": "<mask>"}
        return {key: getattr(self, key) for key, value in defaults.items() if getattr(self, key) != value}

    def parse(self, text: str | bytes | PythonSource) -> PythonSource:
        source = read_python(text)
        _ = source.tokens  # tokenizes (a CodeSyntaxError otherwise); the code need not parse
        return source

    def sites(self, source: PythonSource) -> int:
        return len(code_tokens(source))

    def edits(self, source: PythonSource, draws: SampleDraws) -> list[Edit]:
        tokens = code_tokens(source)
        n = len(tokens)
        if n == 0:
            return []
        strength = max(draws.strength, 0.0)
        shuffle = self.word_shuffle * strength
        if shuffle > 0:
            scores = np.arange(n) + draws.uniform(n, 0) * shuffle
            order = np.argsort(scores, kind="stable")
        else:
            order = np.arange(n)
        drop = draws.uniform(n, 1) < min(self.word_dropout * strength, 1.0)
        if drop.all():  # XLM keeps at least one word
            drop[draws.pick(n, 2)] = False
        blank = (draws.uniform(n, 3) < min(self.word_blank * strength, 1.0)) & ~drop
        return _render(tokens, order, drop, blank, self.mask, self.name)


class SpanMask(CodeOp):
    """T5-style span noise on code tokens: round(n x noise_density) of the n tokens (at least 1, at most n - 1), in
    round(noise / mean_span_length) spans (at least 1) of random lengths, placed uniformly with at least one token
    between two spans (T5's random segmentation; T5 ends every sample with a span, here the first span's start is
    uniform, as `text.tokens.SpanCorruption`). `mode="mask"`: each span's first token becomes `mask` (with `{i}`
    replaced by the span's number, for T5's sentinels `<extra_id_{i}>`) and its other tokens are deleted;
    `mode="delete"`: the span's tokens are deleted. The strength scales noise_density linearly."""

    name = "faulty_spans"
    stream = 0xC2_0003
    reference_rate: ClassVar[float] = 0.15
    kind = "faulty"
    MODES: ClassVar[tuple[str, ...]] = ("mask", "delete")

    def __init__(
        self, noise_density: float = 0.15, mean_span_length: float = 3.0, mode: str = "mask", mask: str = "<mask>"
    ) -> None:
        self.noise_density = _check_rate("noise_density", noise_density)
        self.mean_span_length = _check_rate("mean_span_length", mean_span_length, None)
        if self.mean_span_length < 1:
            raise ValueError(f"mean_span_length: expected a number >= 1, got {mean_span_length}")
        if mode not in self.MODES:
            raise ValueError(f"mode: expected one of {self.MODES}, got {mode!r}")
        self.mode = mode
        self.mask = _check_mask(mask)

    def params(self) -> dict[str, Any]:
        defaults = {"noise_density": 0.15, "mean_span_length": 3.0, "mode": "mask", "mask": "<mask>"}
        return {key: getattr(self, key) for key, value in defaults.items() if getattr(self, key) != value}

    parse = FaultyCode.parse

    def sites(self, source: PythonSource) -> int:
        return len(code_tokens(source))

    def spans(self, n: int, draws: SampleDraws) -> list[tuple[int, int]]:
        """[first, last) token indices of the noise spans of n tokens, in order."""
        density = min(self.noise_density * max(draws.strength, 0.0), 1.0)
        noise = min(max(round(n * density), 1), n - 1) if n >= 2 and density > 0 else 0
        if noise == 0:
            return []
        count = max(round(noise / self.mean_span_length), 1)
        count = min(count, noise, n - noise + 1)  # room for a gap between spans
        lengths = _composition(noise, count, draws.uniform(max(noise - 1, 0), 4))
        # Gaps: count + 1 parts of the n - noise other tokens, the inner ones at least 1 (first and last may be 0).
        gaps = _composition(n - noise + 2, count + 1, draws.uniform(n - noise + 1, 5))
        gaps[0] -= 1
        gaps[-1] -= 1
        out, position = [], 0
        for k in range(count):
            position += int(gaps[k])
            out.append((position, position + int(lengths[k])))
            position += int(lengths[k])
        return out

    def edits(self, source: PythonSource, draws: SampleDraws) -> list[Edit]:
        tokens = code_tokens(source)
        edits = []
        for number, (first, last) in enumerate(self.spans(len(tokens), draws)):
            for k in range(first, last):
                start, end, _ = tokens[k]
                text = self.mask.replace("{i}", str(number)) if k == first and self.mode == "mask" else ""
                edits.append(Edit(start, end, text, self.name))
        return edits


def _composition(total: int, parts: int, uniforms: np.ndarray) -> np.ndarray:
    """A uniformly random composition of `total` into `parts` positive lengths: parts - 1 distinct cuts among the
    total - 1 inner positions, the ones whose uniforms are smallest."""
    if parts <= 1:
        return np.array([total], dtype=np.int64)
    cuts = np.sort(np.argsort(uniforms[: total - 1], kind="stable")[: parts - 1] + 1)
    bounds = np.concatenate([[0], cuts, [total]])
    return np.diff(bounds)


OPS: dict[str, type[CodeOp]] = {FaultyCode.name: FaultyCode, SpanMask.name: SpanMask}
