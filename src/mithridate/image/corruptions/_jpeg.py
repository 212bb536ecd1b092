"""jpeg_compression: a JPEG round trip of the whole batch in torch, as Pillow's encoder and decoder do it.

The references save each image with Pillow (`x.save(output, "JPEG", quality=c)`) and decode it again;
Pillow uses libjpeg(-turbo) with its defaults. Here, batched:

- RGB to YCbCr with libjpeg's 16-bit fixed-point formulas (jccolor.c); gray images are coded as one
  luma plane (imagecorruptions stacks them to RGB first, whose chroma is then constant: the same);
- 4:2:0 chroma subsampling by 2x2 averages with libjpeg's alternating rounding bias (jcsample.c);
- 8x8 DCT-II, quantisation with the IJG tables of the JPEG standard (Annex K) scaled by the quality as
  `jpeg_quality_scaling` does (baseline, clipped to 1..255), rounding half away from zero;
- dequantisation, inverse DCT, level shift, rounding and clipping to 0..255;
- "fancy" (triangle) chroma upsampling and YCbCr to RGB in fixed point (jdsample.c, jdcolor.c).

The DCTs are exact (float) where libjpeg's default is an integer approximation (JDCT_ISLOW): a few
coefficients round the other way, so pixels differ from Pillow's by a level here and there (the tests
bound the mean difference). Images are padded to whole 16x16 blocks by edge replication, as libjpeg
pads. Output is always on the 8-bit grid, as a decoded JPEG is.
"""

from __future__ import annotations

import math

import torch

from ..._backend.transfer import constant
from ._context import Context
from ._filters import pad

__all__ = ["jpeg_compression", "quantization_table"]

LUMA_TABLE = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
CHROMA_TABLE = (
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
)  # fmt: skip

_SCALE_BITS = 16
ROUNDING_HALF = 1 << (_SCALE_BITS - 1)


def fixed_point(value: float) -> int:
    return int(value * (1 << _SCALE_BITS) + 0.5)


def quantization_table(base: tuple[int, ...], quality: int) -> list[int]:
    """libjpeg's jpeg_set_quality(quality, force_baseline=TRUE) applied to a base table."""
    quality = min(max(int(quality), 1), 100)
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(max((b * scale + 50) // 100, 1), 255) for b in base]


def dct_matrix(device: torch.device) -> torch.Tensor:
    """The orthonormal 8-point DCT-II, D[u, k] = C(u) / 2 cos((2k + 1) u pi / 16)."""
    rows = []
    for u in range(8):
        scale = math.sqrt(0.125) if u == 0 else 0.5
        rows.append(tuple(scale * math.cos((2 * k + 1) * u * math.pi / 16) for k in range(8)))
    return constant(tuple(rows), torch.float32, device)


def _transform(blocks: torch.Tensor, dim: int, matrix: torch.Tensor) -> torch.Tensor:
    """out[.., u, ..] = sum_k matrix[u, k] in[.., k, ..] along `dim` (size 8), as 8 multiply-adds."""
    moved = blocks.movedim(dim, -1)
    out = torch.zeros_like(moved)
    for k in range(8):
        out.add_(moved[..., k : k + 1] * matrix[:, k])
    return out.movedim(-1, dim)


def _code_plane(plane: torch.Tensor, table: list[int]) -> torch.Tensor:
    """DCT, quantise, dequantise and inverse-DCT an integer plane (N, h, w), h and w multiples of 8."""
    n, height, width = plane.shape
    dct = dct_matrix(plane.device)
    blocks = (plane.to(torch.float32) - 128.0).view(n, height // 8, 8, width // 8, 8)
    coef = _transform(_transform(blocks, 2, dct), 4, dct)
    step = constant(tuple(table), torch.float32, plane.device).view(1, 1, 8, 1, 8)
    levels = torch.sign(coef) * torch.floor(coef.abs() / step + 0.5)
    back = _transform(_transform(levels * step, 2, dct.T), 4, dct.T)
    return torch.floor(back + 128.5).clamp_(0, 255).to(torch.int64).view(n, height, width)


def _downsample(plane: torch.Tensor) -> torch.Tensor:
    """libjpeg's h2v2_downsample: (a + b + c + d + bias) >> 2, bias 1, 2, 1, 2... along each row."""
    total = plane[:, 0::2, 0::2] + plane[:, 0::2, 1::2] + plane[:, 1::2, 0::2] + plane[:, 1::2, 1::2]
    bias = 1 + torch.arange(total.shape[-1], device=plane.device) % 2
    return (total + bias) >> 2


def _upsample(plane: torch.Tensor) -> torch.Tensor:
    """libjpeg's h2v2_fancy_upsample (triangle filter, edges replicated), (N, h, w) -> (N, 2h, 2w)."""
    n, height, width = plane.shape
    rows = torch.arange(height, device=plane.device)
    above = plane[:, (rows - 1).clamp(min=0)]
    below = plane[:, (rows + 1).clamp(max=height - 1)]
    sums = torch.stack([3 * plane + above, 3 * plane + below], dim=2).view(n, 2 * height, width)
    cols = torch.arange(width, device=plane.device)
    left = sums[:, :, (cols - 1).clamp(min=0)]
    right = sums[:, :, (cols + 1).clamp(max=width - 1)]
    out = torch.stack([(3 * sums + left + 8) >> 4, (3 * sums + right + 7) >> 4], dim=3)
    return out.view(n, 2 * height, 2 * width)


def _rgb_to_ycc(r: torch.Tensor, g: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, ...]:
    offset = (128 << _SCALE_BITS) + ROUNDING_HALF - 1
    y = (fixed_point(0.299) * r + fixed_point(0.587) * g + fixed_point(0.114) * b + ROUNDING_HALF) >> _SCALE_BITS
    cb = (-fixed_point(0.16874) * r - fixed_point(0.33126) * g + fixed_point(0.5) * b + offset) >> _SCALE_BITS
    cr = (fixed_point(0.5) * r - fixed_point(0.41869) * g - fixed_point(0.08131) * b + offset) >> _SCALE_BITS
    return y, cb, cr


def _ycc_to_rgb(y: torch.Tensor, cb: torch.Tensor, cr: torch.Tensor) -> torch.Tensor:
    cb, cr = cb - 128, cr - 128
    r = y + ((fixed_point(1.402) * cr + ROUNDING_HALF) >> _SCALE_BITS)
    g = y + ((-fixed_point(0.34414) * cb + ROUNDING_HALF - fixed_point(0.71414) * cr) >> _SCALE_BITS)
    b = y + ((fixed_point(1.772) * cb + ROUNDING_HALF) >> _SCALE_BITS)
    return torch.stack([r, g, b], dim=1).clamp_(0, 255)


def jpeg_compression(x: torch.Tensor, quality: int, ctx: Context) -> torch.Tensor:
    _, channels, height, width = x.shape
    luma_table = quantization_table(LUMA_TABLE, quality)
    values = torch.round(x.clamp(0, 1) * 255.0).to(torch.int64)
    block = 8 if channels == 1 else 16
    padded = pad(values, 0, -height % block, 0, -width % block, "replicate")
    if channels == 1:
        out = _code_plane(padded[:, 0], luma_table)[:, None, :height, :width]
        return out.to(x.dtype) / 255.0
    chroma_table = quantization_table(CHROMA_TABLE, quality)
    y, cb, cr = _rgb_to_ycc(*padded.unbind(dim=1))
    y = _code_plane(y, luma_table)[:, :height, :width]
    half_h, half_w = (height + 1) // 2, (width + 1) // 2
    cb = _upsample(_code_plane(_downsample(cb), chroma_table)[:, :half_h, :half_w])[:, :height, :width]
    cr = _upsample(_code_plane(_downsample(cr), chroma_table)[:, :half_h, :half_w])[:, :height, :width]
    return _ycc_to_rgb(y, cb, cr).to(x.dtype) / 255.0
