"""elastic_transform, batched: every sample warped by its own smooth random displacement field.

Two published versions, one per parameter table:

- CIFAR (make_cifar_c.py `elastic_transform`): a random affine warp (three points jittered by up to
  `jitter` pixels, cv2.warpAffine, bilinear, border BORDER_REFLECT_101), then a displacement field
  alpha * gaussian(U(-1, 1), sigma, mode "reflect", truncate 3) per axis, sampled by
  scipy.ndimage.map_coordinates (order 1, mode "reflect"). Sizes are fractions of the image side
  (the script's IMSIZE = 32; min(H, W) here, so other small sizes scale alike).
- ImageNet (imagecorruptions `elastic_transform`): no affine part; displacement alpha *
  gaussian(U(-0.005 H, 0.005 H), sigma 0.01 (H, W), "reflect", truncate 3). make_imagenet_c.py has a
  variant with fixed pixel sizes for 224x224 (and an affine part); the package's size-relative version
  is the one that suits every image size, and it is the one the tests compare with.
"""

from __future__ import annotations

import functools

import torch

from ._context import Context
from ._filters import gaussian_blur, sample_bilinear

__all__ = ["elastic_transform"]


def _grid(n: int, height: int, width: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    ys = torch.arange(height, dtype=torch.float64, device=device).view(1, height, 1).expand(n, height, width)
    xs = torch.arange(width, dtype=torch.float64, device=device).view(1, 1, width).expand(n, height, width)
    return ys, xs


def affine_inverses(n: int, height: int, width: int, jitter: float, ctx: Context, device: torch.device) -> torch.Tensor:
    """The inverse of cv2.getAffineTransform(pts1, pts2) per sample (pts2 = pts1 + U(-jitter, jitter)), as
    rows (i00, i01, i02, i10, i11, i12), (N, 6) float64: output pixel (x, y) reads the input there."""
    source, inverse = _source_points(height, width, device)
    target = source + (ctx.uniform(1, 6).to(torch.float64).view(n, 3, 2) * 2.0 - 1.0) * jitter
    forward = (inverse[None, :, :, None] * target[:, None, :, :]).sum(dim=2).transpose(1, 2)  # (N, 2, 3)
    m00, m01, m02 = forward[:, 0].unbind(-1)
    m10, m11, m12 = forward[:, 1].unbind(-1)
    det = m00 * m11 - m01 * m10
    i00, i01, i10, i11 = m11 / det, -m01 / det, -m10 / det, m00 / det
    i02 = -(i00 * m02 + i01 * m12)
    i12 = -(i10 * m02 + i11 * m12)
    return torch.stack([i00, i01, i02, i10, i11, i12], dim=1)


@functools.lru_cache(maxsize=64)
def _source_points(height: int, width: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The three source points (3, 2) float64 and A^-1, A's rows (x, y, 1): the affine map M with
    M [p; 1] = q for the three pairs is M^T = A^-1 Q. The same for every sample: computed once on the host
    per size, copied to the device once (`torch.linalg.inv` on a GPU reads its error flag back)."""
    cx, cy = float(width // 2), float(height // 2)
    half = float(min(height, width) // 3)
    source = torch.tensor([[cx + half, cy + half], [cx + half, cy - half], [cx - half, cy - half]], dtype=torch.float64)
    inverse = torch.linalg.inv(torch.cat([source, torch.ones(3, 1, dtype=torch.float64)], dim=1))
    return source.to(device), inverse.to(device)


def _affine(x: torch.Tensor, jitter: float, ctx: Context) -> torch.Tensor:
    """cv2.getAffineTransform(pts1, pts2) and cv2.warpAffine, per sample (pts2 = pts1 + U(-jitter, jitter))."""
    n, _, height, width = x.shape
    i00, i01, i02, i10, i11, i12 = affine_inverses(n, height, width, jitter, ctx, x.device).view(n, 6, 1, 1).unbind(1)
    ys, xs = _grid(n, height, width, x.device)
    return sample_bilinear(x, i10 * xs + i11 * ys + i12, i00 * xs + i01 * ys + i02, "reflect101")


def _displacement(
    ctx: Context, slot: int, height: int, width: int, spread: float, sigma: tuple[float, float]
) -> torch.Tensor:
    """gaussian(U(-spread, spread), sigma, mode "reflect", truncate 3) of one axis, (N, H, W) float64."""
    field = (ctx.field(slot, (1, height, width), normal=False).to(torch.float64) * 2.0 - 1.0) * spread
    return gaussian_blur(field, sigma, mode="symmetric", truncate=3.0)[:, 0]


def elastic_transform(x: torch.Tensor, c: float | tuple[float, float, float], ctx: Context) -> torch.Tensor:
    n, _, height, width = x.shape
    if ctx.table == "cifar":
        side = min(height, width)
        alpha, sigma, jitter = (v * side for v in c)
        x = _affine(x, jitter, ctx)
        sigmas, spread = (sigma, sigma), 1.0
    else:
        alpha = c
        sigmas, spread = (0.01 * height, 0.01 * width), 0.005 * height
    dx = _displacement(ctx, 2, height, width, spread, sigmas) * alpha
    dy = _displacement(ctx, 3, height, width, spread, sigmas) * alpha
    ys, xs = _grid(n, height, width, x.device)
    return sample_bilinear(x, ys + dy, xs + dx, "symmetric")
