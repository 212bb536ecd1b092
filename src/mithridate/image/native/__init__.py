"""The compiled CPU path (numba): for uint8 batches, the whole plan in one numba call per thread, bit for bit
the torch path. (The fused GPU path is `image.gpu`.)

On the CPU, the torch executor spends most of a small image's time dispatching kernels to groups of a few
dozen images, and at 224x224 it computes in float32 what could stay in uint8. Here each sample runs its
own chain, image by image, inside compiled code (`_kernels`: tables for the point ops, one pass for the
others); the batch is split over `torch.get_num_threads()` threads (`_backend.threads`; the kernels release
the GIL).

The results equal `executor.apply_plan(..., backend="torch")` exactly (tests compare them on random plans
and images); `supports` says which inputs qualify: CPU uint8 (N, C, H, W) with C in {1, 3}, nearest or
bilinear interpolation, an integer fill, and H * W <= 65,793 (up to there the luma sum behind Contrast's
mean is exact in float32, as torch sums it). Set MITHRIDATE_NATIVE=0 to turn the path off.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import torch

from ..._backend.switch import native_enabled
from ..._backend.threads import split

__all__ = ["MAX_PIXELS", "available", "fill_bytes", "run_plan", "supports"]

MAX_PIXELS = (1 << 24) // 255  # the largest H * W whose luma sums stay exact in float32
_MIN_SAMPLES_PER_THREAD = 4


def available() -> bool:
    """Whether the compiled path can run: numba imports and MITHRIDATE_NATIVE is not "0"."""
    if not native_enabled():
        return False
    try:
        from . import _kernels  # noqa: F401
    except (ImportError, RuntimeError):  # numba missing, or no writable folder for its cache
        return False
    return True


def fill_bytes(fill: float | Sequence[float] | None, channels: int) -> np.ndarray | None:
    """The outside value per channel as uint8, or None when the fill is not whole numbers in [0, 255]."""
    if fill is None:
        return np.zeros(channels, np.uint8)
    values = [float(fill)] if isinstance(fill, (int, float)) else [float(v) for v in fill]
    if len(values) == 1:
        values = values * channels
    if len(values) != channels or any(v != round(v) or not 0 <= v <= 255 for v in values):
        return None
    return np.array(values, dtype=np.uint8)


def supports(images: torch.Tensor, interpolation: str, fill: float | Sequence[float] | None) -> bool:
    """Whether the compiled path applies to these images and options (see the module docstring)."""
    return (
        images.device.type == "cpu"
        and images.dtype == torch.uint8
        and images.ndim == 4
        and images.shape[1] in (1, 3)
        and images.numel() > 0
        and images.shape[-2] * images.shape[-1] <= MAX_PIXELS
        and interpolation in ("nearest", "bilinear")
        and fill_bytes(fill, images.shape[1]) is not None
        and available()
    )


def run_plan(
    images: torch.Tensor,
    ops: torch.Tensor,
    magnitudes: torch.Tensor,
    matrices: torch.Tensor | None,
    weights: torch.Tensor | None,
    fill: float | Sequence[float] | None,
    interpolation: str = "nearest",
) -> torch.Tensor:
    """Apply a plan's ops (N, W, D), magnitudes and inverse affine matrices (N, W, D, 2, 3) to uint8 images.

    `matrices` may be None for a plan without geometric steps. The caller checks `supports` first; the input
    is not modified.
    """
    from ._kernels import run_plan as compiled

    n, channels, height, width = images.shape
    src = images.contiguous().numpy()
    out = torch.empty_like(images, memory_format=torch.contiguous_format)
    dst = out.numpy()
    if matrices is None:  # no geometric step reads them
        rescaled = np.zeros((*ops.shape, 3, 2), np.float32)
    else:  # torchvision's grid matrix: theta (float32) transposed, over half the size (as _sampling_grid).
        scale = torch.tensor([0.5 * width, 0.5 * height], dtype=torch.float32)
        rescaled = matrices.to(torch.float32).transpose(-1, -2).div(scale).contiguous().numpy()
    ops_np = ops.to(torch.int64).contiguous().numpy()
    magnitudes_np = magnitudes.to(torch.float64).contiguous().numpy()
    weights_np = np.zeros((n, 0), np.float32) if weights is None else weights.to(torch.float32).contiguous().numpy()
    fill_np = fill_bytes(fill, channels)
    options = np.array([interpolation == "bilinear", fill is not None], dtype=np.bool_)
    args = (src, dst, ops_np, magnitudes_np, rescaled, weights_np, fill_np, options)

    def body(start: int, stop: int) -> None:
        compiled(*args, _scratch(channels, height, width), start, stop)

    split(n, body, _MIN_SAMPLES_PER_THREAD)
    return out


_local = threading.local()


def _scratch(channels: int, height: int, width: int) -> tuple[np.ndarray, ...]:
    """This thread's scratch for images of this shape, kept from call to call (see `_kernels.buffers`)."""
    from ._kernels import buffers

    key = (channels, height, width)
    if getattr(_local, "key", None) != key:
        _local.key, _local.buffers = key, buffers(channels, height, width)
    return _local.buffers
