"""Weather corruptions: snow, frost and fog, batched over (N, C, H, W) in [0, 1].

Sources: `snow`, `frost` and `fog` of make_cifar_c.py / make_imagenet_c.py (hendrycks/robustness) and
imagecorruptions/corruptions.py. Frost is procedural here (see `_textures.frost_layer`): the references
blend in crops of frost photographs shipped with their code.
"""

from __future__ import annotations

import torch

from ._context import Context
from ._filters import clipped_zoom, line_blur
from ._textures import frost_layer, plasma_fractal

__all__ = ["fog", "frost", "snow"]


def _gray(x: torch.Tensor) -> torch.Tensor:
    """cv2.cvtColor(RGB2GRAY) luma (N, 1, H, W); a 1-channel image is its own gray."""
    if x.shape[1] == 1:
        return x
    r, g, b = x.unbind(dim=1)
    return (0.299 * r + 0.587 * g + 0.114 * b).unsqueeze(1)


def snow(x: torch.Tensor, c: tuple, ctx: Context) -> torch.Tensor:
    """Flakes: a normal field zoomed, thresholded and motion-blurred, added twice (and turned 180 degrees).

    As the references: field N(loc, scale) per pixel, `clipped_zoom` by `zoom`, values under `threshold`
    set to 0, clipped and made uint8, motion blur (radius, sigma) at an angle in [-135, -45) degrees
    (ImageMagick in make_*_c.py, imagecorruptions' numpy re-implementation; here `line_blur`), rounded to
    uint8 levels; the image is first whitened: blend x + (1 - blend) max(x, 1.5 gray + 0.5).
    """
    loc, scale, zoom, threshold, radius, sigma, blend = c
    height, width = x.shape[-2:]
    layer = loc + scale * ctx.field(0, (1, height, width)).to(x.dtype)
    layer = clipped_zoom(layer, zoom)
    layer = torch.where(layer < threshold, torch.zeros_like(layer), layer).clamp(0.0, 1.0)
    layer = torch.floor(layer * 255.0) / 255.0
    angle = -135.0 + 90.0 * ctx.uniform(1, 1)[:, 0].to(torch.float64)
    layer = torch.round(line_blur(layer, radius, sigma, angle) * 255.0) / 255.0
    whitened = blend * x + (1.0 - blend) * torch.maximum(x, _gray(x) * 1.5 + 0.5)
    return whitened + layer + torch.flip(layer, dims=(-2, -1))


def frost(x: torch.Tensor, c: tuple[float, float], ctx: Context) -> torch.Tensor:
    """a * x + b * frost, frost a procedural layer with the frost photographs' colour statistics."""
    a, b = c
    _, channels, height, width = x.shape
    layer = frost_layer(ctx, 0, channels, height, width).to(x.dtype)
    return a * x + b * (layer / 255.0)


def _next_power_of_two(value: int) -> int:
    return 1 if value <= 1 else 1 << (value - 1).bit_length()


def fog(x: torch.Tensor, c: tuple[float, float], ctx: Context) -> torch.Tensor:
    """(x + s * plasma) * max / (max + s): a plasma fractal (wibble decay d) over the image, max its peak.

    The fractal is square with the next power of two of the larger side (32 for CIFAR, 256 for 224x224,
    as the references) and cropped to the image.
    """
    strength, decay = c
    height, width = x.shape[-2:]
    mapsize = _next_power_of_two(max(height, width))
    plasma = plasma_fractal(ctx, 0, mapsize, decay)[:, None, :height, :width].to(x.dtype)
    peak = x.amax(dim=(1, 2, 3), keepdim=True)
    return (x + strength * plasma) * peak / (peak + strength)
