"""The fused GPU path (Triton) for uint8 and float32 CUDA batches: two launches per step, no host sync.

`supports` says which batches qualify, `run_plan` applies a plan (`_kernels`), and `verified` runs the path's
self-check against the CPU once per device and configuration before "auto" uses it (`_check`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from ..._backend.switch import triton_enabled
from ..._backend.transfer import constant
from ..native import fill_bytes
from . import _kernels
from ._check import check_batch, verified

__all__ = ["available", "check_batch", "preferred", "run_plan", "supports", "verified"]

available = _kernels.available


def supports(images: torch.Tensor, interpolation: str, fill: float | Sequence[float] | None) -> bool:
    """Whether the fused Triton path applies: uint8 or float32 (N, C, H, W) with C in {1, 3} on a CUDA
    device (or anywhere under TRITON_INTERPRET=1), nearest or bilinear, a fill of one value or one per
    channel (whole numbers in [0, 255] for uint8), Triton installed."""
    interpreted = os.environ.get("TRITON_INTERPRET", "0") == "1"
    return (
        _kernels.available()
        and (images.device.type == "cuda" or interpreted)
        and images.dtype in (torch.uint8, torch.float32)
        and images.ndim == 4
        and images.shape[1] in (1, 3)
        and images.numel() > 0
        and images.numel() < 2**31
        and interpolation in ("nearest", "bilinear")
        and _fill_values(fill, images) is not None
    )


def preferred(images: torch.Tensor, interpolation: str, fill: float | Sequence[float] | None) -> bool:
    """Whether `apply_plan(..., backend="auto")` takes the fused path for this batch: the Triton paths are on
    (`_backend.switch`) and it is a CUDA batch that `supports` takes (once the configuration's self-check,
    `verified`, has passed there)."""
    return triton_enabled() and images.device.type == "cuda" and supports(images, interpolation, fill)


def _fill_values(fill: float | Sequence[float] | None, images: torch.Tensor) -> tuple | None:
    """The outside value per channel in the images' dtype (as Python numbers), or None if it does not fit."""
    channels = images.shape[1]
    if images.dtype == torch.uint8:
        values = fill_bytes(fill, channels)
        return None if values is None else tuple(int(v) for v in values)
    if fill is None:
        return (0.0,) * channels
    values = [float(fill)] if isinstance(fill, (int, float)) else [float(v) for v in fill]
    values = values * channels if len(values) == 1 else values
    return tuple(values) if len(values) == channels else None


def run_plan(
    images: torch.Tensor,
    ops: torch.Tensor,
    magnitudes: torch.Tensor,
    weights: torch.Tensor | None,
    fill: float | Sequence[float] | None,
    interpolation: str,
    mix,
) -> torch.Tensor:
    """The fused GPU path (`_kernels`): two Triton launches per step; the caller checks `supports`."""
    fill_tensor = None
    if fill is not None:
        fill_tensor = constant(_fill_values(fill, images), images.dtype, images.device)
    return _kernels.run_plan(images, ops, magnitudes, weights, fill_tensor, interpolation, mix)
