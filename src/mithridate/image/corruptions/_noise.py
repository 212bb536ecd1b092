"""Noise corruptions: gaussian, shot (Poisson), impulse (salt and pepper) and speckle noise.

Images are float (N, C, H, W) in [0, 1]; every value gets its own draw, as the references draw one per
pixel and channel. Sources: `gaussian_noise`, `shot_noise`, `impulse_noise` and `speckle_noise` of
make_cifar_c.py / make_imagenet_c.py (hendrycks/robustness) and imagecorruptions/corruptions.py.
"""

from __future__ import annotations

import functools
import math

import torch

from ._context import Context

__all__ = ["gaussian_noise", "impulse_noise", "shot_noise", "speckle_noise"]

# Poisson rates are tabulated on a grid of 1/4080 (255 * 16): uint8 intensities fall on it exactly,
# float intensities are rounded to it (0.00012 at most, far below the noise itself).
_RATE_LEVELS = 255 * 16


def gaussian_noise(x: torch.Tensor, c: float, ctx: Context) -> torch.Tensor:
    """x + N(0, c^2) per value (reference: `np.clip(x + np.random.normal(size=x.shape, scale=c), 0, 1)`)."""
    noise = ctx.field(0, tuple(x.shape[1:])).to(x.dtype)
    return x + c * noise


def speckle_noise(x: torch.Tensor, c: float, ctx: Context) -> torch.Tensor:
    """x + x * N(0, c^2) per value (reference: `x + x * np.random.normal(size=x.shape, scale=c)`)."""
    noise = ctx.field(0, tuple(x.shape[1:])).to(x.dtype)
    return x + x * (c * noise)


def impulse_noise(x: torch.Tensor, c: float, ctx: Context) -> torch.Tensor:
    """Salt and pepper on a fraction c of the values, half each (skimage `random_noise(mode="s&p", amount=c)`)."""
    u = ctx.field(0, tuple(x.shape[1:]), normal=False)
    pepper = u < 0.5 * c
    salt = (u >= 0.5 * c) & (u < c)
    out = torch.where(pepper, torch.zeros_like(x), x)
    return torch.where(salt, torch.ones_like(x), out)


def shot_noise(x: torch.Tensor, c: float, ctx: Context) -> torch.Tensor:
    """Poisson(x * c) / c per value (reference: `np.random.poisson(x * c) / c`), by inversion.

    Each value's uniform draw is inverted through the Poisson CDF of its rate: the count is the number of
    CDF entries at or below it, found by a binary search of fixed length in its rate's row. The rows of
    every rate on the grid are tabulated once per c and device (`poisson_cdf`), so no call reads the
    device back to see which rates are present, and the cost does not grow with c. Inversion with common
    uniforms makes the counts monotone in the rate. The comparisons are those of the compiled CPU kernel.
    """
    u = ctx.field(0, tuple(x.shape[1:]), normal=False).to(torch.float64)
    level = torch.round(x.clamp(0, 1) * _RATE_LEVELS).to(torch.int64)
    cdf = poisson_cdf(c, x.device)
    size = cdf.shape[1]
    row = level * size
    cdf = cdf.flatten()
    lo = torch.zeros_like(level)
    hi = torch.full_like(level, size)
    for _ in range(size.bit_length()):  # the search interval halves each round: empty after these
        mid = (lo + hi) >> 1
        below = (lo < hi) & (cdf[row + mid.clamp(max=size - 1)] <= u)
        hi = torch.where((lo < hi) & ~below, mid, hi)
        lo = torch.where(below, mid + 1, lo)
    return lo.to(x.dtype) / c


@functools.lru_cache(maxsize=8)
def poisson_cdf(c: float, device: torch.device) -> torch.Tensor:
    """The Poisson CDFs (levels, size) float64 of the rates j * c / `_RATE_LEVELS`, j = 0.._RATE_LEVELS,
    over counts 0..size-1, P(count >= size) < 1e-25 for each; on `device`, cached (26 MB at c = 500)."""
    rates = torch.arange(_RATE_LEVELS + 1, dtype=torch.float64) * (c / _RATE_LEVELS)
    size = math.ceil(c + 12.0 * math.sqrt(c) + 24.0)
    k = torch.arange(size, dtype=torch.float64)
    log_pmf = torch.xlogy(k[None, :], rates[:, None]) - rates[:, None] - torch.lgamma(k + 1.0)[None, :]
    return torch.cumsum(torch.exp(log_pmf), dim=1).clamp_(max=1.0).to(device)
