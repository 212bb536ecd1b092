"""The fused GPU path checks itself once per device and configuration before "auto" uses it.

Triton's interpreter tests the kernels bit for bit on the CPU, and they compile offline to real GPUs' code
with exact float arithmetic; neither runs the real compiler's output on a real GPU. So before the first
batch of a configuration (device, channels, interpolation, with or without a fill), a small batch through
every op, in two chains of two steps with mixing, runs on the device and through the torch path on the
CPU, and the bytes must be equal: one host sync per configuration and process. A difference or a failure
turns the Triton paths off (`_switch.triton_failed`) with one warning, so a run goes on, slower, with the
results it would have had on the torch path.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._switch import triton_enabled, triton_failed
from .ops import OPS
from .plan import Plan

__all__ = ["verified"]

_SEED = 20261127
_SIZE = (33, 35)
"""Height and width of the check's images: more pixels than the tables kernel's statistics block."""

_verdicts: dict[tuple, bool] = {}
"""Per configuration, whether the fused path gave the torch path's bytes."""


def verified(device: torch.device, channels: int, interpolation: str, fill: float | Sequence[float] | None) -> bool:
    """Whether the fused path on `device` gives the CPU's bytes for this configuration (checked once)."""
    key = (torch.device(device), channels, interpolation, fill is not None)
    if key not in _verdicts:
        _verdicts[key] = _check(key[0], channels, interpolation, fill)
    return _verdicts[key] and triton_enabled()


def check_batch(channels: int) -> tuple[torch.Tensor, Plan]:
    """The check's uint8 images (2 per op) and a plan that gives every op to two samples first, with
    magnitudes across each op's range (geometric ones within what a policy draws), two chains and weights."""
    generator = torch.Generator().manual_seed(_SEED)
    n = 2 * len(OPS)
    images = torch.randint(0, 256, (n, channels, *_SIZE), dtype=torch.uint8, generator=generator)
    images[: n // 4] //= 8  # dark, low-contrast images: AutoContrast and Equalize stretch them
    ops = torch.randint(0, len(OPS), (n, 2, 2), generator=generator)
    ops[:, 0, 0] = torch.arange(n) % len(OPS)
    u = torch.rand(ops.shape, generator=generator, dtype=torch.float64)
    magnitudes = torch.zeros_like(u)
    for op, spec in enumerate(OPS):
        lower, upper = {"Rotate": (-60.0, 60.0), "TranslateX": (-5.0, 5.0), "TranslateY": (-5.0, 5.0)}.get(
            spec.name, (max(spec.lower, -1.0), min(spec.upper, 2.0))
        )
        values = lower + (upper - lower) * u
        magnitudes = torch.where(ops == op, values.floor() if spec.integer else values, magnitudes)
    weights = torch.rand(n, 3, generator=generator)
    return images, Plan(ops, magnitudes, weights / weights.sum(dim=1, keepdim=True))


def _check(device: torch.device, channels: int, interpolation: str, fill: float | Sequence[float] | None) -> bool:
    """Run the check batch on `device` (fused) and on the CPU (torch); on a difference, say so and turn off."""
    from .executor import apply_plan  # the executor asks this module: import it when first needed

    images, plan = check_batch(channels)
    options = {"interpolation": interpolation, "fill": fill}
    reference = apply_plan(images, plan, backend="torch", **options)
    try:
        fused = apply_plan(images.to(device), plan.to(device), backend="triton", **options).cpu()
    except Exception as error:  # a compiler or driver that rejects the kernels must not stop training
        triton_failed(error, "the fused GPU path")
        return False
    difference = (fused.int() - reference.int()).abs()
    if bool(difference.any()):
        share = float((difference > 0).double().mean())
        triton_failed(
            RuntimeError(
                f"on {device}, {channels} channels, {interpolation}, fill={fill!r}, its bytes differ from the "
                f"CPU's on {share:.3%} of values, by up to {int(difference.max())} levels"
            ),
            "the self-check of the fused GPU path",
        )
        return False
    return True
