"""Blur corruptions: gaussian, glass, defocus, motion and zoom blur, batched over (N, C, H, W) in [0, 1].

Sources: the functions of the same names in make_cifar_c.py / make_imagenet_c.py (hendrycks/robustness)
and imagecorruptions/corruptions.py (bethgelab/imagecorruptions). What differs is said per function.
"""

from __future__ import annotations

import functools
import math

import torch

from ._context import Context
from ._filters import Kernel2d, clipped_zoom, correlate2d, gaussian_blur, line_blur, separable
from ._params import zoom_factors

__all__ = ["defocus_blur", "gaussian_blur_corruption", "glass_blur", "motion_blur", "shuffle_sources", "zoom_blur"]


def gaussian_blur_corruption(x: torch.Tensor, c: float, ctx: Context) -> torch.Tensor:
    """skimage `gaussian(x, sigma=c)` per channel: scipy's kernel, truncate 4, border "nearest"."""
    return gaussian_blur(x, c)


def shuffle_sources(
    offsets: torch.Tensor, height: int, width: int, delta: int, iterations: int, stop_early: bool | None = None
) -> torch.Tensor:
    """Where each pixel's value comes from after glass blur's local shuffle: (N, H*W) flat indices.

    The reference visits the pixels (h, w) with d < h <= H - d, d < w <= W - d in reverse raster order
    and runs `x[h, w], x[h', w'] = x[h', w'], x[h, w]` with (h', w') = (h + dy, w + dx), dy, dx uniform
    in [-d, d - 1]. On numpy views this is not a swap: x[h, w] takes the current value of (h', w'),
    which is left as it was. So a pixel copies its neighbour's original value, unless the neighbour
    comes later in raster order and was visited (overwritten) already, in which case it copies what
    the neighbour copied: a chain of pointers, followed here for all pixels at once by pointer jumping
    (log2 of the longest chain rounds of whole-image gathers). Same result as the sequential loop for
    the same offsets. `offsets` (N, iterations * 2 * P) holds dy then dx for the P visited pixels of each
    iteration, in the reference's visiting order. `stop_early` (default: on the CPU) ends the jumps when
    no pixel is pending, a read of the device; without it, every round that can be needed runs.
    """
    n = offsets.shape[0]
    device = offsets.device
    pixels = height * width
    identity = torch.arange(pixels, device=device)
    sources = identity.repeat(n, 1)
    rows = torch.arange(height - delta, delta, -1, device=device)
    cols = torch.arange(width - delta, delta, -1, device=device)
    if len(rows) == 0 or len(cols) == 0:
        return sources
    visited = (rows[:, None] * width + cols[None, :]).flatten()  # the reference's visiting order
    count = len(visited)
    is_visited = torch.zeros(pixels, dtype=torch.bool, device=device)
    is_visited[visited] = True
    for step in range(iterations):
        chunk = offsets[:, 2 * count * step : 2 * count * (step + 1)]
        dy, dx = chunk[:, :count], chunk[:, count:]
        target = identity.repeat(n, 1)
        target[:, visited] = visited[None, :] + dy * width + dx
        # A neighbour later in raster order was visited before: its value is what it copied.
        pending = is_visited[target] & (target > identity) & is_visited[None, :]
        # Each round doubles how far along its chain a pixel has jumped; a chain holds at most `count`
        # pixels. On a GPU, asking whether any is pending would read the device back, so all the rounds
        # that can be needed run instead (once none is pending, a round changes nothing).
        early = device.type == "cpu" if stop_early is None else stop_early
        rounds = None if early else count.bit_length() + 1
        while bool(pending.any()) if rounds is None else rounds > 0:
            further = pending.gather(1, target)
            target = torch.where(pending, target.gather(1, target), target)
            pending = pending & further
            rounds = None if rounds is None else rounds - 1
        sources = sources.gather(1, target)
    return sources


def glass_blur(x: torch.Tensor, c: tuple[float, int, int], ctx: Context) -> torch.Tensor:
    """Gaussian blur, local pixel shuffle, gaussian blur again (reference: `glass_blur`).

    As the reference, the first blur is cast to uint8 (truncated) when the input is uint8. The shuffle
    gives the reference's result for the same offsets, vectorised; see `shuffle_sources`.
    """
    sigma, delta, iterations = c
    n, channels, height, width = x.shape
    blurred = gaussian_blur(x, sigma)
    if ctx.integral:
        blurred = torch.floor(blurred.clamp(0, 1) * 255.0 + 1e-3) / 255.0
    visited = max(0, height - 2 * delta) * max(0, width - 2 * delta)
    offsets = ctx.integers(0, 2 * delta, max(1, iterations * 2 * visited)) - delta
    sources = shuffle_sources(offsets, height, width, delta, iterations)
    flat = blurred.reshape(n, channels, height * width)
    shuffled = flat.gather(2, sources.unsqueeze(1).expand(-1, channels, -1)).view_as(x)
    return gaussian_blur(shuffled, sigma)


@functools.lru_cache(maxsize=32)
def disk_kernel(radius: float, alias_blur: float) -> torch.Tensor:
    """The references' `disk`: an aliased disk, normalised, smoothed by cv2.GaussianBlur (3x3, or 5x5 past 8).

    The zero border of the kernel is cropped, which changes no output value. A CPU tensor, cached: not to
    be modified.
    """
    if radius <= 8:
        side, ksize = 8, 3
    else:
        side, ksize = int(radius), 5
    grid = torch.arange(-side, side + 1, dtype=torch.float64)
    disk = ((grid[:, None] ** 2 + grid[None, :] ** 2) <= radius**2).to(torch.float32)
    disk = disk / disk.sum()
    centre = (ksize - 1) / 2
    gauss = [math.exp(-((i - centre) ** 2) / (2.0 * alias_blur**2)) for i in range(ksize)]
    gauss = [g / math.fsum(gauss) for g in gauss]
    kernel = separable(disk.to(torch.float64)[None, None], gauss, gauss, "reflect101")[0, 0].to(torch.float32)
    rows = torch.nonzero(kernel.abs().sum(1)).flatten()
    cols = torch.nonzero(kernel.abs().sum(0)).flatten()
    reach = int(max(side - rows.min(), rows.max() - side, side - cols.min(), cols.max() - side))
    return kernel[side - reach : side + reach + 1, side - reach : side + reach + 1]


@functools.lru_cache(maxsize=32)
def _disk_taps(radius: float, alias_blur: float) -> Kernel2d:
    """`disk_kernel`'s taps, for `correlate2d`."""
    return Kernel2d.of(disk_kernel(radius, alias_blur))


def defocus_blur(x: torch.Tensor, c: tuple[float, float], ctx: Context) -> torch.Tensor:
    """cv2.filter2D of each channel with the anti-aliased disk kernel (border BORDER_REFLECT_101)."""
    radius, alias_blur = c
    return correlate2d(x, _disk_taps(radius, alias_blur), "reflect101")


def motion_blur(x: torch.Tensor, c: tuple[float, float], ctx: Context) -> torch.Tensor:
    """Blur along a half-line at a random angle in [-45, 45) degrees, one per sample.

    CIFAR-10-C used ImageMagick's MotionBlurImage (through Wand) and imagecorruptions re-implements it in
    numpy; both are this line kernel (see `_filters.line_blur`), here as one gather per tap for the batch.
    """
    radius, sigma = c
    angle = -45.0 + 90.0 * ctx.uniform(0, 1)[:, 0].to(torch.float64)
    return line_blur(x, radius, sigma, angle)


def zoom_blur(x: torch.Tensor, c: tuple[float, float], ctx: Context) -> torch.Tensor:
    """Average of the image and its centre zooms by each factor of np.arange(1, stop, step)."""
    factors = zoom_factors(*c)
    out = x.clone()
    for factor in factors:
        out.add_(clipped_zoom(x, factor))
    return out / (len(factors) + 1)
