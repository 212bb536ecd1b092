"""The code op contract: a pure kernel from (parsed source, the sample's draws) to an edit log.

An op names the language it reads (`parse`: Python through tokenize/ast/symtable by default), the units it can
edit in a source (`sites`: identifiers to rename, tokens to noise, loops to rewrite, places for a bug), and its
`edits`: `Edit`s on the source text (as the text noise's), so that everything an op does not target stays byte
for byte and span labels can be moved. Ops draw nothing themselves: the policy hands each sample a `SampleDraws`
whose uniforms come from the keyed streams of (seed, epoch, sample index, op stream).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from ..text.strings import Edit
from .python.source import PythonSource, read_python

__all__ = ["CodeOp", "SampleDraws"]


class SampleDraws:
    """One sample's draws for one op: `rate` (the per-unit rate at this dose, in [0, 1]), `strength`, and uniforms
    in [0, 1) from the sample's own streams (`sub` numbers independent streams of the op; the same (sub, count)
    gives the same values, and the first k of a longer draw equal a draw of k)."""

    def __init__(self, uniform: Any, rate: float, strength: float) -> None:
        self._uniform = uniform
        self.rate = float(rate)
        self.strength = float(strength)

    def uniform(self, count: int, sub: int = 0) -> np.ndarray:
        """`count` uniforms (float64 holding float32 values) of stream `sub`."""
        if count <= 0:
            return np.zeros(0)
        return self._uniform(int(count), int(sub))

    def chosen(self, count: int, sub: int = 0) -> np.ndarray:
        """The units (of `count`) whose uniform of stream `sub` falls below the rate: each with probability rate."""
        return np.flatnonzero(self.uniform(count, sub) < self.rate)

    def pick(self, count: int, sub: int = 0) -> int:
        """One unit of `count`, uniformly (-1 when there is none)."""
        if count <= 0:
            return -1
        return min(int(self.uniform(1, sub)[0] * count), count - 1)


class CodeOp(ABC):
    """One code op. Class attributes: `name` (policy strings), `stream` (a fixed stream number for its draws,
    never reused), `reference_rate` (the per-unit rate at strength 1), `kind` ("rename", "faulty", "rewrite",
    "bug", "format"), `preserving` (whether the output must behave as the input: checked by the verifier)."""

    name: ClassVar[str]
    stream: ClassVar[int]
    reference_rate: ClassVar[float] = 1.0
    kind: ClassVar[str]
    preserving: ClassVar[bool] = False
    language: ClassVar[str] = "python"

    def parse(self, text: str | bytes | PythonSource) -> Any:
        """The source object the op reads (a PythonSource for Python ops); a CodeSyntaxError when it cannot."""
        return read_python(text)

    def sites(self, source: Any) -> int:
        """How many units of `source` the op can edit (0: the op does not apply to it)."""
        return 0

    @abstractmethod
    def edits(self, source: Any, draws: SampleDraws) -> list[Edit]:
        """The edits of `source` for one sample (sorted by start, not overlapping), from its `draws` only."""

    def params(self) -> dict[str, Any]:
        """Parameters that set the op apart from its defaults (for equality and policy strings)."""
        return {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.params() == self.params()

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params().items()))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params()})"
