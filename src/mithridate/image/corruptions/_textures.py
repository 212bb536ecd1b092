"""Random textures, generated per sample from counter-based draws: the plasma fractal of fog and a
procedural frost layer standing in for the frost photographs of the references.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..._backend.transfer import constant
from ._context import Context

__all__ = ["FROST_PHOTOS", "frost_layer", "plasma_fractal"]


def plasma_fractal(ctx: Context, slot: int, mapsize: int, decay: float) -> torch.Tensor:
    """Diamond-square heightmaps (N, mapsize, mapsize) in [0, 1], one per sample (mapsize a power of two).

    The references' `plasma_fractal` (a modification of FLHerne/mapgen's diamondsquare.py) batched: the
    same square and diamond steps with wrap-around neighbours, each new point the mean of its four
    neighbours plus wibble * U(-wibble, wibble), wibble starting at 100 and divided by `decay` per level.
    """
    n = ctx.index.numel()
    steps = []
    step = mapsize
    while step >= 2:
        steps.append(step)
        step //= 2
    counts = [3 * (mapsize // s) ** 2 for s in steps]
    draws = ctx.uniform(slot, max(sum(counts), 1)).to(torch.float64) * 2.0 - 1.0
    heights = torch.zeros((n, mapsize, mapsize), dtype=torch.float64, device=ctx.index.device)
    wibble, start = 100.0, 0
    for step in steps:
        k, half = mapsize // step, step // 2
        jitter = (wibble * wibble) * draws[:, start : start + 3 * k * k].view(n, 3, k, k)
        start += 3 * k * k
        corners = heights[:, 0::step, 0::step]
        total = corners + corners.roll(-1, 1)
        total = total + total.roll(-1, 2)
        heights[:, half::step, half::step] = total / 4 + jitter[:, 0]
        centres = heights[:, half::step, half::step]
        corners = heights[:, 0::step, 0::step]
        left = centres + centres.roll(1, 1) + corners + corners.roll(-1, 2)
        top = centres + centres.roll(1, 2) + corners + corners.roll(-1, 1)
        heights[:, 0::step, half::step] = left / 4 + jitter[:, 1]
        heights[:, half::step, 0::step] = top / 4 + jitter[:, 2]
        wibble /= decay
    heights = heights - heights.amin(dim=(1, 2), keepdim=True)
    peak = heights.amax(dim=(1, 2), keepdim=True)
    return torch.where(peak > 0, heights / peak.clamp(min=1e-300), heights).to(torch.float32)


# The frost photographs frost1..frost5 of the references (frost6 is never drawn: randint(5)), measured
# on crops of the size the references take (32x32 of the photo at 0.2 scale, 224x224 at 1.1 scale; both
# give the same figures within 2 levels): mean RGB of a crop, spread of the crop means, and spread within
# a crop, in 0..255 levels. frost2 and frost3 are the same picture, so it comes up twice as often.
FROST_PHOTOS: tuple[tuple[tuple[float, float, float], float, tuple[float, float, float]], ...] = (
    ((78.0, 149.0, 165.0), 11.0, (22.0, 13.5, 13.0)),
    ((198.0, 202.0, 212.0), 8.0, (18.0, 18.5, 19.0)),
    ((198.0, 202.0, 212.0), 8.0, (18.0, 18.5, 19.0)),
    ((144.0, 159.0, 171.0), 9.5, (26.0, 26.0, 27.0)),
    ((103.0, 114.0, 126.0), 15.0, (35.0, 35.0, 34.0)),
)
LUMA = (0.2989, 0.587, 0.114)  # the rgb2gray weights imagecorruptions uses for gray images


def _spread(field: torch.Tensor) -> torch.Tensor:
    """Each sample's standard deviation (N, 1, 1, 1), at least 1e-6; two passes instead of `Tensor.std` over
    several dimensions, which measured 2.4x slower on the CPU (the frost texture takes it 20 times)."""
    centred = field - field.mean(dim=(1, 2, 3), keepdim=True)
    variance = centred.square_().sum(dim=(1, 2, 3), keepdim=True).div_(max(field[0].numel() - 1, 1))
    return variance.sqrt_().clamp_(min=1e-6)


def _smooth_field(ctx: Context, slot: int, cells: int, height: int, width: int) -> torch.Tensor:
    """A smooth random field (N, 1, H, W) of unit spread: a (cells + 1)^2 normal grid upsampled bicubically."""
    grid = ctx.field(slot, (1, cells + 1, cells + 1))
    field = F.interpolate(grid, size=(height, width), mode="bicubic", align_corners=True)
    return field / _spread(field)


def frost_texture(ctx: Context, slot: int, height: int, width: int) -> torch.Tensor:
    """Ice needles (N, 1, H, W), zero mean and unit spread per sample.

    Frost grows in needles along three directions 60 degrees apart (hexagonal ice). For each direction
    (a random base angle per sample, then +60 and +120 degrees) and each of three scales, an anisotropic
    random field (a normal grid with twice as many cells across the direction as along it, sampled
    rotated) is turned into thin bright streaks along the direction by exp(-(field / 0.3)^2), weighted by
    a smooth random density so that patches differ in direction, as in the photographs; a faint cloudy
    field is added. Scales: side / 8, side / 4 and side / 2 cells across (those under 4 cells skipped).
    """
    n = ctx.index.numel()
    side = max(height, width)
    device = ctx.index.device
    ys = torch.linspace(-1.0, 1.0, height, device=device).view(1, height, 1) * (height / side / math.sqrt(2.0))
    xs = torch.linspace(-1.0, 1.0, width, device=device).view(1, 1, width) * (width / side / math.sqrt(2.0))
    base = ctx.uniform(slot, 1)[:, 0] * math.pi
    texture = 0.4 * _smooth_field(ctx, slot + 1, 2, height, width)
    draw = slot + 2
    for across, weight in ((side // 8, 1.0), (side // 4, 0.8), (side // 2, 0.5)):
        if across < 4:
            continue
        along = max(2, across // 2)
        for k in range(3):
            angle = (base + k * math.pi / 3.0).view(n, 1, 1)
            cos, sin = torch.cos(angle), torch.sin(angle)
            coords = torch.stack([xs * cos + ys * sin, ys * cos - xs * sin], dim=-1)  # (along, across)
            grid = ctx.field(draw, (1, across + 1, along + 1))
            field = F.grid_sample(grid, coords, mode="bilinear", align_corners=True)
            field = field / _spread(field)
            density = torch.sigmoid(2.0 * _smooth_field(ctx, draw + 1, 3, height, width))
            texture = texture + weight * density * torch.exp(-((field / 0.3) ** 2))
            draw += 2
    texture = texture - texture.mean(dim=(1, 2, 3), keepdim=True)
    return texture / _spread(texture)


def frost_layer(ctx: Context, slot: int, channels: int, height: int, width: int) -> torch.Tensor:
    """A procedural frost picture (N, channels, H, W) in 0..255 with the colour statistics of the photos.

    Per sample: one of the five photos' statistics (uniformly, as the reference's randint(5)), a crop
    mean drawn around the photo's mean, and the texture scaled to the photo's spread within a crop. Gray
    images get its luma (as imagecorruptions does with rgb2gray).
    """
    device = ctx.index.device
    photo = ctx.integers(slot, len(FROST_PHOTOS), 1)[:, 0]
    means = constant(tuple(p[0] for p in FROST_PHOTOS), torch.float32, device)[photo]  # (N, 3)
    shifts = constant(tuple(p[1] for p in FROST_PHOTOS), torch.float32, device)[photo]  # (N,)
    spreads = constant(tuple(p[2] for p in FROST_PHOTOS), torch.float32, device)[photo]  # (N, 3)
    offset = ctx.normal(slot + 1, 1)[:, 0] * shifts
    texture = frost_texture(ctx, slot + 2, height, width).to(means.dtype)
    rgb = (means + offset[:, None])[:, :, None, None] + spreads[:, :, None, None] * texture
    rgb = rgb.clamp(0.0, 255.0)
    if channels == 1:
        luma = constant(LUMA, torch.float32, device).view(1, 3, 1, 1)
        return (rgb * luma).sum(dim=1, keepdim=True)
    return rgb
