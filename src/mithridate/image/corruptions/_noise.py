"""Noise corruptions: gaussian, shot (Poisson), impulse (salt and pepper) and speckle noise.

Images are float (N, C, H, W) in [0, 1]; every value gets its own draw, as the references draw one per
pixel and channel. Sources: `gaussian_noise`, `shot_noise`, `impulse_noise` and `speckle_noise` of
make_cifar_c.py / make_imagenet_c.py (hendrycks/robustness) and imagecorruptions/corruptions.py.
"""

from __future__ import annotations

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

    Each value's uniform draw is inverted through the Poisson CDF of its rate. The CDFs are tabulated
    once per distinct rate present (at most 256 for uint8 images) and searched all at once, so the
    cost does not grow with c. Inversion with common uniforms makes the counts monotone in the rate.
    """
    u = ctx.field(0, tuple(x.shape[1:]), normal=False).to(torch.float64)
    level = torch.round(x.clamp(0, 1) * _RATE_LEVELS).to(torch.int64)
    present = torch.bincount(level.flatten(), minlength=_RATE_LEVELS + 1) > 0
    levels = torch.nonzero(present).flatten()
    row = (torch.cumsum(present.to(torch.int64), 0) - 1)[level]
    rates = levels.to(torch.float64) * (c / _RATE_LEVELS)
    size = math.ceil(c + 12.0 * math.sqrt(c) + 24.0)  # P(count >= size) < 1e-25 for every rate <= c
    k = torch.arange(size, dtype=torch.float64, device=x.device)
    log_pmf = torch.xlogy(k[None, :], rates[:, None]) - rates[:, None] - torch.lgamma(k + 1.0)[None, :]
    cdf = torch.cumsum(torch.exp(log_pmf), dim=1).clamp_(max=1.0)
    # One sorted sequence for all rates: row j holds j + CDF_j, so row + u finds its count in its own row.
    offsets = torch.arange(len(levels), dtype=torch.float64, device=x.device)[:, None]
    position = torch.searchsorted((cdf + offsets).flatten(), (row.to(torch.float64) + u).flatten(), right=True)
    counts = (position.view_as(row) - row * size).clamp_(0, size)
    return counts.to(x.dtype) / c
