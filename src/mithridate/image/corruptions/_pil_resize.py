"""Pillow's BOX and NEAREST resizing, batched, with its rounding: what `pixelate` goes through.

BOX follows Pillow's Resample.c: per output pixel the input pixels whose centres fall in the box
(support 0.5 times the scale), weights normalised, then for uint8 images 22-bit fixed-point weights and
rounding after each pass (horizontal first, then vertical). NEAREST follows Pillow's scaling transform
(ImagingScaleAffine). Float images use the same taps without rounding.
"""

from __future__ import annotations

import functools

import torch

__all__ = ["resize_box", "resize_nearest"]

PRECISION_BITS = 32 - 8 - 2


def box_taps(size_in: int, size_out: int) -> list[list[tuple[int, float]]]:
    """Per output pixel, (input index, weight) pairs of Pillow's BOX filter (precompute_coeffs)."""
    scale = size_in / size_out
    filterscale = max(scale, 1.0)
    support = 0.5 * filterscale
    taps = []
    for xx in range(size_out):
        centre = (xx + 0.5) * scale
        xmin = max(int(centre - support + 0.5), 0)
        xmax = min(int(centre + support + 0.5), size_in)
        weights = []
        for x in range(xmin, xmax):
            arg = (x - centre + 0.5) / filterscale
            weights.append((x, 1.0 if -0.5 < arg <= 0.5 else 0.0))
        total = sum(w for _, w in weights)
        taps.append([(x, w / total) for x, w in weights if w != 0.0] if total else [])
    return taps


@functools.lru_cache(maxsize=128)
def _box_tables(size_in: int, size_out: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The box filter's input indices (int64) and weights (float64), (taps, size_out), on `device`, once."""
    taps = box_taps(size_in, size_out)
    width = max(len(t) for t in taps)
    index = torch.zeros((width, size_out), dtype=torch.int64)
    weight = torch.zeros((width, size_out), dtype=torch.float64)
    for o, pairs in enumerate(taps):
        for k, (i, w) in enumerate(pairs):
            index[k, o], weight[k, o] = i, w
    return index.to(device), weight.to(device)


def _apply_box(x: torch.Tensor, dim: int, size_out: int, integral: bool) -> torch.Tensor:
    size_in = x.shape[dim]
    if size_in == size_out:
        return x
    index, weight = _box_tables(size_in, size_out, x.device)
    width = index.shape[0]
    shape = [1] * x.ndim
    shape[dim] = size_out
    if integral:
        # x holds integers 0..255: Pillow's fixed point, sum + half, shifted, clipped. The weights of an
        # output sum to 2^22, so every partial sum stays under 2^31: int32 is exact.
        fixed = torch.floor(weight * (1 << PRECISION_BITS) + 0.5).to(torch.int32)
        total = torch.full_like(x.index_select(dim, index[0]), 1 << (PRECISION_BITS - 1))
        for k in range(width):
            total += x.index_select(dim, index[k]) * fixed[k].view(shape)
        return (total >> PRECISION_BITS).clamp_(0, 255)
    out = torch.zeros_like(x.index_select(dim, index[0]))
    for k in range(width):
        out += x.index_select(dim, index[k]) * weight[k].to(x.dtype).view(shape)
    return out


def resize_box(x: torch.Tensor, height: int, width: int, integral: bool) -> torch.Tensor:
    """Pillow `resize((width, height), Image.BOX)`; integral images are int32 0..255, others float."""
    return _apply_box(_apply_box(x, -1, width, integral), -2, height, integral)


@functools.lru_cache(maxsize=128)
def nearest_index(size_in: int, size_out: int, device: torch.device) -> torch.Tensor:
    """Pillow's ImagingScaleAffine: the position starts at scale / 2 and adds the scale per pixel (doubles)."""
    scale = size_in / size_out
    position = scale * 0.5
    index = []
    for _ in range(size_out):
        index.append(min(int(position), size_in - 1))
        position += scale
    return torch.tensor(index, dtype=torch.int64).to(device)


def resize_nearest(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pillow `resize((width, height), Image.NEAREST)`: input pixel floor((o + 0.5) * scale)."""
    x = x.index_select(-1, nearest_index(x.shape[-1], width, x.device))
    return x.index_select(-2, nearest_index(x.shape[-2], height, x.device))
