"""Common corruptions (Hendrycks & Dietterich, 2019), batched and reproducible per sample.

The 15 corruptions of CIFAR-10-C / ImageNet-C (`COMMON`) and the 4 extra ones (`EXTRA`) at severities
1..5, with the published parameters: those of `make_cifar_c.py` for small images (min side <= 64) and
those of ImageNet-C (`make_imagenet_c.py`, as packaged by `imagecorruptions`) for larger ones; pass
`params="cifar"` or `params="imagenet"` to choose. `corrupt` takes any image input the adapters accept
(torch CHW/NCHW, numpy HWC/NHWC, PIL, lists) and returns the same type, layout, dtype and device.

The semantics (quantisation, draws, what differs from the references and why, gray images, the compiled CPU path)
are described in docs/corruptions.md.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import torch

from ..._backend.switch import native_enabled
from ...rng import Key, as_index
from ..adapters import to_batch
from ._blur import defocus_blur, gaussian_blur_corruption, glass_blur, motion_blur, zoom_blur
from ._context import Context
from ._digital import contrast, pixelate
from ._elastic import elastic_transform
from ._hsv import brightness, saturate
from ._jpeg import jpeg_compression
from ._noise import gaussian_noise, impulse_noise, shot_noise, speckle_noise
from ._params import PARAM_SETS, PARAMS
from ._spatter import spatter
from ._weather import fog, frost, snow

__all__ = ["COMMON", "CORRUPTIONS", "EXTRA", "PARAMS", "PARAM_SETS", "SEVERITIES", "corrupt", "parameters"]

Kernel = Callable[[torch.Tensor, Any, Context], torch.Tensor]

_KERNELS: dict[str, Kernel] = {
    "gaussian_noise": gaussian_noise,
    "shot_noise": shot_noise,
    "impulse_noise": impulse_noise,
    "defocus_blur": defocus_blur,
    "glass_blur": glass_blur,
    "motion_blur": motion_blur,
    "zoom_blur": zoom_blur,
    "snow": snow,
    "frost": frost,
    "fog": fog,
    "brightness": brightness,
    "contrast": contrast,
    "elastic_transform": elastic_transform,
    "pixelate": pixelate,
    "jpeg_compression": jpeg_compression,
    "speckle_noise": speckle_noise,
    "gaussian_blur": gaussian_blur_corruption,
    "spatter": spatter,
    "saturate": saturate,
}

CORRUPTIONS: tuple[str, ...] = tuple(_KERNELS)
COMMON: tuple[str, ...] = CORRUPTIONS[:15]
EXTRA: tuple[str, ...] = CORRUPTIONS[15:]
SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)

# Largest min(H, W) that takes the CIFAR parameters by default.
CIFAR_MAX_SIDE = 64
# Stream numbers of the corruptions: far from the policies' small stream ids, 64 slots each.
_STREAM_BASE = 0xC0_0000
_ACCELERATOR_PIECE = 16384
_STREAMS = {name: _STREAM_BASE + 64 * i for i, name in enumerate(CORRUPTIONS)}


def _check_corruption(corruption: object) -> str:
    if not isinstance(corruption, str) or corruption not in _KERNELS:
        raise ValueError(f"corruption: unknown corruption {corruption!r}; expected one of {', '.join(CORRUPTIONS)}")
    return corruption


def _check_severity(severity: object) -> int:
    if isinstance(severity, bool) or not isinstance(severity, int) or severity not in SEVERITIES:
        raise ValueError(f"severity: expected an integer in 1..5, got {severity!r}")
    return severity


def _check_params(params: object) -> str | None:
    if params is not None and (not isinstance(params, str) or params not in PARAM_SETS):
        raise ValueError(f"params: expected None (by image size), 'cifar' or 'imagenet', got {params!r}")
    return params


def _table(params: str | None, height: int, width: int) -> str:
    """The parameter table: the one asked for, else CIFAR's up to a smaller side of 64 pixels."""
    if params is not None:
        return params
    return "cifar" if min(height, width) <= CIFAR_MAX_SIDE else "imagenet"


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: expected an integer, got {type(seed).__name__}")
    return seed


def _native_module() -> ModuleType | None:
    """The compiled CPU kernels (`_native`), unless MITHRIDATE_NATIVE=0 or numba is missing."""
    if not native_enabled():
        return None
    try:
        from . import _native
    except (ImportError, RuntimeError):  # pragma: no cover - numba missing, or no writable cache folder
        return None
    return _native


def parameters(corruption: str, severity: int, params: str = "cifar") -> Any:
    """The published parameters of one corruption and severity in table `params` ("cifar" or "imagenet")."""
    name = _check_corruption(corruption)
    level = _check_severity(severity)
    table = _check_params(params)
    if table is None:
        raise ValueError("params: expected 'cifar' or 'imagenet', got None")
    return PARAMS[table][name][level - 1]


def _piece_size(device: torch.device, n: int) -> int:
    """How many images one kernel call takes: all on the CPU, at most 16,384 on an accelerator."""
    return n if device.type == "cpu" else min(n, _ACCELERATOR_PIECE)


def corrupt(
    images: Any,
    corruption: str,
    severity: int,
    *,
    seed: int = 0,
    index: Any = None,
    params: str | None = None,
) -> Any:
    """Apply one corruption at one severity (1..5) to every image of a batch.

    `images`: any image input the adapters accept (torch, numpy, PIL, lists); the result has its type, layout, dtype and
    device (alpha channels pass through). `index`: one non-negative integer per image (e.g. dataset
    positions), 0..N-1 when None; a sample's randomness depends only on (seed, its index, corruption).
    `params`: "cifar" or "imagenet" parameter table; None picks CIFAR's for images whose smaller side
    is at most 64 pixels, ImageNet-C's otherwise.
    """
    name = _check_corruption(corruption)
    level = _check_severity(severity)
    seed = _check_seed(seed)
    params = _check_params(params)
    batch = to_batch(images)
    x = batch.images
    n = len(batch)
    height, width = batch.size
    table = _table(params, height, width)
    index_tensor = torch.arange(n, device=x.device) if index is None else as_index(index, n, x.device)
    if n == 0 or height == 0 or width == 0:
        return batch.restore(x.clone())
    integral = x.dtype == torch.uint8
    kernel, params_ = _KERNELS[name], PARAMS[table][name][level - 1]
    if integral and x.device.type == "cpu" and x.shape[1] in (1, 3):
        native = _native_module()
        if native is not None and name in native.KERNELS:
            ctx = Context(Key(seed, 0, None), index_tensor, _STREAMS[name], integral, table)
            return batch.restore(native.run(name, x, params_, ctx))
    work = x.to(torch.float32) / 255.0 if integral else x.clone()
    # cuDNN's sampler (used by grid_sample with align_corners=True) refuses very large batches: on an
    # accelerator the batch goes in pieces; each sample's draws depend only on its index, so nothing changes.
    size = _piece_size(x.device, n)
    pieces = []
    for start in range(0, n, size):
        ctx = Context(Key(seed, 0, None), index_tensor[start : start + size], _STREAMS[name], integral, table)
        pieces.append(kernel(work[start : start + size], params_, ctx).clamp(0.0, 1.0))
    out = pieces[0] if len(pieces) == 1 else torch.cat(pieces)
    if not integral:
        return batch.restore(out.to(x.dtype))
    return batch.restore(torch.floor(out * 255.0 + 1e-3).clamp_(0, 255).to(torch.uint8))
