"""Colour and intensity kernels on (N, C, H, W) batches with one parameter per sample.

Each kernel computes what torchvision's `transforms.v2.functional` computes for one image, with the
same arithmetic: the same float dtype, the same fused multiply-add in blends (`torch.addcmul` fuses as
torchvision's `add_(..., alpha=...)` does), truncation toward zero where torchvision casts to uint8.
"""

from __future__ import annotations

import torch

from ._common import Magnitude, as_4d, check_images, compute_dtype, max_value, per_sample

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_saturation",
    "adjust_sharpness",
    "autocontrast",
    "autocontrast_stretch",
    "blend",
    "equalize",
    "equalize_tables",
    "grayscale",
    "invert",
    "posterize",
    "solarize",
]


def _factors(images: torch.Tensor, factor: Magnitude, name: str, validate: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """The blend ratio and 1 - ratio, computed in float64 as torchvision does with Python floats."""
    ratio = per_sample(factor, images.shape[0], images.device)
    if validate and images.shape[0] and bool((ratio < 0).any()):
        raise ValueError(f"{name}: expected non-negative factors, got {ratio.min().item()}")
    dtype = compute_dtype(images)
    return as_4d(ratio.to(dtype)), as_4d((1.0 - ratio).to(dtype))


def _blend_with(images: torch.Tensor, other: torch.Tensor, ratio: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """images * ratio + other * (1 - ratio), clamped, with torchvision's rounding (fused second term)."""
    out = torch.addcmul(images.mul(ratio), other, alpha).clamp_(0, max_value(images.dtype))
    return out if images.is_floating_point() else out.to(images.dtype)


def grayscale(images: torch.Tensor) -> torch.Tensor:
    """ITU-R 601-2 luma of RGB images as a floating (N, 1, H, W) tensor, floored for uint8 input."""
    r, g, b = images.unbind(dim=-3)
    gray = r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).unsqueeze(-3)
    return gray if images.is_floating_point() else gray.floor_()


def adjust_brightness(images: torch.Tensor, factor: Magnitude, *, validate: bool = True) -> torch.Tensor:
    """Multiply intensities by a per-sample factor >= 0 (1 keeps the image)."""
    if validate:
        check_images(images)
    ratio, _ = _factors(images, factor, "brightness factor", validate)
    out = images.mul(ratio).clamp_(0, max_value(images.dtype))
    return out if images.is_floating_point() else out.to(images.dtype)


def adjust_saturation(images: torch.Tensor, factor: Magnitude, *, validate: bool = True) -> torch.Tensor:
    """Blend each RGB image with its grayscale version (0 = gray, 1 = unchanged); 1-channel images pass."""
    if validate:
        check_images(images)
    ratio, alpha = _factors(images, factor, "saturation factor", validate)
    if images.shape[1] == 1:
        return images.clone()
    return _blend_with(images, grayscale(images), ratio, alpha)


def adjust_contrast(images: torch.Tensor, factor: Magnitude, *, validate: bool = True) -> torch.Tensor:
    """Blend each image with the mean of its grayscale version (0 = flat gray, 1 = unchanged)."""
    if validate:
        check_images(images)
    ratio, alpha = _factors(images, factor, "contrast factor", validate)
    if images.shape[1] == 3:
        gray = grayscale(images)
    else:
        gray = images if images.is_floating_point() else images.to(torch.float32)
    mean = torch.mean(gray, dim=(-3, -2, -1), keepdim=True)
    return _blend_with(images, mean, ratio, alpha)


def _box3(images: torch.Tensor) -> torch.Tensor:
    """Sum of each interior pixel's 3x3 neighbourhood, by separable shifted adds (exact on integers)."""
    rows = images[..., :, :-2] + images[..., :, 1:-1] + images[..., :, 2:]
    return rows[..., :-2, :] + rows[..., 1:-1, :] + rows[..., 2:, :]


def adjust_sharpness(images: torch.Tensor, factor: Magnitude, *, validate: bool = True) -> torch.Tensor:
    """Blend with a 3x3 smoothed copy (0 = smooth, 1 = unchanged, 2 = sharper); the 1-pixel border is kept.

    The smoothing kernel is PIL's (1 around a centre of 5, over 13). For uint8 the neighbourhood sum is
    exact in integers and (sum + 4 centre) / 13 is never halfway between two integers, so rounding it
    matches torchvision's convolution exactly.
    Floating images sum neighbours in another order than a convolution: within 1e-6 of torchvision.
    """
    if validate:
        check_images(images)
    _, alpha = _factors(images, factor, "sharpness factor", validate)
    h, w = images.shape[-2:]
    if images.numel() == 0 or h <= 2 or w <= 2:
        return images.clone()
    dtype = compute_dtype(images)
    centre = images[..., 1:-1, 1:-1]
    if images.is_floating_point():
        blurred = (_box3(images) + 4.0 * centre) * (1.0 / 13.0)
        inner = torch.addcmul(centre, blurred - centre, alpha)
    else:
        wide = images.to(torch.int16)
        total = _box3(wide).add_(wide[..., 1:-1, 1:-1], alpha=4)
        # (sum + 4 centre) / 13 lies at least 1/26 from a half, so float32 rounds it exactly.
        centre = centre.to(dtype)
        blurred = total.to(dtype).mul_(1.0 / 13.0).round_()
        inner = torch.addcmul(centre, blurred.sub_(centre), alpha)
    out = images.clone()
    out[..., 1:-1, 1:-1] = inner.clamp_(0, max_value(images.dtype))
    return out


def posterize(images: torch.Tensor, bits: Magnitude, *, validate: bool = True) -> torch.Tensor:
    """Keep the `bits` most significant bits of each intensity (integers in [0, 8]; 8 keeps the image)."""
    check_images(images)
    bits = per_sample(bits, images.shape[0], images.device, torch.int64)
    if validate and images.shape[0] and bool(((bits < 0) | (bits > 8)).any()):
        raise ValueError(f"posterize bits: expected integers in [0, 8], got {bits.tolist()}")
    if images.is_floating_point():
        levels = as_4d((1 << bits).to(images.dtype))
        return images.mul(levels).floor_().clamp_(min=torch.zeros_like(levels), max=levels - 1).mul_(1.0 / levels)
    mask = (((1 << bits) - 1) << (8 - bits)).to(torch.uint8)
    return images & as_4d(mask)


def solarize(images: torch.Tensor, threshold: Magnitude, *, validate: bool = True) -> torch.Tensor:
    """Invert the intensities at or above a per-sample threshold, in the image's value units."""
    check_images(images)
    threshold = per_sample(threshold, images.shape[0], images.device)
    bound = max_value(images.dtype)
    if validate and images.shape[0] and bool((threshold > bound).any()):
        raise ValueError(f"solarize threshold: expected values <= {bound:g}, got {threshold.max().item()}")
    threshold = threshold.to(compute_dtype(images))
    if images.dtype == torch.uint8:
        # For whole-number intensities, x >= t exactly when x >= ceil(t). In int16, clamp(x - ceil(t) + 1,
        # 0, 1) * 255 is 255 exactly there, and xor with 255 inverts: no boolean masks (slow on uint8).
        start = as_4d(threshold.ceil().clamp_(0, 256).to(torch.int16) - 1)
        flip = images.to(torch.int16).sub_(start).clamp_(0, 1).mul_(255).to(torch.uint8)
        return flip.bitwise_xor_(images)
    return torch.where(images >= as_4d(threshold), invert(images), images)


def autocontrast_stretch(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image and channel, the offset and divisor (N, C, 1, 1) that stretch [min, max] to full intensity
    (0 and 1 for flat channels), in the compute dtype: AutoContrast is clamp((x - offset) / divisor)."""
    bound = max_value(images.dtype)
    floating = images if images.is_floating_point() else images.to(torch.float32)
    minimum = floating.amin(dim=(-2, -1), keepdim=True)
    maximum = floating.amax(dim=(-2, -1), keepdim=True)
    flat = maximum == minimum
    inv_scale = maximum.sub_(minimum).mul_(1.0 / bound)
    # torch.where rather than masked assignment, which reads the mask back to the host on a GPU.
    return torch.where(flat, 0.0, minimum), torch.where(flat, 1.0, inv_scale)


def autocontrast(images: torch.Tensor) -> torch.Tensor:
    """Stretch each channel of each image so that its darkest value becomes 0 and its lightest full."""
    check_images(images)
    if images.numel() == 0:
        return images.clone()
    minimum, inv_scale = autocontrast_stretch(images)
    floating = images if images.is_floating_point() else images.to(torch.float32)
    return floating.sub(minimum).div_(inv_scale).clamp_(0, max_value(images.dtype)).to(images.dtype)


def _equalize_tables(flat: torch.Tensor) -> torch.Tensor:
    """PIL's equalisation tables (N, C, 256) uint8 from the levels (N, C, H * W) of each channel (int64)."""
    n, c = flat.shape[:2]
    hist = torch.zeros((n, c, 256), dtype=torch.int32, device=flat.device)
    hist.scatter_add_(-1, flat, torch.ones(1, dtype=torch.int32, device=flat.device).expand_as(flat))
    cum = hist.cumsum(dim=-1)
    last = cum.argmax(dim=-1, keepdim=True)
    non_max = flat.shape[-1] - hist.gather(-1, last)
    step = non_max.div(255, rounding_mode="floor")
    # PIL's (cum + step // 2) // step on non-negative integers, in float64: exact (the quotient's distance
    # to the next integer, at least 1 / step, exceeds its rounding error while cum < 2**52), and 10x
    # faster than integer floor division, which the CPU runs element by element.
    numerator = (cum[..., :-1] + step // 2).to(torch.float64)
    lut = numerator.div_(step.clamp(min=1).to(torch.float64)).floor_().clamp_(0, 255).to(torch.uint8)
    lut = torch.cat([lut.new_zeros((n, c, 1)), lut], dim=-1)
    # Channels with a single non-zero bin keep their values: an identity table, chosen per channel on the
    # (n, c, 256) tables rather than per pixel (measured 10-20% faster than a full-size where).
    identity = torch.arange(256, dtype=torch.uint8, device=flat.device).expand(n, c, 256)
    return torch.where((step != 0), lut, identity)


def equalize_tables(images: torch.Tensor) -> torch.Tensor:
    """The lookup tables (N, C, 256) uint8 that `equalize` applies to the 8-bit levels of each channel."""
    check_images(images)
    levels = images if images.dtype == torch.uint8 else images.mul(255.0 + 1.0 - 1e-3).to(torch.uint8)
    return _equalize_tables(levels.reshape(*levels.shape[:2], -1).to(torch.int64))


def equalize(images: torch.Tensor) -> torch.Tensor:
    """Histogram-equalise each channel of each image, with PIL's lookup-table rule; all in one pass.

    Floating images are binned to 256 levels as torchvision does (x * 255.999, truncated).
    """
    check_images(images)
    if images.numel() == 0:
        return images.clone()
    levels = images if images.dtype == torch.uint8 else images.mul(255.0 + 1.0 - 1e-3).to(torch.uint8)
    flat = levels.reshape(*levels.shape[:2], -1).to(torch.int64)
    lut = _equalize_tables(flat)
    out = lut.gather(-1, flat).view_as(levels)
    if images.dtype == torch.uint8:
        return out
    return out.to(images.dtype).mul_(1.0 / 255.0)


def invert(images: torch.Tensor) -> torch.Tensor:
    """Negative image: full intensity minus each value."""
    check_images(images)
    return 1.0 - images if images.is_floating_point() else images.bitwise_not()


def blend(images: torch.Tensor, transformed: torch.Tensor, amount: Magnitude) -> torch.Tensor:
    """Move each image a per-sample fraction `amount` of the way to `transformed` (rounded for uint8).

    Ops without a magnitude use it to follow a strength below 1: amount 0 keeps the image, 1 applies
    the op in full.
    """
    weight = as_4d(per_sample(amount, images.shape[0], images.device, compute_dtype(images)))
    dtype = compute_dtype(images)
    out = torch.lerp(images.to(dtype), transformed.to(dtype), weight)
    return out if images.is_floating_point() else out.round_().clamp_(0, 255).to(images.dtype)
