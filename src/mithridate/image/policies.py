"""Per-sample auto-augment policies: TrivialAugmentWide, RandAugment, AutoAugment and AugMix.

Each policy first draws a plan (per sample: ops, magnitudes, and mixing weights for AugMix) from
counter-based randomness, then applies it with batched kernels. The magnitude spaces and sub-policies
are torchvision's (`transforms.v2._auto_augment`); what differs is that every sample of a batch draws
its own op and magnitude, and that a `Dose` sets how often (p) and how strongly (strength) it happens.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, ClassVar

import torch

from ..dose import Dose, Schedule, as_schedule, dose_keys, format_number
from ..rng import Key, as_index, new_seed
from ..validation import check_int
from .adapters import to_batch
from .executor import apply_plan, draws_on_host
from .functional import INTERPOLATIONS
from .ops import OP_IDS, scale_magnitudes
from .plan import Plan

__all__ = ["AUTOAUGMENT_POLICIES", "AugMix", "AutoAugment", "Policy", "RandAugment", "TrivialAugmentWide"]

# Streams: what each draw is for. A sample's op choice does not depend on p or strength, so doses share
# their random numbers (common random numbers make dose-response curves smoother).
_GATE, _OP, _BIN, _SIGN, _SUBPOLICY, _APPLY, _DEPTH, _BETA, _DIRICHLET = range(1, 10)

SpaceFn = Callable[[int, int, int], torch.Tensor | None]
Space = dict[str, tuple[SpaceFn, bool]]



def _linspace(stop: float) -> SpaceFn:
    return lambda bins, height, width: torch.linspace(0.0, stop, bins)


def _posterize(top_bits: int, span: float) -> SpaceFn:
    return lambda bins, height, width: (top_bits - (torch.arange(bins) / ((bins - 1) / span))).round().int()


def _none(bins: int, height: int, width: int) -> None:
    return None


_SOLARIZE: SpaceFn = lambda bins, height, width: torch.linspace(1.0, 0.0, bins)  # noqa: E731

# torchvision's magnitude spaces: op name -> (magnitudes(num_bins, height, width), signed).
TRIVIAL_WIDE_SPACE: Space = {
    "Identity": (_none, False),
    "ShearX": (_linspace(0.99), True),
    "ShearY": (_linspace(0.99), True),
    "TranslateX": (_linspace(32.0), True),
    "TranslateY": (_linspace(32.0), True),
    "Rotate": (_linspace(135.0), True),
    "Brightness": (_linspace(0.99), True),
    "Color": (_linspace(0.99), True),
    "Contrast": (_linspace(0.99), True),
    "Sharpness": (_linspace(0.99), True),
    "Posterize": (_posterize(8, 6), False),
    "Solarize": (_SOLARIZE, False),
    "AutoContrast": (_none, False),
    "Equalize": (_none, False),
}
_AUTO_SPACE: Space = {
    "ShearX": (_linspace(0.3), True),
    "ShearY": (_linspace(0.3), True),
    "TranslateX": (lambda bins, height, width: torch.linspace(0.0, 150.0 / 331.0 * width, bins), True),
    "TranslateY": (lambda bins, height, width: torch.linspace(0.0, 150.0 / 331.0 * height, bins), True),
    "Rotate": (_linspace(30.0), True),
    "Brightness": (_linspace(0.9), True),
    "Color": (_linspace(0.9), True),
    "Contrast": (_linspace(0.9), True),
    "Sharpness": (_linspace(0.9), True),
    "Posterize": (_posterize(8, 4), False),
    "Solarize": (_SOLARIZE, False),
    "AutoContrast": (_none, False),
    "Equalize": (_none, False),
    "Invert": (_none, False),
}
RAND_SPACE: Space = {"Identity": (_none, False), **{k: v for k, v in _AUTO_SPACE.items() if k != "Invert"}}
_AUGMIX_PARTIAL_SPACE: Space = {
    "ShearX": (_linspace(0.3), True),
    "ShearY": (_linspace(0.3), True),
    "TranslateX": (lambda bins, height, width: torch.linspace(0.0, width / 3.0, bins), True),
    "TranslateY": (lambda bins, height, width: torch.linspace(0.0, height / 3.0, bins), True),
    "Rotate": (_linspace(30.0), True),
    "Posterize": (_posterize(4, 4), False),
    "Solarize": (_SOLARIZE, False),
    "AutoContrast": (_none, False),
    "Equalize": (_none, False),
}
AUGMIX_SPACE: Space = {
    **_AUGMIX_PARTIAL_SPACE,
    "Brightness": (_linspace(0.9), True),
    "Color": (_linspace(0.9), True),
    "Contrast": (_linspace(0.9), True),
    "Sharpness": (_linspace(0.9), True),
}

SubPolicy = tuple[tuple[str, float, int | None], tuple[str, float, int | None]]
AUTOAUGMENT_POLICIES: dict[str, list[SubPolicy]] = {
    "imagenet": [
        (("Posterize", 0.4, 8), ("Rotate", 0.6, 9)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
        (("Posterize", 0.6, 7), ("Posterize", 0.6, 6)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Equalize", 0.4, None), ("Rotate", 0.8, 8)),
        (("Solarize", 0.6, 3), ("Equalize", 0.6, None)),
        (("Posterize", 0.8, 5), ("Equalize", 1.0, None)),
        (("Rotate", 0.2, 3), ("Solarize", 0.6, 8)),
        (("Equalize", 0.6, None), ("Posterize", 0.4, 6)),
        (("Rotate", 0.8, 8), ("Color", 0.4, 0)),
        (("Rotate", 0.4, 9), ("Equalize", 0.6, None)),
        (("Equalize", 0.0, None), ("Equalize", 0.8, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Rotate", 0.8, 8), ("Color", 1.0, 2)),
        (("Color", 0.8, 8), ("Solarize", 0.8, 7)),
        (("Sharpness", 0.4, 7), ("Invert", 0.6, None)),
        (("ShearX", 0.6, 5), ("Equalize", 1.0, None)),
        (("Color", 0.4, 0), ("Equalize", 0.6, None)),
        (("Equalize", 0.4, None), ("Solarize", 0.2, 4)),
        (("Solarize", 0.6, 5), ("AutoContrast", 0.6, None)),
        (("Invert", 0.6, None), ("Equalize", 1.0, None)),
        (("Color", 0.6, 4), ("Contrast", 1.0, 8)),
        (("Equalize", 0.8, None), ("Equalize", 0.6, None)),
    ],
    "cifar10": [
        (("Invert", 0.1, None), ("Contrast", 0.2, 6)),
        (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9)),
        (("Sharpness", 0.8, 1), ("Sharpness", 0.9, 3)),
        (("ShearY", 0.5, 8), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.5, None), ("Equalize", 0.9, None)),
        (("ShearY", 0.2, 7), ("Posterize", 0.3, 7)),
        (("Color", 0.4, 3), ("Brightness", 0.6, 7)),
        (("Sharpness", 0.3, 9), ("Brightness", 0.7, 9)),
        (("Equalize", 0.6, None), ("Equalize", 0.5, None)),
        (("Contrast", 0.6, 7), ("Sharpness", 0.6, 5)),
        (("Color", 0.7, 7), ("TranslateX", 0.5, 8)),
        (("Equalize", 0.3, None), ("AutoContrast", 0.4, None)),
        (("TranslateY", 0.4, 3), ("Sharpness", 0.2, 6)),
        (("Brightness", 0.9, 6), ("Color", 0.2, 8)),
        (("Solarize", 0.5, 2), ("Invert", 0.0, None)),
        (("Equalize", 0.2, None), ("AutoContrast", 0.6, None)),
        (("Equalize", 0.2, None), ("Equalize", 0.6, None)),
        (("Color", 0.9, 9), ("Equalize", 0.6, None)),
        (("AutoContrast", 0.8, None), ("Solarize", 0.2, 8)),
        (("Brightness", 0.1, 3), ("Color", 0.7, 0)),
        (("Solarize", 0.4, 5), ("AutoContrast", 0.9, None)),
        (("TranslateY", 0.9, 9), ("TranslateY", 0.7, 9)),
        (("AutoContrast", 0.9, None), ("Solarize", 0.8, 3)),
        (("Equalize", 0.8, None), ("Invert", 0.1, None)),
        (("TranslateY", 0.7, 9), ("AutoContrast", 0.9, None)),
    ],
    "svhn": [
        (("ShearX", 0.9, 4), ("Invert", 0.2, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.6, None), ("Solarize", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("AutoContrast", 0.8, None)),
        (("ShearY", 0.9, 8), ("Invert", 0.4, None)),
        (("ShearY", 0.9, 5), ("Solarize", 0.2, 6)),
        (("Invert", 0.9, None), ("AutoContrast", 0.8, None)),
        (("Equalize", 0.6, None), ("Rotate", 0.9, 3)),
        (("ShearX", 0.9, 4), ("Solarize", 0.3, 3)),
        (("ShearY", 0.8, 8), ("Invert", 0.7, None)),
        (("Equalize", 0.9, None), ("TranslateY", 0.6, 6)),
        (("Invert", 0.9, None), ("Equalize", 0.6, None)),
        (("Contrast", 0.3, 3), ("Rotate", 0.8, 4)),
        (("Invert", 0.8, None), ("TranslateY", 0.0, 2)),
        (("ShearY", 0.7, 6), ("Solarize", 0.4, 8)),
        (("Invert", 0.6, None), ("Rotate", 0.8, 4)),
        (("ShearY", 0.3, 7), ("TranslateX", 0.9, 3)),
        (("ShearX", 0.1, 6), ("Invert", 0.6, None)),
        (("Solarize", 0.7, 2), ("TranslateY", 0.6, 7)),
        (("ShearY", 0.8, 4), ("Invert", 0.8, None)),
        (("ShearX", 0.7, 9), ("TranslateY", 0.8, 3)),
        (("ShearY", 0.8, 5), ("AutoContrast", 0.7, None)),
        (("ShearX", 0.7, 2), ("Invert", 0.1, None)),
    ],
}


_TABLES: dict[tuple, tuple[torch.Tensor, ...]] = {}


def space_table(
    space: Space, bins: int, height: int, width: int, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """An op space as tensors: global op ids (K,), magnitudes (K, bins) float32, signed flags (K,).

    Ops without a magnitude get 1, the full amount (see `mithridate.image.ops`); Identity gets 0.
    Tables are cached per (space, bins, size, device): spaces are module constants.
    """
    key = (id(space), bins, height, width, str(device))
    if key not in _TABLES:
        ids, rows, signed = [], [], []
        for name, (magnitudes, is_signed) in space.items():
            values = magnitudes(bins, height, width)
            if values is None:
                values = torch.full((bins,), 0.0 if name == "Identity" else 1.0)
            ids.append(OP_IDS[name])
            rows.append(values.to(torch.float32))
            signed.append(is_signed)
        tables = (torch.tensor(ids), torch.stack(rows), torch.tensor(signed))
        if len(_TABLES) > 256:
            _TABLES.clear()
        _TABLES[key] = tuple(t.to(device) for t in tables)  # type: ignore[assignment]
    return _TABLES[key]


class _PerSampleScaled:
    """Stands in for a scaled table when each sample has its own strength (one per sample, float32): an
    entry looked up for sample i (samples first in every lookup) is scaled by strength[i] on the spot,
    which gives what the table scaled at that strength would hold, bit for bit."""

    def __init__(self, ops: torch.Tensor, table: torch.Tensor, strength: torch.Tensor) -> None:
        self.ops, self.table, self.strength = ops.expand_as(table), table, strength

    def __getitem__(self, where: Any) -> torch.Tensor:
        values = self.table[where]
        strength = self.strength.view(-1, *([1] * (values.dim() - 1)))
        return scale_magnitudes(self.ops[where], values, strength)  # type: ignore[arg-type]


def scaled_table(
    cache_key: tuple, ops: torch.Tensor, table: torch.Tensor, strength: float | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """A table of published magnitudes (op ids `ops` broadcast to its shape) at a strength, for both signs:
    `scale_magnitudes` of the table and of its negation, computed once per (table, strength) and cached.

    Scaling is elementwise in (op, magnitude), so looking up a scaled entry gives what scaling the drawn
    magnitude would, bit for bit, for a dozen fewer kernel launches per batch. A strength per sample (a
    float32 tensor) gets `_PerSampleScaled` lookups instead, which scale what they look up.
    """
    if isinstance(strength, torch.Tensor):
        return _PerSampleScaled(ops, table, strength), _PerSampleScaled(ops, -table, strength)  # type: ignore[return-value]
    key = ("scaled", *cache_key, float(strength))
    if key not in _TABLES:
        ops = ops.expand_as(table)
        if len(_TABLES) > 256:
            _TABLES.clear()
        _TABLES[key] = (scale_magnitudes(ops, table, strength), scale_magnitudes(ops, -table, strength))
    return _TABLES[key]  # type: ignore[return-value]


def _check_int(name: str, value: Any, low: int, high: float = math.inf) -> int:
    return check_int(name, value, low, high)


def _check_fill(fill: Any) -> float | tuple[float, ...] | None:
    if fill is None:
        return None
    if isinstance(fill, (int, float)) and not isinstance(fill, bool):
        return float(fill)
    if isinstance(fill, Sequence) and len(fill) in (1, 3) and all(isinstance(v, (int, float)) for v in fill):
        return tuple(float(v) for v in fill)
    raise ValueError(f"fill: expected None, a number or one number per colour channel (1 or 3), got {fill!r}")


class Policy(ABC):
    """Base of the per-sample policies: dose, seed, fill and interpolation; sample a plan, then apply it.

    `dose` is a Dose, a Schedule over training progress, or a callable of progress; `seed` an integer
    (None draws one from the OS, readable afterwards as `policy.seed`); `fill` the value of pixels
    from outside the image (None = 0, or a number or one per channel, in the image's value units).
    """

    name: ClassVar[str]
    default_interpolation: ClassVar[str] = "nearest"

    def __init__(
        self,
        *,
        dose: Dose | Schedule | Callable[[float], Dose | float] | None = None,
        seed: int | None = None,
        fill: float | Sequence[float] | None = None,
        interpolation: str | None = None,
    ) -> None:
        self.schedule = as_schedule(dose)
        self.seed = new_seed() if seed is None else _check_int("seed", seed, 0)
        self.fill = _check_fill(fill)
        interpolation = self.default_interpolation if interpolation is None else interpolation
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation: expected one of {', '.join(INTERPOLATIONS)}, got {interpolation!r}")
        self.interpolation = interpolation
        self.progress = 0.0
        self._calls = 0

    @property
    def dose(self) -> Dose:
        """The dose at the current training progress."""
        return self.schedule(self.progress)

    # Sampling -----------------------------------------------------------------------------------------

    @abstractmethod
    def _draw(
        self, key: Key, index: torch.Tensor, height: int, width: int, strength: float | torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Ops (N, W, D), magnitudes (N, W, D) at `strength` (`scale_magnitudes` of the published ones,
        float32; one strength, or one per sample as a float32 tensor, looked up through `scaled_table`) and
        weights (N, W + 1) or None, for every sample (the dose's p gates them afterwards)."""

    def _doses(
        self, progress: float | torch.Tensor | None, n: int, device: torch.device
    ) -> tuple[float | torch.Tensor, float | torch.Tensor]:
        """The dose's (p, strength) at `progress`: numbers for one progress, float32 tensors (n,) on `device`
        for one progress per sample (the schedule is evaluated once per distinct value, on the host).

        Progress per sample lets a sampler give each sample the progress at which it was drawn, so a ramping
        dose does not depend on the batch size. Where every sample gets the same dose, numbers come back, and
        the draws are those of a call with that one progress.
        """
        if not isinstance(progress, torch.Tensor):
            dose = self.schedule(self.progress if progress is None else progress)
            return dose.p, dose.strength
        if progress.shape != (n,) or not progress.dtype.is_floating_point:
            raise ValueError(
                f"progress: expected a number or a floating tensor of one progress per sample, shape ({n},), "
                f"got {progress.dtype} of shape {tuple(progress.shape)}"
            )
        values = progress.detach().to("cpu", torch.float64).numpy()
        if values.size and not ((values >= 0.0) & (values <= 1.0)).all():  # NaN fails too
            raise ValueError(f"progress: expected training progress in [0, 1], got values from {values.min()}")
        p, strength = self.schedule.doses(values)
        if p.size == 0 or ((p == p[0]).all() and (strength == strength[0]).all()):
            dose = self.schedule(self.progress) if p.size == 0 else Dose(float(p[0]), float(strength[0]))
            return dose.p, dose.strength
        as_tensor = partial(torch.tensor, dtype=torch.float32, device=device)
        return as_tensor(p), as_tensor(strength)

    def sample(
        self,
        n: int,
        size: tuple[int, int],
        *,
        index: Any = None,
        epoch: int = 0,
        progress: float | torch.Tensor | None = None,
        device: torch.device | str | None = None,
    ) -> Plan:
        """Draw the plan of a batch of n images of `size` (H, W).

        With `index` (one non-negative integer per sample, e.g. dataset indices) each sample's draws
        depend only on (seed, epoch, index): the batch split does not matter. Without it, a call
        counter stands in, so that repeated calls draw differently. `progress` (training progress in
        [0, 1] for the dose schedule; None = `self.progress`) is one number, or a tensor of one per sample.
        """
        n = _check_int("n", n, 0)
        height, width = (_check_int("size", int(v), 0) for v in size)
        epoch = _check_int("epoch", epoch, 0)
        if index is None:
            key = Key(self.seed, epoch, self._calls)
            self._calls += 1
            index_tensor = torch.arange(n, device=device)
        else:
            key = Key(self.seed, epoch, None)
            index_tensor = as_index(index, n, device)
        p, strength = self._doses(progress, n, index_tensor.device)
        ops, magnitudes, weights = self._draw(key, index_tensor, height, width, strength)
        if isinstance(p, torch.Tensor):  # a dose per sample
            gate = (key.uniform(index_tensor, _GATE)[:, 0] < p) & (strength != 0.0)
        elif p >= 1.0 and strength != 0.0:
            return Plan.drawn(ops, magnitudes, weights)  # every gate is open: uniforms lie in [0, 1)
        else:
            gate = key.uniform(index_tensor, _GATE)[:, 0] < p
            if strength == 0.0:
                gate = torch.zeros_like(gate)
        ops = torch.where(gate.view(-1, 1, 1), ops, torch.zeros_like(ops))
        magnitudes = torch.where(gate.view(-1, 1, 1), magnitudes, torch.zeros_like(magnitudes))
        if weights is not None:
            untouched = torch.zeros_like(weights)
            untouched[:, 0] = 1.0
            weights = torch.where(gate.view(-1, 1), weights, untouched)
        return Plan.drawn(ops, magnitudes, weights)

    # Applying -----------------------------------------------------------------------------------------

    def apply(self, images: Any, plan: Plan) -> Any:
        """Apply a plan to images of any supported kind; the result keeps the input's type and layout."""
        if not isinstance(plan, Plan):
            raise TypeError(f"plan: expected a Plan from sample(), got {type(plan).__name__}")
        batch = to_batch(images)
        if plan.num_samples != len(batch):
            raise ValueError(f"plan: made for {plan.num_samples} samples, but images hold {len(batch)}")
        out = apply_plan(batch.images, plan, interpolation=self.interpolation, fill=self.fill)
        return batch.restore(out)

    def __call__(
        self, images: Any, index: Any = None, epoch: int = 0, progress: float | torch.Tensor | None = None
    ) -> Any:
        """Augment images: each sample draws its own ops and magnitudes, reproducibly (see `sample`; `progress`
        is one number or one per sample).

        A batch on an accelerator that the torch path applies gets its plan drawn on the host (the same
        draws), unless the indices are already on the device: its groups by op are then counted without
        reading the device back (`executor.draws_on_host`).
        """
        batch = to_batch(images)
        device = batch.images.device
        on_device = isinstance(index, torch.Tensor) and index.device.type != "cpu"
        if not on_device and draws_on_host(batch.images, self.interpolation, self.fill):
            device = torch.device("cpu")
        plan = self.sample(len(batch), batch.size, index=index, epoch=epoch, progress=progress, device=device)
        out = apply_plan(batch.images, plan, interpolation=self.interpolation, fill=self.fill)
        return batch.restore(out)

    # Description --------------------------------------------------------------------------------------

    def _own_params(self) -> list[tuple[str, Any, Any]]:
        """(string key, value, default) of the policy's own parameters, for the policy string."""
        return []

    def __str__(self) -> str:
        """The policy string (`policy_string`'s grammar, defaults omitted); a scheduled dose is not part of it."""
        parts = [self.name]
        for key, value, default in self._own_params():
            if key == "":
                parts.append(str(value))
            elif value != default:
                parts.append(f"{key}{format_number(value) if isinstance(value, float) else value}")
        parts += dose_keys(self.schedule)
        if self.interpolation != self.default_interpolation:
            parts.append(f"i{self.interpolation}")
        if self.fill is not None:
            fill = self.fill if isinstance(self.fill, tuple) else (self.fill,)
            parts.append("f" + "_".join(format_number(v) for v in fill))
        return "-".join(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, seed={self.seed})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and str(self) == str(other) and self.seed == other.seed  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, str(self), self.seed))

    @property
    def op_names(self) -> tuple[str, ...]:
        """The ops this policy can draw."""
        return tuple(self._space().keys())

    def _space(self) -> Space:
        return {}


def _signed(
    key: Key, index: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, signed: torch.Tensor, count: int
) -> torch.Tensor:
    """Negate signed magnitudes with probability 1/2 (torchvision's `rand() <= 0.5`): the entries of the
    negated table where a signed op draws a negation (tables from `scaled_table`)."""
    negate = key.uniform(index, _SIGN, count) < 0.5
    return torch.where(signed & negate, negative, positive)


class TrivialAugmentWide(Policy):
    """TrivialAugment Wide (Müller & Hutter, 2021): one op of 14, one of `num_magnitude_bins` magnitudes
    (bin 0 included) drawn uniformly for each sample; signed ops negated with probability 1/2."""

    name = "ta_wide"

    def __init__(self, num_magnitude_bins: int = 31, **kwargs: Any) -> None:
        self.num_magnitude_bins = _check_int("num_magnitude_bins", num_magnitude_bins, 2)
        super().__init__(**kwargs)

    def _space(self) -> Space:
        return TRIVIAL_WIDE_SPACE

    def _own_params(self) -> list[tuple[str, Any, Any]]:
        return [("b", self.num_magnitude_bins, 31)]

    def _draw(self, key: Key, index: torch.Tensor, height: int, width: int, strength: float | torch.Tensor):
        bins, device = self.num_magnitude_bins, index.device
        ids, table, signed = space_table(TRIVIAL_WIDE_SPACE, bins, height, width, device)
        cache_key = (id(TRIVIAL_WIDE_SPACE), bins, height, width, str(device))
        positive, negative = scaled_table(cache_key, ids[:, None], table, strength)
        choice = key.integers(index, _OP, len(ids))[:, 0]
        level = key.integers(index, _BIN, bins)[:, 0]
        pair = (positive[choice, level][:, None], negative[choice, level][:, None])
        magnitudes = _signed(key, index, *pair, signed[choice][:, None], 1)[:, 0]
        return ids[choice].view(-1, 1, 1), magnitudes.view(-1, 1, 1), None


class RandAugment(Policy):
    """RandAugment (Cubuk et al., 2020): `num_ops` ops drawn uniformly of 14 (Identity included), all at
    the bin `magnitude` of `num_magnitude_bins`; each sample draws its own ops and signs."""

    name = "rand"

    def __init__(self, num_ops: int = 2, magnitude: int = 9, num_magnitude_bins: int = 31, **kwargs: Any) -> None:
        self.num_ops = _check_int("num_ops", num_ops, 0)
        self.num_magnitude_bins = _check_int("num_magnitude_bins", num_magnitude_bins, 2)
        self.magnitude = _check_int("magnitude", magnitude, 0, self.num_magnitude_bins - 1)
        super().__init__(**kwargs)

    def _space(self) -> Space:
        return RAND_SPACE

    def _own_params(self) -> list[tuple[str, Any, Any]]:
        return [("n", self.num_ops, 2), ("m", self.magnitude, 9), ("b", self.num_magnitude_bins, 31)]

    def _draw(self, key: Key, index: torch.Tensor, height: int, width: int, strength: float | torch.Tensor):
        n, k, bins, device = index.shape[0], self.num_ops, self.num_magnitude_bins, index.device
        ids, table, signed = space_table(RAND_SPACE, bins, height, width, device)
        if k == 0:
            return (
                torch.zeros((n, 1, 0), dtype=torch.int64, device=index.device),
                torch.zeros((n, 1, 0), device=index.device),
                None,
            )
        cache_key = (id(RAND_SPACE), bins, height, width, str(device))
        positive, negative = scaled_table(cache_key, ids[:, None], table, strength)
        choice = key.integers(index, _OP, len(ids), k)
        pair = (positive[choice, self.magnitude], negative[choice, self.magnitude])
        magnitudes = _signed(key, index, *pair, signed[choice], k)
        return ids[choice].view(n, 1, k), magnitudes.view(n, 1, k), None


class AutoAugment(Policy):
    """AutoAugment (Cubuk et al., 2019) with the learned `imagenet`, `cifar10` or `svhn` sub-policies: each
    sample draws one of 25 sub-policies and applies each of its two ops with the learned probability."""

    name = "auto"

    def __init__(self, policy: str = "imagenet", **kwargs: Any) -> None:
        policy = getattr(policy, "value", policy)
        if policy not in AUTOAUGMENT_POLICIES:
            raise ValueError(f"policy: expected one of {', '.join(AUTOAUGMENT_POLICIES)}, got {policy!r}")
        self.policy = policy
        super().__init__(**kwargs)

    def _space(self) -> Space:
        names = {name for sub in AUTOAUGMENT_POLICIES[self.policy] for name, _, _ in sub}
        return {name: _AUTO_SPACE[name] for name in _AUTO_SPACE if name in names}

    def _own_params(self) -> list[tuple[str, Any, Any]]:
        return [("", self.policy, None)]

    def _tables(self, height: int, width: int, device: torch.device):
        """The sub-policies as tensors (25, 2): op ids, probabilities, published magnitudes, signed flags.

        Cached per (policy, size, device), as `space_table`: a copy to the device per call would wait for it.
        """
        key = ("auto", self.policy, height, width, str(device))
        if key not in _TABLES:
            _, table, signed = space_table(_AUTO_SPACE, 10, height, width)
            row_of = {name: r for r, name in enumerate(_AUTO_SPACE)}  # the table's rows, in the space's order
            subs = AUTOAUGMENT_POLICIES[self.policy]
            op = torch.tensor([[OP_IDS[name] for name, _, _ in sub] for sub in subs])
            prob = torch.tensor([[p for _, p, _ in sub] for sub in subs], dtype=torch.float32)
            level = torch.tensor([[0 if lv is None else lv for _, _, lv in sub] for sub in subs])
            rows = torch.tensor([[row_of[name] for name, _, _ in sub] for sub in subs])
            tables = (op, prob, table[rows, level], signed[rows])
            _TABLES[key] = tuple(t.to(device) for t in tables)  # type: ignore[assignment]
        return _TABLES[key]

    def _draw(self, key: Key, index: torch.Tensor, height: int, width: int, strength: float | torch.Tensor):
        op, prob, mag, sign = self._tables(height, width, index.device)
        cache_key = ("auto", self.policy, height, width, str(index.device))
        positive, negative = scaled_table(cache_key, op, mag, strength)
        sub = key.integers(index, _SUBPOLICY, op.shape[0])[:, 0]
        applied = key.uniform(index, _APPLY, 2) <= prob[sub]
        magnitudes = _signed(key, index, positive[sub], negative[sub], sign[sub], 2)
        ops = torch.where(applied, op[sub], torch.zeros_like(op[sub]))
        magnitudes = torch.where(applied, magnitudes, torch.zeros_like(magnitudes))
        return ops.view(-1, 1, 2), magnitudes.view(-1, 1, 2), None


class AugMix(Policy):
    """AugMix (Hendrycks et al., 2020): `mixture_width` chains of 1-3 ops (or `chain_depth`), magnitudes
    from the first `severity` of 10 bins, mixed with Dirichlet(alpha) weights and then with the original
    by a Beta(alpha, alpha) weight. Bilinear interpolation by default, as torchvision.

    Mixing is computed in float and rounded for uint8 images, where torchvision truncates (so results
    can differ from torchvision's by one intensity level).
    """

    name = "augmix"
    default_interpolation = "bilinear"
    _MAX_DEPTH = 3

    def __init__(
        self,
        severity: int = 3,
        mixture_width: int = 3,
        chain_depth: int = -1,
        alpha: float = 1.0,
        all_ops: bool = True,
        **kwargs: Any,
    ) -> None:
        self.severity = _check_int("severity", severity, 1, 10)
        self.mixture_width = _check_int("mixture_width", mixture_width, 1)
        self.chain_depth = _check_int("chain_depth", chain_depth, -1_000_000)
        if self.chain_depth == 0:
            raise ValueError("chain_depth: expected a positive depth, or a negative value for a random depth in [1, 3]")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0 or math.isinf(alpha):
            raise ValueError(f"alpha: expected a positive finite Dirichlet concentration, got {alpha!r}")
        self.alpha = float(alpha)
        self.all_ops = bool(all_ops)
        super().__init__(**kwargs)

    def _space(self) -> Space:
        return AUGMIX_SPACE if self.all_ops else _AUGMIX_PARTIAL_SPACE

    def _own_params(self) -> list[tuple[str, Any, Any]]:
        depth = self.chain_depth if self.chain_depth > 0 else -1
        return [
            ("m", self.severity, 3),
            ("w", self.mixture_width, 3),
            ("d", depth, -1),
            ("a", self.alpha, 1.0),
            ("o", "all" if self.all_ops else "partial", "all"),
        ]

    def _draw(self, key: Key, index: torch.Tensor, height: int, width: int, strength: float | torch.Tensor):
        n, w = index.shape[0], self.mixture_width
        depth_max = self.chain_depth if self.chain_depth > 0 else self._MAX_DEPTH
        space = self._space()
        ids, table, signed = space_table(space, 10, height, width, index.device)
        cache_key = (id(space), 10, height, width, str(index.device))
        positive, negative = scaled_table(cache_key, ids[:, None], table, strength)
        steps = w * depth_max
        choice = key.integers(index, _OP, len(ids), steps)
        level = key.integers(index, _BIN, self.severity, steps)
        magnitudes = _signed(key, index, positive[choice, level], negative[choice, level], signed[choice], steps)
        if self.chain_depth > 0:
            depth = torch.full((n, w), self.chain_depth, device=index.device)
        else:
            depth = key.integers(index, _DEPTH, self._MAX_DEPTH, w) + 1
        active = torch.arange(depth_max, device=index.device).view(1, 1, -1) < depth.view(n, w, 1)
        ops = torch.where(
            active, ids[choice].view(n, w, depth_max), torch.zeros(1, dtype=torch.int64, device=index.device)
        )
        magnitudes = torch.where(active, magnitudes.view(n, w, depth_max), torch.zeros(1, device=index.device))
        beta = key.dirichlet(index, _BETA, self.alpha, 2)
        mixing = key.dirichlet(index, _DIRICHLET, self.alpha, w) * beta[:, 1:2]
        return ops, magnitudes, torch.cat([beta[:, :1], mixing], dim=1)
