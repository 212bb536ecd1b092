"""spatter: water drops (severities 1-3) or mud (4-5) over the image, batched over (N, C, H, W).

Source: `spatter` of make_cifar_c.py / make_imagenet_c.py (hendrycks/robustness) and
imagecorruptions/corruptions.py. A liquid field N(loc, scale) per pixel is smoothed (skimage gaussian)
and thresholded. Water: the field as uint8 goes through cv2.Canny(50, 150), a distance transform to the
edges truncated at 20, a 3x3 box blur, cv2.equalizeHist, an emboss filter and another box blur; the
product of field and result, normalised to its peak, paints pale turquoise (175, 238, 238) onto the
image. Mud: the thresholded mask, smoothed and cut under 0.8, blends in mud brown (63, 42, 20).

OpenCV's steps are re-implemented in torch on the whole batch: Canny (Sobel 3x3 with replicated edges,
L1 magnitude, OpenCV's fixed-point direction test for non-maximum suppression, hysteresis by repeated
dilation), equalizeHist (its rounding), filter2D and blur (BORDER_REFLECT_101). The distance transform
is exact Euclidean where OpenCV's DIST_L2 with a 5x5 mask approximates it (within 2%).
Gray images get the luma of the colour that would be added, as imagecorruptions does.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..._backend.transfer import constant
from ._context import Context
from ._filters import Kernel2d, correlate2d, gaussian_blur, pad

__all__ = ["spatter"]

WATER = (175 / 255.0, 238 / 255.0, 238 / 255.0)
MUD = (63 / 255.0, 42 / 255.0, 20 / 255.0)
LUMA = (0.2989, 0.587, 0.114)
_TG22 = int(0.4142135623730950488016887242097 * (1 << 15) + 0.5)
EMBOSS = ((-2.0, -1.0, 0.0), (-1.0, 1.0, 1.0), (0.0, 1.0, 2.0))
BOX3 = ((1 / 9,) * 3,) * 3
_EMBOSS_KERNEL = Kernel2d.of(np.array(EMBOSS, dtype=np.float32))  # float32, as cv2's kernels
_BOX3_KERNEL = Kernel2d.of(np.array(BOX3, dtype=np.float32))
_FAR = 1e9
_GROWTH_ROUNDS = 8
"""Rounds of hysteresis growth between two checks for a fixpoint, off the CPU."""


def _canny(image: torch.Tensor, low: int, high: int, rounds: int | None = None) -> torch.Tensor:
    """cv2.Canny(image, low, high) (aperture 3, L1 gradient) on integer-valued (N, 1, H, W): edge mask."""
    height, width = image.shape[-2:]
    p = pad(image.to(torch.int64), 1, 1, 1, 1, "replicate")
    gx = (
        (p[..., :-2, 2:] - p[..., :-2, :-2])
        + 2 * (p[..., 1:-1, 2:] - p[..., 1:-1, :-2])
        + (p[..., 2:, 2:] - p[..., 2:, :-2])
    )
    gy = (
        (p[..., 2:, :-2] - p[..., :-2, :-2])
        + 2 * (p[..., 2:, 1:-1] - p[..., :-2, 1:-1])
        + (p[..., 2:, 2:] - p[..., :-2, 2:])
    )
    mag = gx.abs() + gy.abs()
    m = F.pad(mag, (1, 1, 1, 1))  # neighbours outside the image count as 0, as in OpenCV's buffers

    def at(dy: int, dx: int) -> torch.Tensor:
        return m[..., 1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width]

    ax, ay = gx.abs(), gy.abs() << 15
    tg22x = ax * _TG22
    horizontal = ay < tg22x
    vertical = ~horizontal & (ay > tg22x + (ax << 16))
    keep_h = (mag > at(0, -1)) & (mag >= at(0, 1))
    keep_v = (mag > at(-1, 0)) & (mag >= at(1, 0))
    same_sign = (gx * gy) >= 0
    keep_d = torch.where(same_sign, (mag > at(-1, -1)) & (mag > at(1, 1)), (mag > at(-1, 1)) & (mag > at(1, -1)))
    candidate = torch.where(horizontal, keep_h, torch.where(vertical, keep_v, keep_d)) & (mag > low)
    edges = candidate & (mag > high)
    # Hysteresis: strong edges grow through candidates until nothing changes. Asking whether anything
    # changed reads the device back; on a GPU it is asked every `_GROWTH_ROUNDS` rounds (once grown, more
    # rounds change nothing), one wait per eight rounds instead of one per round.
    if rounds is None:
        rounds = 1 if image.device.type == "cpu" else _GROWTH_ROUNDS
    while True:
        before = edges
        for _ in range(rounds):
            edges = edges | (candidate & (F.max_pool2d(edges.to(torch.float32), 3, stride=1, padding=1) > 0))
        if torch.equal(edges, before):
            return edges


def _distance(edges: torch.Tensor, limit: int) -> torch.Tensor:
    """Euclidean distance to the nearest edge pixel, truncated at `limit` (exact, separable min-plus)."""
    height, width = edges.shape[-2:]
    far = torch.full_like(edges, _FAR, dtype=torch.float32)
    field = torch.where(edges, torch.zeros_like(far), far)
    padded = F.pad(field, (limit, limit, 0, 0), value=_FAR)
    rows = torch.full_like(field, _FAR)
    for k in range(-limit, limit + 1):
        rows = torch.minimum(rows, padded[..., :, limit + k : limit + k + width] + k * k)
    padded = F.pad(rows, (0, 0, limit, limit), value=_FAR)
    squared = torch.full_like(field, _FAR)
    for k in range(-limit, limit + 1):
        squared = torch.minimum(squared, padded[..., limit + k : limit + k + height, :] + k * k)
    return torch.sqrt(squared).clamp_(max=float(limit))


def _equalize(image: torch.Tensor) -> torch.Tensor:
    """cv2.equalizeHist on integer-valued (N, 1, H, W) uint8 levels, per image."""
    n = image.shape[0]
    flat = image.reshape(n, -1).to(torch.int64)
    total = flat.shape[1]
    hist = torch.zeros((n, 256), dtype=torch.int64, device=image.device)
    hist.scatter_add_(1, flat, torch.ones_like(flat))
    first = torch.argmax((hist > 0).to(torch.int8), dim=1, keepdim=True)
    first_count = hist.gather(1, first)
    scale = (255.0 / (total - first_count).clamp(min=1).to(torch.float32)).to(torch.float32)
    lut = torch.round((hist.cumsum(1) - first_count).to(torch.float32) * scale).clamp_(0, 255)
    lut = torch.where(first_count == total, first.to(torch.float32).expand(-1, 256), lut)
    return lut.gather(1, flat).view_as(image)


def overlay(colour: tuple[float, float, float], channels: int, like: torch.Tensor) -> torch.Tensor:
    rgb = constant(colour, like.dtype, like.device).view(1, 3, 1, 1)
    if channels == 1:
        return (rgb * constant(LUMA, like.dtype, like.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return rgb


def spatter(x: torch.Tensor, c: tuple, ctx: Context) -> torch.Tensor:
    loc, scale, sigma, threshold, strength, mud = c
    _, channels, height, width = x.shape
    liquid = loc + scale * ctx.field(0, (1, height, width))
    liquid = gaussian_blur(liquid, sigma)
    liquid = torch.where(liquid < threshold, torch.zeros_like(liquid), liquid)
    if mud:
        mask = gaussian_blur((liquid > threshold).to(x.dtype), strength)
        mask = torch.where(mask < 0.8, torch.zeros_like(mask), mask)
        return x * (1.0 - mask) + overlay(MUD, channels, x) * mask
    layer = torch.floor(liquid * 255.0).clamp_(0, 255)  # uint8 (the reference would wrap above 1: never reached)
    edges = _canny(layer, 50, 150)
    dist = _distance(edges, 20)
    dist = torch.floor(correlate2d(dist, _BOX3_KERNEL, "reflect101") + 1e-4)
    dist = _equalize(dist)
    dist = correlate2d(dist, _EMBOSS_KERNEL, "reflect101").clamp_(0, 255)
    dist = correlate2d(dist, _BOX3_KERNEL, "reflect101")
    m = layer * dist
    m = m / m.amax(dim=(1, 2, 3), keepdim=True).clamp(min=1e-12) * strength
    paint = (m.to(x.dtype) * overlay(WATER, 3, x)).clamp(0.0, 1.0)
    if channels == 1:
        paint = (paint * constant(LUMA, x.dtype, x.device).view(1, 3, 1, 1)).sum(1, keepdim=True)
    return x + paint
