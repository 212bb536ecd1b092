"""Digital corruptions: contrast and pixelate, batched over (N, C, H, W) in [0, 1].

Sources: `contrast` and `pixelate` of make_cifar_c.py / make_imagenet_c.py (hendrycks/robustness) and
imagecorruptions/corruptions.py.
"""

from __future__ import annotations

import torch

from ._context import Context
from ._pil_resize import resize_box, resize_nearest

__all__ = ["contrast", "pixelate"]


def contrast(x: torch.Tensor, c: float, ctx: Context) -> torch.Tensor:
    """(x - mean) * c + mean, the mean taken per image and channel (reference: axis=(0, 1) of HWC)."""
    mean = x.to(torch.float64).mean(dim=(2, 3), keepdim=True).to(x.dtype)
    return (x - mean) * c + mean


def pixelate(x: torch.Tensor, c: float, ctx: Context) -> torch.Tensor:
    """Pillow resize to int(side * c) with BOX, then back to the image size.

    Back with BOX for CIFAR (make_cifar_c.py), with NEAREST for ImageNet sizes (imagecorruptions;
    make_imagenet_c.py uses BOX, which for upscaling picks the same pixel but at exact ties). uint8
    images are resized in Pillow's fixed point with its rounding after each pass, so they match Pillow.
    """
    height, width = x.shape[-2:]
    small_h, small_w = max(1, int(height * c)), max(1, int(width * c))
    values = torch.round(x * 255.0).to(torch.int32) if ctx.integral else x
    small = resize_box(values, small_h, small_w, ctx.integral)
    if ctx.table == "cifar":
        out = resize_box(small, height, width, ctx.integral)
    else:
        out = resize_nearest(small, height, width)
    return out.to(x.dtype) / 255.0 if ctx.integral else out
