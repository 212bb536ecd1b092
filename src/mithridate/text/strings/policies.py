"""Text policies: per-sample string noise with a Dose, reproducible per (seed, epoch, sample index).

A policy first draws a plan (per sample: the op, whether the sample is touched, the per-unit rate), then
applies it: each op's kernel edits the units whose draw falls below the rate. One policy per op, and
`text_ta`, TrivialAugment for text: one op of 14 (identity included) and one of 31 strength bins per
sample, uniformly, as torchvision's TrivialAugmentWide draws an op and a magnitude bin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from ...dose import Dose, Schedule, as_schedule, dose_keys, format_number
from ...rng import Key, as_index, new_seed
from ...validation import check_int
from ._edits import Edit, EditedText
from ._engine import edit_batch
from ._tables import KeyboardLayout
from ._units import Protection
from .ops import OPS, TextOp

__all__ = [
    "POLICIES",
    "CasePolicy",
    "CharDeletePolicy",
    "CharInsertPolicy",
    "CharSubstitutePolicy",
    "CharSwapPolicy",
    "MisspellPolicy",
    "OcrPolicy",
    "OpPolicy",
    "TextPlan",
    "TextPolicy",
    "TextTrivialAugment",
    "TypoPolicy",
    "WordCropPolicy",
    "WordDropPolicy",
    "WordRepeatPolicy",
    "WordSplitPolicy",
    "WordSwapPolicy",
    "check_texts",
]

# Streams of the per-sample draws (the unit draws use each op's own stream).
_GATE, _OP, _BIN = 0x7E_0001, 0x7E_0002, 0x7E_0003



def check_texts(texts: object, name: str = "texts") -> list[str]:
    """`texts` as a list of str: a sequence (list, tuple, numpy array) of str, else a TypeError."""
    if isinstance(texts, (str, bytes, bytearray)):
        kind = type(texts).__name__
        raise TypeError(f"{name}: expected a sequence of str (one text per sample), got one {kind}; wrap it in a list")
    if isinstance(texts, np.ndarray):
        texts = texts.tolist() if texts.ndim == 1 else texts
    if not isinstance(texts, Sequence):
        raise TypeError(f"{name}: expected a sequence of str (one text per sample), got {type(texts).__name__}")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}]: expected str, got {type(text).__name__}")
    return out


def _check_int(name: str, value: Any, low: int, high: float = math.inf) -> int:
    return check_int(name, value, low, high)


@dataclass(frozen=True)
class TextPlan:
    """What a policy drew for a batch: per sample the op (an index into `ops`) and the per-unit rate
    (0 = untouched), plus the key and indices from which the unit draws follow."""

    ops: tuple[str, ...]
    op: torch.Tensor
    rate: torch.Tensor
    key: Key
    index: torch.Tensor

    @property
    def num_samples(self) -> int:
        return int(self.op.shape[0])


class TextPolicy:
    """Base of the text policies: `schedule` (the dose over training progress; settable), `seed`,
    `protect` (regular expressions of spans never edited; None = URLs, e-mails and numbers).

    `dose` is a Dose, a Schedule, or a callable of progress; `p` is the chance a sample is touched and
    `strength` scales each op's per-unit rate (1 = the op's reference rate).
    """

    name: ClassVar[str]

    def __init__(
        self,
        *,
        dose: Dose | Schedule | Callable[[float], Dose | float] | None = None,
        seed: int | None = None,
        protect: Sequence[str] | None = None,
    ) -> None:
        self.schedule: Schedule = as_schedule(dose)
        self.seed = new_seed() if seed is None else _check_int("seed", seed, 0)
        self.protect = Protection(protect)
        self.progress = 0.0
        self._calls = 0

    @property
    def dose(self) -> Dose:
        """The dose at the current training progress (`self.progress`)."""
        return self.schedule(self.progress)

    @property
    def ops(self) -> tuple[str, ...]:
        """The ops this policy can draw."""
        return tuple(self._ops)

    _ops: dict[str, TextOp | None]

    # Sampling -----------------------------------------------------------------------------------------

    def _doses(self, progress: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(p, strength) per sample (float64), for one progress or one per sample."""
        if progress is None or (isinstance(progress, (int, float)) and not isinstance(progress, bool)):
            dose = self.schedule(self.progress if progress is None else progress)
            return np.full(n, dose.p), np.full(n, dose.strength)
        if isinstance(progress, torch.Tensor):
            progress = progress.detach().cpu().numpy()
        values = np.asarray(progress)
        if values.shape != (n,) or values.dtype.kind not in "fiu":
            raise ValueError(
                f"progress: expected a number or one number per sample, shape ({n},), "
                f"got {values.dtype} of shape {values.shape}"
            )
        values = values.astype(np.float64)
        if values.size and not ((values >= 0.0) & (values <= 1.0)).all():
            raise ValueError("progress: expected training progress in [0, 1]")
        return self.schedule.doses(values)

    def _draw(self, key: Key, index: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Per sample: the op (index into `ops`) and a factor on the dose's strength."""
        n = index.shape[0]
        return np.zeros(n, dtype=np.int64), np.ones(n)

    def sample(self, n: int, *, index: Any = None, epoch: int = 0, progress: Any = None) -> TextPlan:
        """Draw the plan of a batch of n texts. With `index` (one non-negative integer per sample) a
        sample's draws depend only on (seed, epoch, index); without it a call counter stands in, so that
        repeated calls draw differently. `progress`: one number in [0, 1], or one per sample."""
        n = _check_int("n", n, 0)
        epoch = _check_int("epoch", epoch, 0)
        if index is None:
            key = Key(self.seed, epoch, self._calls)
            self._calls += 1
            index_tensor = torch.arange(n, dtype=torch.int64)
        else:
            key = Key(self.seed, epoch, None)
            index_tensor = as_index(index, n, "cpu")
        p, strength = self._doses(progress, n)
        op, factor = self._draw(key, index_tensor)
        reference = np.array([0.0 if o is None else o.reference_rate for o in self._ops.values()])
        rate = reference[op] * strength * factor if n else np.zeros(0)
        gate = key.uniform(index_tensor, _GATE)[:, 0].numpy() < p if n else np.zeros(0, dtype=bool)
        rate = np.where(gate, np.minimum(rate, 1.0), 0.0)
        return TextPlan(self.ops, torch.from_numpy(op), torch.from_numpy(rate), key, index_tensor)

    # Applying -----------------------------------------------------------------------------------------

    def _run(
        self, texts: list[str], plan: TextPlan, with_edits: bool = True
    ) -> tuple[list[str], list[tuple[Edit, ...]]]:
        """The outputs and edit logs of a plan on checked texts (without `with_edits`: the same outputs,
        and empty logs)."""
        if not isinstance(plan, TextPlan):
            raise TypeError(f"plan: expected a TextPlan from sample(), got {type(plan).__name__}")
        if plan.num_samples != len(texts):
            raise ValueError(f"plan: made for {plan.num_samples} samples, but texts holds {len(texts)}")
        if plan.ops != self.ops:
            raise ValueError(f"plan: drawn over ops {plan.ops}, but this policy has {self.ops}")
        outputs, logs = list(texts), [()] * len(texts)
        op, rate = plan.op.numpy(), plan.rate.numpy()
        for k, text_op in enumerate(self._ops.values()):
            if text_op is None:
                continue
            rows = np.flatnonzero((op == k) & (rate > 0))
            if rows.size == 0:
                continue
            if rows.size == len(texts):  # one op for the whole batch
                outputs, found = edit_batch(
                    text_op, texts, plan.key, plan.index, rate, text_op.stream, with_edits=with_edits
                )
                return outputs, logs if found is None else found
            batch = [texts[i] for i in rows.tolist()]
            index = plan.index[torch.from_numpy(rows)]
            group_outputs, group_logs = edit_batch(
                text_op, batch, plan.key, index, rate[rows], text_op.stream, with_edits=with_edits
            )
            if group_logs is None:
                for i, output in zip(rows.tolist(), group_outputs, strict=True):
                    outputs[i] = output
                continue
            for i, output, edits in zip(rows.tolist(), group_outputs, group_logs, strict=True):
                outputs[i], logs[i] = output, edits
        return outputs, logs

    def apply(self, texts: Sequence[str], plan: TextPlan) -> list[EditedText]:
        """Apply a plan (from `sample`) to texts: each output with its edit log."""
        texts = check_texts(texts)
        outputs, logs = self._run(texts, plan)
        return [EditedText(*item) for item in zip(texts, outputs, logs, strict=True)]

    def augment(
        self, texts: Sequence[str], *, index: Any = None, epoch: int = 0, progress: Any = None
    ) -> list[EditedText]:
        """Noisy texts with their edit logs (`EditedText`: output, edits, source index, span mapping)."""
        texts = check_texts(texts)
        return self.apply(texts, self.sample(len(texts), index=index, epoch=epoch, progress=progress))

    def __call__(self, texts: Sequence[str], *, index: Any = None, epoch: int = 0, progress: Any = None) -> list[str]:
        """Noisy texts: each sample draws its own op and edits, reproducibly (see `sample`)."""
        texts = check_texts(texts)
        plan = self.sample(len(texts), index=index, epoch=epoch, progress=progress)
        return self._run(texts, plan, with_edits=False)[0]

    # Description --------------------------------------------------------------------------------------

    def _own_params(self) -> list[tuple[str, Any, Any]]:
        """(string key, value, default) of the policy's own parameters, for the policy string."""
        return []

    def __str__(self) -> str:
        """The policy string (`policy_string`'s grammar, defaults omitted); a scheduled dose is not part of it."""
        parts = [self.name]
        for key, value, default in self._own_params():
            if value != default:
                parts.append(f"{key}{format_number(value) if isinstance(value, float) else value}")
        parts += dose_keys(self.schedule)
        return "-".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, seed={self.seed})"

    def __eq__(self, other: object) -> bool:
        return (
            type(self) is type(other)
            and str(self) == str(other)
            and self.seed == other.seed  # type: ignore[attr-defined]
            and self._ops == other._ops  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, str(self), self.seed))


class OpPolicy(TextPolicy):
    """One op for every touched sample, at the dose's strength times the op's reference rate."""

    op_class: ClassVar[type[TextOp]]

    def __init__(self, **kwargs: Any) -> None:
        op_kwargs = {k: kwargs.pop(k) for k in self._op_keywords() if k in kwargs}
        super().__init__(**kwargs)
        self.op = self.op_class(self.protect, **op_kwargs)
        self._ops = {self.name: self.op}

    @classmethod
    def _op_keywords(cls) -> tuple[str, ...]:
        return ()


class TypoPolicy(OpPolicy):
    """Keyboard typos: a letter replaced by a neighbouring key. `layout`: qwerty, azerty, qwertz, a
    `KeyboardLayout` or a mapping key -> neighbours."""

    name = "typo"
    op_class = OPS["typo"]

    def __init__(self, layout: str | KeyboardLayout | Mapping[str, str] = "qwerty", **kwargs: Any) -> None:
        super().__init__(layout=layout, **kwargs)

    @classmethod
    def _op_keywords(cls) -> tuple[str, ...]:
        return ("layout",)

    def _own_params(self) -> list[tuple[str, Any, Any]]:
        layout = self.op.layout  # type: ignore[attr-defined]
        return [("l", layout, "qwerty")] if isinstance(layout, str) else []


class OcrPolicy(OpPolicy):
    """OCR confusions; `table`: source -> confusions (default `OCR_CONFUSIONS`)."""

    name = "ocr"
    op_class = OPS["ocr"]

    def __init__(self, table: Mapping[str, Sequence[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(table=table, **kwargs)

    @classmethod
    def _op_keywords(cls) -> tuple[str, ...]:
        return ("table",)


class CharInsertPolicy(OpPolicy):
    """Random letters inserted after letters (digits after digits)."""

    name = "char_insert"
    op_class = OPS["char_insert"]


class CharDeletePolicy(OpPolicy):
    """Letters and digits deleted."""

    name = "char_delete"
    op_class = OPS["char_delete"]


class CharSwapPolicy(OpPolicy):
    """Adjacent letters or digits swapped."""

    name = "char_swap"
    op_class = OPS["char_swap"]


class CharSubstitutePolicy(OpPolicy):
    """Letters replaced by random other letters (digits by digits)."""

    name = "char_substitute"
    op_class = OPS["char_substitute"]


class CasePolicy(OpPolicy):
    """Letters' case flipped."""

    name = "case"
    op_class = OPS["case"]


class MisspellPolicy(OpPolicy):
    """Words replaced by natural misspellings (codespell's dictionary; needs `mithridate[text]`)."""

    name = "misspell"
    op_class = OPS["misspell"]


class WordDropPolicy(OpPolicy):
    """Tokens dropped with one adjacent whitespace run."""

    name = "word_drop"
    op_class = OPS["word_drop"]


class WordSwapPolicy(OpPolicy):
    """Tokens swapped with the next one."""

    name = "word_swap"
    op_class = OPS["word_swap"]


class WordSplitPolicy(OpPolicy):
    """Tokens split in two by a space."""

    name = "word_split"
    op_class = OPS["word_split"]


class WordRepeatPolicy(OpPolicy):
    """Tokens repeated."""

    name = "word_repeat"
    op_class = OPS["word_repeat"]


class WordCropPolicy(OpPolicy):
    """A random contiguous window of tokens kept."""

    name = "word_crop"
    op_class = OPS["word_crop"]


class TextTrivialAugment(TextPolicy):
    """TrivialAugment for text: per sample one op of `ops` (default identity and the 13 string ops) and
    one of `num_magnitude_bins` strength bins, both uniform; bin b of B scales the op's rate by
    dose.strength x b / (B - 1), as TrivialAugmentWide's bins span [0, published magnitude]."""

    name = "text_ta"
    DEFAULT_OPS: ClassVar[tuple[str, ...]] = ("identity", *OPS)

    def __init__(
        self, ops: Sequence[str] | None = None, num_magnitude_bins: int = 31, layout: Any = "qwerty", **kwargs: Any
    ) -> None:
        names = self.DEFAULT_OPS if ops is None else ops
        if isinstance(names, str) or not isinstance(names, Sequence) or not names:
            raise TypeError(f"ops: expected a non-empty sequence of op names, got {names!r}")
        valid = ("identity", *OPS)
        for name in names:
            if name not in valid:
                raise ValueError(f"ops: unknown op {name!r}; expected names among {', '.join(valid)}")
        if len(set(names)) != len(names):
            raise ValueError(f"ops: an op is listed twice in {tuple(names)}")
        self.num_magnitude_bins = _check_int("num_magnitude_bins", num_magnitude_bins, 2)
        super().__init__(**kwargs)
        self.layout = layout
        built: dict[str, TextOp | None] = {}
        for name in names:
            if name == "identity":
                built[name] = None
            elif name == "typo":
                built[name] = OPS[name](self.protect, layout=layout)  # type: ignore[call-arg]
            elif name == "misspell":
                try:
                    built[name] = OPS[name](self.protect)
                except ImportError as error:
                    raise ImportError(f"text_ta: {error}; or leave misspell out of ops") from None
            else:
                built[name] = OPS[name](self.protect)
        self._ops = built

    def _draw(self, key: Key, index: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        n, bins = index.shape[0], self.num_magnitude_bins
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        op = key.integers(index, _OP, len(self._ops))[:, 0].numpy()
        level = key.integers(index, _BIN, bins)[:, 0].numpy()
        return op, level / (bins - 1)

    def _own_params(self) -> list[tuple[str, Any, Any]]:
        params: list[tuple[str, Any, Any]] = [("b", self.num_magnitude_bins, 31)]
        if self.ops != self.DEFAULT_OPS:
            params.append(("o", "+".join(self.ops), None))
        if isinstance(self.layout, str):
            params.append(("l", self.layout, "qwerty"))
        return params


POLICIES: dict[str, type[TextPolicy]] = {
    "typo": TypoPolicy,
    "ocr": OcrPolicy,
    "char_insert": CharInsertPolicy,
    "char_delete": CharDeletePolicy,
    "char_swap": CharSwapPolicy,
    "char_substitute": CharSubstitutePolicy,
    "case": CasePolicy,
    "misspell": MisspellPolicy,
    "word_drop": WordDropPolicy,
    "word_swap": WordSwapPolicy,
    "word_split": WordSplitPolicy,
    "word_repeat": WordRepeatPolicy,
    "word_crop": WordCropPolicy,
    "text_ta": TextTrivialAugment,
}
"""Policy name -> class: one per op, and text_ta."""
