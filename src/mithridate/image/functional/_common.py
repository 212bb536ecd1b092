"""Helpers shared by the kernels: value ranges, per-sample parameters and the checks every kernel makes."""

from __future__ import annotations

import torch

Magnitude = float | torch.Tensor


def max_value(dtype: torch.dtype) -> float:
    """The value of full intensity: 255 for uint8, 1.0 for floating images."""
    return 255.0 if dtype == torch.uint8 else 1.0


def compute_dtype(images: torch.Tensor) -> torch.dtype:
    """The floating dtype a kernel computes in: the image's own if floating, float32 for uint8."""
    return images.dtype if images.is_floating_point() else torch.float32


def check_images(images: torch.Tensor, *, channels: tuple[int, ...] = (1, 3)) -> None:
    """Kernels take (N, C, H, W) uint8 or floating tensors; adapters turn anything else into that."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images: expected a torch.Tensor shaped (N, C, H, W), got {type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(f"images: expected a tensor shaped (N, C, H, W), got shape {tuple(images.shape)}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise TypeError(f"images: expected dtype uint8 or a floating dtype, got {images.dtype}")
    if images.shape[1] not in channels:
        raise ValueError(f"images: expected {' or '.join(map(str, channels))} channels, got {images.shape[1]}")


def per_sample(value: Magnitude, n: int, device: torch.device, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A magnitude for each of n samples: a number broadcast, or a tensor of n values (any shape)."""
    tensor = torch.as_tensor(value, device=device).to(dtype)
    if tensor.numel() == 1:
        return tensor.reshape(1).expand(n)
    if tensor.numel() != n:
        raise ValueError(f"magnitude: expected one value per image ({n}), got {tensor.numel()} values")
    return tensor.reshape(n)


def as_4d(values: torch.Tensor) -> torch.Tensor:
    """Per-sample values shaped (N, 1, 1, 1) to broadcast over images."""
    return values.reshape(-1, 1, 1, 1)
