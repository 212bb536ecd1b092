"""Adapters: turn what users hold (torch CHW/NCHW, numpy HWC/NHWC, PIL images, lists of them) into the
(N, C, H, W) batch the kernels take, and turn results back into the input's own type, layout and dtype.

Alpha channels are split off before the kernels and put back untouched. Half-precision tensors compute
in float32. Validation lives here, so every message names the argument, what was expected and what came.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import PIL.Image
import torch

__all__ = ["Batch", "to_batch"]

_PIL_MODES = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
_COLOR_CHANNELS = {1: 1, 2: 1, 3: 3, 4: 3}
_HALF_DTYPES = (torch.float16, torch.bfloat16)


@dataclass
class Batch:
    """Colour channels as (N, C, H, W) uint8 or float, the alpha channel apart, and the way back."""

    images: torch.Tensor
    alpha: torch.Tensor | None
    _restore: Callable[[torch.Tensor], Any]

    @property
    def size(self) -> tuple[int, int]:
        return int(self.images.shape[-2]), int(self.images.shape[-1])

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def restore(self, images: torch.Tensor) -> Any:
        """Results in the input's type, layout, dtype and device, with the alpha channel put back."""
        if self.alpha is not None:
            images = torch.cat([images, self.alpha], dim=1)
        return self._restore(images)


def _check_channels(channels: int, name: str, shape: tuple[int, ...], layout: str) -> None:
    if channels not in _COLOR_CHANNELS:
        hint = ""
        if layout == "CHW" and shape[-1] in _COLOR_CHANNELS:
            hint = " (a channels-last tensor? torch images are (C, H, W): use .permute(2, 0, 1))"
        raise ValueError(
            f"{name}: expected 1 or 3 channels (2 or 4 with alpha) in the {layout} layout, got {channels} "
            f"in shape {shape}{hint}"
        )


def _check_float_range(tensor: torch.Tensor, name: str) -> None:
    """Float images must lie in [0, 1]: checked on the host; an accelerator's values are not read back,
    which would wait for it at every batch (as sample indices, `rng.as_index`)."""
    if tensor.numel() == 0 or tensor.device.type != "cpu":
        return
    low, high = (v.item() for v in torch.aminmax(tensor.detach().to(torch.float32)))
    if low != low or high != high:
        raise ValueError(f"{name}: expected float values in [0, 1], got NaN")
    if low < 0.0 or high > 1.0:
        raise ValueError(
            f"{name}: expected float values in [0, 1], got values in [{low:.4g}, {high:.4g}] "
            "(uint8 images must have dtype uint8; float images must be scaled to [0, 1])"
        )


def _split_alpha(images: torch.Tensor, restore: Callable[[torch.Tensor], Any]) -> Batch:
    color = _COLOR_CHANNELS[images.shape[1]]
    alpha = images[:, color:] if images.shape[1] != color else None
    return Batch(images[:, :color], alpha, restore)


def _from_tensor(images: torch.Tensor, name: str) -> Batch:
    shape = tuple(images.shape)
    if images.ndim not in (3, 4):
        raise ValueError(f"{name}: expected a tensor shaped (C, H, W) or (N, C, H, W), got shape {shape}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise TypeError(f"{name}: expected dtype uint8, or a floating dtype with values in [0, 1], got {images.dtype}")
    _check_channels(shape[-3], name, shape, "CHW")
    if images.is_floating_point():
        _check_float_range(images, name)
    dtype, single = images.dtype, images.ndim == 3
    batch = images.unsqueeze(0) if single else images
    if dtype in _HALF_DTYPES:
        batch = batch.to(torch.float32)

    def restore(out: torch.Tensor) -> torch.Tensor:
        out = out.to(dtype)
        return out[0] if single else out

    return _split_alpha(batch, restore)


def _from_numpy(array: np.ndarray, name: str) -> Batch:
    shape = tuple(array.shape)
    if array.ndim not in (3, 4):
        raise ValueError(f"{name}: expected an array shaped (H, W, C) or (N, H, W, C), got shape {shape}")
    if array.dtype != np.uint8 and array.dtype not in (np.float16, np.float32, np.float64):
        raise TypeError(f"{name}: expected dtype uint8, or float with values in [0, 1], got {array.dtype}")
    _check_channels(shape[-1], name, shape, "HWC")
    single = array.ndim == 3
    tensor = torch.from_numpy(np.ascontiguousarray(array[None] if single else array))
    tensor = tensor.permute(0, 3, 1, 2)
    if tensor.is_floating_point():
        _check_float_range(tensor, name)
        if tensor.dtype == torch.float16:
            tensor = tensor.to(torch.float32)
    dtype = array.dtype

    def restore(out: torch.Tensor) -> np.ndarray:
        result = out.permute(0, 2, 3, 1).cpu().numpy().astype(dtype, copy=False)
        return np.ascontiguousarray(result[0] if single else result)

    return _split_alpha(tensor.contiguous(), restore)


def _pil_to_tensor(image: PIL.Image.Image, name: str) -> torch.Tensor:
    if image.mode not in _PIL_MODES:
        raise ValueError(
            f"{name}: unsupported PIL mode {image.mode!r}; expected one of {', '.join(_PIL_MODES)} "
            "(convert first, e.g. image.convert('RGB'))"
        )
    array = np.asarray(image, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.copy()).permute(2, 0, 1)


def _from_pil(image: PIL.Image.Image, name: str) -> Batch:
    tensor = _pil_to_tensor(image, name)[None]
    mode = image.mode

    def restore(out: torch.Tensor) -> PIL.Image.Image:
        array = out[0].permute(1, 2, 0).cpu().numpy()
        return PIL.Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array, mode=mode)

    return _split_alpha(tensor, restore)


def _element_kind(item: Any) -> str:
    if isinstance(item, PIL.Image.Image):
        return "PIL"
    if isinstance(item, torch.Tensor):
        return "tensor"
    if isinstance(item, np.ndarray):
        return "numpy"
    return type(item).__name__


def _from_list(items: list | tuple, name: str) -> Batch:
    kinds = {_element_kind(item) for item in items}
    if len(kinds) > 1:
        raise TypeError(f"{name}: expected a list of images of one kind, got a mix of {', '.join(sorted(kinds))}")
    singles = [to_batch(item, name=f"{name}[{i}]") for i, item in enumerate(items)]
    for i, single in enumerate(singles):
        if single.images.shape[0] != 1:
            raise ValueError(f"{name}[{i}]: expected a single image in a list, got a batch of {single.images.shape[0]}")
        if single.images.shape[1:] != singles[0].images.shape[1:] or (single.alpha is None) != (
            singles[0].alpha is None
        ):
            got, first = tuple(single.images.shape[1:]), tuple(singles[0].images.shape[1:])
            raise ValueError(
                f"{name}[{i}]: has (C, H, W) {got} but {name}[0] has {first}; "
                "all images of a list must share size and channels (resize or crop them first)"
            )
    images = torch.cat([s.images for s in singles])
    alpha = torch.cat([s.alpha for s in singles]) if singles[0].alpha is not None else None
    restorers = [s._restore for s in singles]
    container = type(items)

    def restore(out: torch.Tensor) -> list | tuple:
        return container(r(out[i : i + 1]) for i, r in enumerate(restorers))

    return Batch(images, alpha, restore)


def to_batch(images: Any, *, name: str = "images") -> Batch:
    """Validate and convert any supported image input into a Batch; see the module docstring."""
    if isinstance(images, torch.Tensor):
        return _from_tensor(images, name)
    if isinstance(images, np.ndarray):
        return _from_numpy(images, name)
    if isinstance(images, PIL.Image.Image):
        return _from_pil(images, name)
    if isinstance(images, (list, tuple)):
        if not images:
            container = type(images)
            return Batch(torch.zeros((0, 3, 0, 0), dtype=torch.uint8), None, lambda out: container())
        return _from_list(images, name)
    raise TypeError(
        f"{name}: expected a torch tensor (C, H, W) or (N, C, H, W), a numpy array (H, W, C) or (N, H, W, C), "
        f"a PIL image, or a list of them; got {type(images).__name__}"
    )
