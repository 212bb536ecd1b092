"""The fused GPU path checks itself once per device and configuration before "auto" uses it.

Triton's interpreter tests the kernels bit for bit on the CPU, and they compile offline to real GPUs' code
with exact float arithmetic; neither runs the real compiler's output on a real GPU. So before the first
batch of a configuration, a small batch that gives every op to two samples runs on the device and on the
CPU, through the compiled path for uint8 (the same bytes on every CPU: it fuses multiply-adds as a GPU does)
and the torch path for float32: the bytes must be equal for uint8, the values within a few ulps for float32
(one host sync per configuration and process). A configuration is what selects the compiled kernels: device,
dtype, channels, interpolation, fill or not, the plan's chains, steps and weights, and the kind of each
image side (Triton compiles one kernel per kind of
integer argument: 1, a multiple of 16, or other); the check batch has the same. A difference or a failure
turns the Triton paths off (`_backend.switch.triton_failed`) with one warning, so a run goes on, slower, with the
results it would have had on the torch path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..._backend.switch import triton_enabled, triton_failed
from .. import native
from ..ops import OP_IDS, OPS
from ..plan import Plan

__all__ = ["check_batch", "verified"]

Apply = Callable[..., torch.Tensor]
"""The executor's `apply_plan(images, plan, backend=..., interpolation=..., fill=...)`."""

_SEED = 20261127

_FLOAT_TOLERANCE = 1e-5
"""How far a float32 value may be from the CPU's. torch's CPU kernels round in their last bits in ways of
their own (Contrast's mean summed in another order; bilinear weights in another order on narrow images),
a few ulps, which AutoContrast may stretch."""

_STEPPED = ("Posterize", "Solarize", "Equalize")
"""Ops that turn values into levels: a few ulps can move a value across a step."""

_verdicts: dict[tuple, bool] = {}
"""Per configuration, whether the fused path gave the torch path's results."""


def _size_like(side: int) -> int:
    """A side of at most 48 that Triton specialises as it does `side` (1, a multiple of 16, or neither)."""
    if side == 1:
        return 1
    return min(side, 48) if side % 16 == 0 else min(side, 37)


def verified(
    images: torch.Tensor, plan: Plan, interpolation: str, fill: float | Sequence[float] | None, apply: Apply
) -> bool:
    """Whether the fused path on the images' device gives the CPU's results for this configuration, checked
    once: dtype, channels, interpolation, fill or not, the plan's chains, steps and weights, and sides that
    compile to the same kernels as the batch's (Triton specialises integer arguments and strides). `apply`
    is the executor's `apply_plan`, which runs the check batch on both sides."""
    _, channels, height, width = images.shape
    _, chains, depth = plan.ops.shape
    size = (_size_like(height), _size_like(width))
    shape = (chains, depth, plan.weights is not None)
    key = (images.device, images.dtype, channels, interpolation, fill is not None, size, shape)
    if key not in _verdicts:
        batch = check_batch(channels, size, *shape, dtype=images.dtype)
        _verdicts[key] = _check(images.device, batch, interpolation, fill, apply)
    return _verdicts[key] and triton_enabled()


def check_batch(
    channels: int,
    size: tuple[int, int] = (33, 35),
    chains: int = 2,
    depth: int = 2,
    weighted: bool = True,
    dtype: torch.dtype = torch.uint8,
    seed: int = _SEED,
) -> tuple[torch.Tensor, Plan]:
    """The check's images (2 per op, uint8 or float32 in [0, 1]), dark ones first, and a plan shaped
    (chains, depth) that gives every op to two samples in the last step of its first chain, with magnitudes
    across each op's range (geometric ones within what a policy draws), and mixing weights if `weighted`.
    On float images the values may be ulps from the CPU's (`_FLOAT_TOLERANCE`), which an op with steps
    (Posterize, Solarize, Equalize) could turn into a level: those come in last steps only. The tests draw
    their cases here too, with other seeds."""
    generator = torch.Generator().manual_seed(seed)
    n = 2 * len(OPS)
    images = torch.randint(0, 256, (n, channels, *size), dtype=torch.uint8, generator=generator)
    images[: n // 4] //= 8  # dark, low-contrast images: AutoContrast and Equalize stretch them
    if dtype == torch.float32:
        images = images.to(dtype).div_(255.0).add_(torch.rand(images.shape, generator=generator) * 1e-3).clamp_(0, 1)
    ops = torch.randint(0, len(OPS), (n, chains, depth), generator=generator)
    if dtype != torch.uint8:
        stepped = torch.tensor([OP_IDS[name] for name in _STEPPED])
        earlier = ops[:, :, :-1]
        ops[:, :, :-1] = torch.where(torch.isin(earlier, stepped), OP_IDS["Brightness"], earlier)
    if depth:
        ops[:, 0, -1] = torch.arange(n) % len(OPS)
    u = torch.rand(ops.shape, generator=generator, dtype=torch.float64)
    magnitudes = torch.zeros_like(u)
    for op, spec in enumerate(OPS):
        lower, upper = {"Rotate": (-60.0, 60.0), "TranslateX": (-5.0, 5.0), "TranslateY": (-5.0, 5.0)}.get(
            spec.name, (max(spec.lower, -1.0), min(spec.upper, 2.0))
        )
        values = lower + (upper - lower) * u
        magnitudes = torch.where(ops == op, values.floor() if spec.integer else values, magnitudes)
    weights = None
    if weighted:
        weights = torch.rand(n, chains + 1, generator=generator)
        weights = weights / weights.sum(dim=1, keepdim=True)
    return images, Plan(ops, magnitudes, weights)


def _check(
    device: torch.device,
    batch: tuple[torch.Tensor, Plan],
    interpolation: str,
    fill: float | Sequence[float] | None,
    apply_plan: Apply,
) -> bool:
    """Run the check batch on `device` (fused) and on the CPU (torch); on a difference, say so and turn off."""
    images, plan = batch
    channels = images.shape[1]
    options = {"interpolation": interpolation, "fill": fill}
    compiled = images.dtype == torch.uint8 and native.supports(images, interpolation, fill)
    reference = apply_plan(images, plan, backend="native" if compiled else "torch", **options)
    try:
        fused = apply_plan(images.to(device), plan.to(device), backend="triton", **options).cpu()
    except Exception as error:  # a compiler or driver that rejects the kernels must not stop training
        triton_failed(error, "the fused GPU path")
        return False
    difference = (fused.double() - reference.double()).abs()
    # uint8: the same bytes; float32: the same values to a few ulps
    if bool((difference > (0.0 if images.dtype == torch.uint8 else _FLOAT_TOLERANCE)).any()):
        differing = int((difference > 0).sum())
        triton_failed(
            RuntimeError(
                f"on {device}, {images.dtype} with {channels} channels, {interpolation}, fill={fill!r}, its values "
                f"differ from the CPU's at {differing} of {difference.numel()}, by up to {float(difference.max()):.3g}"
            ),
            "the self-check of the fused GPU path",
        )
        return False
    return True
