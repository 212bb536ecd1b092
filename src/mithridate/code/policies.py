"""Code policies: per-sample code noise with a Dose, reproducible per (seed, epoch, sample index).

A policy draws, per sample, whether it is touched (probability p), the op (one op, or one of several for the
code TrivialAugment) and a strength factor, then runs the op's kernel on the parsed source with the sample's own
keyed draws. Sources are parsed one by one (the cost of any tokenize-based tool); the draws never depend on the
batch. A source an op cannot read raises a CodeSyntaxError, or with `on_error="pass"` comes back unchanged with
the error noted (`EditedCode.error`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from ..dose import Dose, Schedule, as_schedule, dose_keys, format_number
from ..rng import Key, as_index, new_seed
from ..text.strings import Edit, apply_edits, map_span, source_index
from ..validation import check_int
from .ops import CodeOp, SampleDraws
from .python.rename import OPS as RENAME_OPS
from .python.rewrites import OPS as REWRITE_OPS
from .python.source import CodeSyntaxError, check_sources, decode_source

__all__ = ["CodePlan", "CodePolicy", "CodeTrivialAugment", "EditedCode", "OpPolicy"]

# Streams of the per-sample draws (each op draws its units from its own `stream`).
_GATE, _OP, _BIN = 0xC0_0001, 0xC0_0002, 0xC0_0003
_BINS = 31

# Op parameter -> key letter in the policy strings (`policy_string` parses them). Letters follow the text policies
# (k/d/b for XLM's noise).
KEY_LETTERS: dict[str, str] = {
    "style": "y",
    "rename_parameters": "n",
    "word_shuffle": "k",
    "word_dropout": "d",
    "word_blank": "b",
    "mask": "m",
    "noise_density": "r",
    "mean_span_length": "l",
    "mode": "x",
    "language": "g",
}
# The ops `code_ta` draws from by default (renaming and the preserving rewrites), which its string leaves out;
# `catalog` exports them with the other op tables.
CODE_TA_OPS: tuple[str, ...] = (*RENAME_OPS, *REWRITE_OPS)


def _format(value: Any) -> str:
    """A parameter's value in a policy string."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return format_number(value)
    return str(value)


@dataclass(frozen=True, slots=True)
class EditedCode:
    """A noised source with its edit log: `original`, `text` (= the original with `edits` applied), the `op`
    that ran (None: untouched) and `error` (why the op could not read the source, with on_error="pass")."""

    original: str
    text: str
    edits: tuple[Edit, ...]
    op: str | None = None
    error: str | None = None

    def source_index(self) -> np.ndarray:
        """Per output character, its position in the original (int64), -1 for inserted characters."""
        return source_index(len(self.original), self.edits)

    def map_span(self, start: int, end: int) -> tuple[int, int]:
        """Where the original's span [start, end) is in the output (labels, bug locations)."""
        return map_span(len(self.original), self.edits, start, end)

    @property
    def changed(self) -> bool:
        return bool(self.edits)


@dataclass(frozen=True)
class CodePlan:
    """What a policy drew for a batch: per sample the op (an index into `ops`, -1 untouched) and the strength,
    plus the key and indices from which each sample's unit draws follow."""

    ops: tuple[str, ...]
    op: torch.Tensor
    strength: torch.Tensor
    key: Key
    index: torch.Tensor

    @property
    def num_samples(self) -> int:
        return int(self.op.shape[0])


def _check_int(name: str, value: Any, low: int) -> int:
    return check_int(name, value, low)


class CodePolicy:
    """Base of the code policies: `dose` (Dose, Schedule or callable of progress), `seed`, `on_error` ("raise":
    a source the op cannot read raises CodeSyntaxError; "pass": it comes back unchanged with the error noted)."""

    name: ClassVar[str]
    _ops: dict[str, CodeOp]

    def __init__(
        self,
        *,
        dose: Dose | Schedule | Callable[[float], Dose | float] | None = None,
        seed: int | None = None,
        on_error: str = "raise",
    ) -> None:
        self.schedule: Schedule = as_schedule(dose)
        self.seed = new_seed() if seed is None else _check_int("seed", seed, 0)
        if on_error not in ("raise", "pass"):
            raise ValueError(f"on_error: expected 'raise' or 'pass', got {on_error!r}")
        self.on_error = on_error
        self.progress = 0.0
        self._calls = 0

    @property
    def dose(self) -> Dose:
        """The dose at the current training progress."""
        return self.schedule(self.progress)

    @property
    def ops(self) -> tuple[str, ...]:
        return tuple(self._ops)

    # Sampling -------------------------------------------------------------------------------------------------

    def _draw(self, key: Key, index: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Per sample: the op (index into `ops`) and a factor on the dose's strength."""
        n = index.shape[0]
        return np.zeros(n, dtype=np.int64), np.ones(n)

    def sample(self, n: int, *, index: Any = None, epoch: int = 0, progress: float | None = None) -> CodePlan:
        """The plan of a batch of n sources. With `index` (one non-negative integer per sample) a sample's draws
        depend only on (seed, epoch, index); without it a call counter stands in."""
        n = _check_int("n", n, 0)
        epoch = _check_int("epoch", epoch, 0)
        if index is None:
            key = Key(self.seed, epoch, self._calls)
            self._calls += 1
            index_tensor = torch.arange(n, dtype=torch.int64)
        else:
            key = Key(self.seed, epoch, None)
            index_tensor = as_index(index, n, "cpu")
        dose = self.schedule(self.progress if progress is None else progress)
        op, factor = self._draw(key, index_tensor)
        gate = key.uniform(index_tensor, _GATE)[:, 0].numpy() < dose.p if n else np.zeros(0, dtype=bool)
        strength = dose.strength * factor
        op = np.where(gate & (strength > 0), op, -1)
        return CodePlan(self.ops, torch.from_numpy(op), torch.from_numpy(np.asarray(strength, np.float64)), key,
                        index_tensor)  # fmt: skip

    # Applying -------------------------------------------------------------------------------------------------

    def apply(self, sources: Sequence[str | bytes], plan: CodePlan) -> list[EditedCode]:
        """Apply a plan from `sample`: each output with its edit log."""
        items = check_sources(sources)
        if not isinstance(plan, CodePlan):
            raise TypeError(f"plan: expected a CodePlan from sample(), got {type(plan).__name__}")
        if plan.num_samples != len(items) or plan.ops != self.ops:
            raise ValueError(f"plan: drawn for {plan.num_samples} samples over {plan.ops}, applied to {len(items)} "
                             f"sources by a policy over {self.ops}")  # fmt: skip
        ops = list(self._ops.values())
        out = []
        for i, item in enumerate(items):
            k = int(plan.op[i])
            out.append(self._one(item, None if k < 0 else ops[k], plan, i))
        return out

    def _one(self, item: str | bytes, op: CodeOp | None, plan: CodePlan, i: int) -> EditedCode:
        try:
            text = decode_source(bytes(item)) if isinstance(item, (bytes, bytearray)) else item
            if op is None:
                return EditedCode(text, text, ())
            source = op.parse(text)
            strength = float(plan.strength[i])
            rate = min(max(op.reference_rate * strength, 0.0), 1.0)  # the per-unit rate, linear in the strength
            sample_index = plan.index[i : i + 1]

            def uniform(count: int, sub: int, stream: int = op.stream) -> np.ndarray:
                return plan.key.uniform(sample_index, stream, count, sub=sub)[0].numpy().astype(np.float64)

            edits = tuple(op.edits(source, SampleDraws(uniform, rate, strength)))
        except CodeSyntaxError as error:
            if self.on_error == "raise":
                raise CodeSyntaxError(f"sources[{i}]: {error}") from None
            text = item if isinstance(item, str) else item.decode("utf-8", errors="replace")
            return EditedCode(text, text, (), None if op is None else op.name, str(error))
        return EditedCode(text, apply_edits(text, edits), edits, op.name)

    def augment(
        self, sources: Sequence[str | bytes], *, index: Any = None, epoch: int = 0, progress: float | None = None
    ) -> list[EditedCode]:
        """Noised sources with their edit logs."""
        items = check_sources(sources)
        return self.apply(items, self.sample(len(items), index=index, epoch=epoch, progress=progress))

    def __call__(
        self, sources: Sequence[str | bytes], *, index: Any = None, epoch: int = 0, progress: float | None = None
    ) -> list[str]:
        """Noised sources: each sample draws its own op and edits, reproducibly (see `sample`)."""
        return [out.text for out in self.augment(sources, index=index, epoch=epoch, progress=progress)]

    def _own_string(self) -> list[str]:
        """The name and own keys of the policy string (`OpPolicy`: the op and its parameters; `code_ta`: the ops)."""
        raise TypeError(f"policy: expected an OpPolicy or CodeTrivialAugment, got {type(self).__name__}")

    def __str__(self) -> str:
        """The policy string (`policy_string`'s grammar, defaults omitted); a scheduled dose is not part of it."""
        parts = self._own_string()
        parts += dose_keys(self.schedule)
        return "-".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, seed={self.seed})"


class OpPolicy(CodePolicy):
    """One op at the dose: `p` is the chance a sample is touched, `strength` scales the op's per-unit rate."""

    def __init__(self, op: CodeOp, **kwargs: Any) -> None:
        if not isinstance(op, CodeOp):
            raise TypeError(f"op: expected a CodeOp, got {type(op).__name__}")
        super().__init__(**kwargs)
        self.op = op
        self.name = op.name
        self._ops = {op.name: op}

    def _own_string(self) -> list[str]:
        return [self.name] + [f"{KEY_LETTERS[name]}{_format(value)}" for name, value in self.op.params().items()]


class CodeTrivialAugment(CodePolicy):
    """TrivialAugment for code: per sample one op of `ops`, uniformly, and one of 31 strength bins in [0, 1] x the
    dose's strength (as torchvision's TrivialAugmentWide draws an op and a magnitude bin)."""

    name = "code_ta"

    def __init__(self, ops: Sequence[CodeOp], **kwargs: Any) -> None:
        ops = list(ops)
        if not ops or not all(isinstance(op, CodeOp) for op in ops):
            raise TypeError("ops: expected a non-empty sequence of CodeOp")
        names = [op.name for op in ops]
        if len(set(names)) != len(names):
            raise ValueError(f"ops: expected distinct ops, got {names}")
        super().__init__(**kwargs)
        self._ops = dict(zip(names, ops, strict=True))

    def _own_string(self) -> list[str]:
        return [self.name] if self.ops == CODE_TA_OPS else [self.name, "o" + "+".join(self.ops)]

    def _draw(self, key: Key, index: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        n = index.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        op = key.integers(index, _OP, len(self._ops))[:, 0].numpy()
        bins = key.integers(index, _BIN, _BINS)[:, 0].numpy()
        return op, bins / (_BINS - 1)
