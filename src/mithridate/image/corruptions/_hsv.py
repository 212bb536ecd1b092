"""HSV corruptions: brightness and saturate, with scikit-image's rgb2hsv / hsv2rgb batched.

Sources: `brightness` and `saturate` of make_cifar_c.py / make_imagenet_c.py (hendrycks/robustness) and
imagecorruptions/corruptions.py, which go through `skimage.color.rgb2hsv` and back.
"""

from __future__ import annotations

import torch

from ._context import Context

__all__ = ["brightness", "hsv_to_rgb", "rgb_to_hsv", "saturate"]


def rgb_to_hsv(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """skimage.color.rgb2hsv on (N, 3, H, W): hue in [0, 1), saturation, value; ties go to blue, then green."""
    r, g, b = x.unbind(dim=1)
    value = torch.maximum(torch.maximum(r, g), b)
    delta = value - torch.minimum(torch.minimum(r, g), b)
    flat = delta == 0
    safe = torch.where(flat, torch.ones_like(delta), delta)
    saturation = torch.where(flat, torch.zeros_like(delta), delta / torch.where(flat, torch.ones_like(value), value))
    hue = torch.where(r == value, (g - b) / safe, torch.zeros_like(delta))
    hue = torch.where(g == value, 2.0 + (b - r) / safe, hue)
    hue = torch.where(b == value, 4.0 + (r - g) / safe, hue)
    hue = torch.remainder(hue / 6.0, 1.0)
    return torch.where(flat, torch.zeros_like(hue), hue), saturation, value


def hsv_to_rgb(hue: torch.Tensor, saturation: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """skimage.color.hsv2rgb back to (N, 3, H, W)."""
    sector = torch.floor(hue * 6.0)
    f = hue * 6.0 - sector
    p = value * (1.0 - saturation)
    q = value * (1.0 - f * saturation)
    t = value * (1.0 - (1.0 - f) * saturation)
    sector = torch.remainder(sector, 6).to(torch.int64).unsqueeze(0)
    red = torch.stack([value, q, p, p, t, value]).gather(0, sector)[0]
    green = torch.stack([t, value, value, q, p, p]).gather(0, sector)[0]
    blue = torch.stack([p, p, t, value, value, q]).gather(0, sector)[0]
    return torch.stack([red, green, blue], dim=1)


def brightness(x: torch.Tensor, c: float, ctx: Context) -> torch.Tensor:
    """HSV value + c, clipped to 1, hue and saturation kept.

    With hue and saturation fixed, hsv2rgb is linear in the value, so this is x * v' / v (v' where v is
    0): the same as the reference's round trip through HSV up to float rounding. A gray image (C = 1)
    is its own value: x + c, as imagecorruptions does for gray.
    """
    value = x.amax(dim=1, keepdim=True)
    lifted = (value + c).clamp(max=1.0)
    ratio = lifted / torch.where(value > 0, value, torch.ones_like(value))
    return torch.where(value > 0, x * ratio, lifted.expand_as(x))


def saturate(x: torch.Tensor, c: tuple[float, float], ctx: Context) -> torch.Tensor:
    """HSV saturation * a + b, clipped to [0, 1], through the HSV round trip.

    Gray pixels of colour images have hue 0 (red), so b > 0 tints them red, as in the reference. A gray
    image (C = 1) has no saturation to change and is returned unchanged: imagecorruptions stacks it to
    RGB and keeps the red channel, which is the unchanged value for hue 0.
    """
    if x.shape[1] == 1:
        return x.clone()
    a, b = c
    hue, saturation, value = rgb_to_hsv(x)
    return hsv_to_rgb(hue, (saturation * a + b).clamp(0.0, 1.0), value)
