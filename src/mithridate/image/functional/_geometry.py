"""Geometric kernels: one resampling call for a whole batch, each sample with its own affine matrix.

Matrices follow torchvision's convention: inverse matrices (output pixel -> input pixel) in pixel units
with the origin at the image centre, computed in float64 by the same formula as torchvision's
`_get_inverse_affine_matrix` and cast to float32, so that nearest-neighbour results match it exactly.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import torch
from torch.nn.functional import grid_sample

from ..._backend.transfer import constant, to_device
from ._common import Magnitude, check_images, compute_dtype, per_sample

__all__ = [
    "INTERPOLATIONS",
    "affine",
    "inverse_affine_matrices",
    "rotate",
    "shear_x",
    "shear_y",
    "translate_x",
    "translate_y",
    "trunc",
]

INTERPOLATIONS = ("nearest", "bilinear")
Fill = float | Sequence[float] | None

_DEG_TO_RAD = math.pi / 180.0
_RAD_TO_DEG = 180.0 / math.pi


def _elementwise(name: str, x: torch.Tensor) -> torch.Tensor:
    """cos, sin, tan, arctan or trunc of a float64 tensor; through numpy on the CPU.

    torch runs these float64 ops in its OpenMP pool even for a few values, and the pool's threads then
    spin for a while: the compiled kernels' threads, started next, lost half their speed to them
    (`mithridate bench`, TrivialAugmentWide at 224x224 on 2 threads: 16k -> 28k images/s without them). The values
    differ from torch's in the last bit at most, which the float32 matrices do not keep; both CPU paths
    use these, and the tests compare them with torchvision's Python-float matrices.
    """
    if x.device.type == "cpu":
        return torch.from_numpy(getattr(np, name)(x.detach().numpy()))
    return getattr(torch, "atan" if name == "arctan" else name)(x)


def inverse_affine_matrices(
    *,
    n: int,
    device: torch.device,
    centre: tuple[torch.Tensor, torch.Tensor] | None = None,
    angle: torch.Tensor | None = None,
    translate: tuple[torch.Tensor, torch.Tensor] | None = None,
    shear: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Per-sample inverse affine matrices (n, 2, 3), float64, in torchvision's centred pixel convention.

    `angle` and `shear` are in degrees, `centre` is relative to the image centre. Mirrors torchvision's
    `_get_inverse_affine_matrix` operation by operation (unit scale) so that the float32 matrices agree.
    """
    zero = torch.zeros(n, dtype=torch.float64, device=device)
    cx, cy = centre if centre is not None else (zero, zero)
    tx, ty = translate if translate is not None else (zero, zero)
    rot = (angle if angle is not None else zero) * _DEG_TO_RAD
    sx, sy = (s * _DEG_TO_RAD for s in shear) if shear is not None else (zero, zero)

    cos_sy = _elementwise("cos", sy)
    tan_sx = _elementwise("tan", sx)
    rot_minus_sy = rot - sy
    cx_plus_tx = cx + tx
    cy_plus_ty = cy + ty

    a = _elementwise("cos", rot_minus_sy) / cos_sy
    b = -(a * tan_sx + _elementwise("sin", rot))
    c = _elementwise("sin", rot_minus_sy) / cos_sy
    d = _elementwise("cos", rot) - c * tan_sx

    m0, m1, m3, m4 = d, -b, -c, a
    m2 = 0.0 + (cx - m0 * cx_plus_tx - m1 * cy_plus_ty)
    m5 = 0.0 + (cy - m3 * cx_plus_tx - m4 * cy_plus_ty)
    return torch.stack([m0, m1, m2, m3, m4, m5], dim=-1).reshape(n, 2, 3)


@functools.lru_cache(maxsize=32)
def _base_grid(height: int, width: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Output pixel centres (1, H*W, 3) as (x, y, 1), origin at the image centre, as torchvision builds them."""
    base = torch.empty(1, height, width, 3, dtype=dtype, device=device)
    base[..., 0].copy_(torch.linspace((1.0 - width) * 0.5, (width - 1.0) * 0.5, steps=width, device=device))
    ys = torch.linspace((1.0 - height) * 0.5, (height - 1.0) * 0.5, steps=height, device=device)
    base[..., 1].copy_(ys.unsqueeze_(-1))
    base[..., 2].fill_(1)
    return base.view(1, height * width, 3)


def _sampling_grid(theta: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The grid_sample grid (n, H, W, 2) of per-sample matrices: torchvision's `_affine_grid`, in a fixed order.

    torchvision multiplies the pixel centres (x, y, 1) by the rescaled matrix with `bmm`, whose rounding
    is the BLAS library's choice: Intel's MKL fuses the second product into the first on Intel CPUs, and
    computes both products apart on AMD ones. Here the point is `fma(y, r10, x r00) + r20` on every CPU
    (`addcmul` fuses wherever torch's kernels have a fused multiply-add: AVX2, AVX-512, CUDA), the order the
    compiled CPU and GPU paths repeat.
    """
    n, dtype, device = theta.shape[0], theta.dtype, theta.device
    scale = constant((0.5 * width, 0.5 * height), dtype, device)
    rescaled = theta.transpose(1, 2).div(scale).view(n, 1, 3, 2)  # rows: x factors, y factors, offsets
    base = _base_grid(height, width, dtype, device).view(height * width, 3, 1)
    x, y = base[:, 0], base[:, 1]  # (H * W, 1) each
    grid = torch.addcmul(x * rescaled[:, :, 0], y, rescaled[:, :, 1]).add_(rescaled[:, :, 2])
    return grid.view(n, height, width, 2)


def _fill_values(fill: Fill, channels: int) -> list[float] | None:
    if fill is None:
        return None
    values = [float(fill)] if isinstance(fill, (int, float)) else [float(v) for v in fill]
    if len(values) not in (1, channels):
        raise ValueError(f"fill: expected one value or one per channel ({channels}), got {len(values)} values")
    return values


def affine(
    images: torch.Tensor,
    matrices: torch.Tensor,
    *,
    interpolation: str = "nearest",
    fill: Fill = None,
) -> torch.Tensor:
    """Resample each image through its own inverse affine matrix (N, 2, 3), in one grid_sample call.

    Pixels from outside the image are 0 when `fill` is None, else `fill` (a number, or one per channel,
    in the image's value units), blended at the border under bilinear interpolation as in torchvision.
    """
    check_images(images)
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation: expected one of {INTERPOLATIONS}, got {interpolation!r}")
    n, channels, height, width = images.shape
    if matrices.shape != (n, 2, 3):
        raise ValueError(f"matrices: expected shape ({n}, 2, 3), one per image, got {tuple(matrices.shape)}")
    fill_values = _fill_values(fill, channels)
    if images.numel() == 0:
        return images.clone()
    dtype = compute_dtype(images)
    grid = _sampling_grid(to_device(matrices, images.device).to(dtype), height, width)
    floating = images if images.is_floating_point() else images.to(dtype)
    if fill_values is not None:
        floating = torch.cat([floating, floating.new_ones((n, 1, height, width))], dim=1)
    out = grid_sample(floating, grid, mode=interpolation, padding_mode="zeros", align_corners=False)
    if fill_values is not None:
        out, mask = torch.tensor_split(out, (-1,), dim=-3)
        mask = mask.expand_as(out)
        fill_image = constant(tuple(fill_values), dtype, images.device).view(1, -1, 1, 1)
        if interpolation == "nearest":
            out = torch.where(mask < 0.5, fill_image.expand_as(out), out)
        else:
            out = out.sub_(fill_image).mul_(mask).add_(fill_image)
    if images.is_floating_point():
        return out
    if interpolation == "nearest" and (fill_values is None or all(v == round(v) for v in fill_values)):
        return out.to(images.dtype)  # nearest copies whole values: rounding would change nothing
    return out.round_().to(images.dtype)


def _origin_centre(n: int, height: int, width: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The top-left corner as a centre relative to the image centre (torchvision's shear pivot)."""
    return (
        torch.full((n,), -0.5 * width, dtype=torch.float64, device=device),
        torch.full((n,), -0.5 * height, dtype=torch.float64, device=device),
    )


def trunc(values: torch.Tensor) -> torch.Tensor:
    """Whole pixels of translations, truncated toward zero as torchvision's int() (outside torch's pool)."""
    return _elementwise("trunc", values)


def shear_degrees(coefficient: torch.Tensor) -> torch.Tensor:
    """The shear angle in degrees of a shear coefficient, atan-degrees as torchvision's auto-augment."""
    return _elementwise("arctan", coefficient) * _RAD_TO_DEG


def shear_x_matrices(coefficient: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Matrices of a horizontal shear x' = x + m y about the top-left corner."""
    n, zero = coefficient.shape[0], torch.zeros_like(coefficient)
    centre = _origin_centre(n, height, width, coefficient.device)
    return inverse_affine_matrices(
        n=n, device=coefficient.device, centre=centre, shear=(shear_degrees(coefficient), zero)
    )


def shear_y_matrices(coefficient: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Matrices of a vertical shear y' = y + m x about the top-left corner."""
    n, zero = coefficient.shape[0], torch.zeros_like(coefficient)
    centre = _origin_centre(n, height, width, coefficient.device)
    return inverse_affine_matrices(
        n=n, device=coefficient.device, centre=centre, shear=(zero, shear_degrees(coefficient))
    )


def translate_matrices(dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Matrices of a translation by whole pixels (values are truncated toward zero as torchvision's int())."""
    return inverse_affine_matrices(n=dx.shape[0], device=dx.device, translate=(trunc(dx), trunc(dy)))


def rotate_matrices(angle: torch.Tensor) -> torch.Tensor:
    """Matrices of a rotation about the image centre, counter-clockwise in degrees."""
    return inverse_affine_matrices(n=angle.shape[0], device=angle.device, angle=-torch.remainder(angle, 360.0))


def shear_x(images: torch.Tensor, coefficient: Magnitude, *, interpolation: str = "nearest", fill: Fill = None):
    """Shear horizontally by a per-sample coefficient m (x' = x + m y, pivot at the top-left corner)."""
    check_images(images)
    m = per_sample(coefficient, images.shape[0], images.device)
    matrices = shear_x_matrices(m, images.shape[2], images.shape[3])
    return affine(images, matrices, interpolation=interpolation, fill=fill)


def shear_y(images: torch.Tensor, coefficient: Magnitude, *, interpolation: str = "nearest", fill: Fill = None):
    """Shear vertically by a per-sample coefficient m (y' = y + m x, pivot at the top-left corner)."""
    check_images(images)
    m = per_sample(coefficient, images.shape[0], images.device)
    matrices = shear_y_matrices(m, images.shape[2], images.shape[3])
    return affine(images, matrices, interpolation=interpolation, fill=fill)


def translate_x(images: torch.Tensor, pixels: Magnitude, *, interpolation: str = "nearest", fill: Fill = None):
    """Shift right by a per-sample number of pixels (negative shifts left), truncated to whole pixels."""
    check_images(images)
    dx = per_sample(pixels, images.shape[0], images.device)
    matrices = translate_matrices(dx, torch.zeros_like(dx))
    return affine(images, matrices, interpolation=interpolation, fill=fill)


def translate_y(images: torch.Tensor, pixels: Magnitude, *, interpolation: str = "nearest", fill: Fill = None):
    """Shift down by a per-sample number of pixels (negative shifts up), truncated to whole pixels."""
    check_images(images)
    dy = per_sample(pixels, images.shape[0], images.device)
    matrices = translate_matrices(torch.zeros_like(dy), dy)
    return affine(images, matrices, interpolation=interpolation, fill=fill)


def rotate(images: torch.Tensor, angle: Magnitude, *, interpolation: str = "nearest", fill: Fill = None):
    """Rotate counter-clockwise about the centre by a per-sample angle in degrees, keeping the size."""
    check_images(images)
    a = per_sample(angle, images.shape[0], images.device)
    return affine(images, rotate_matrices(a), interpolation=interpolation, fill=fill)
