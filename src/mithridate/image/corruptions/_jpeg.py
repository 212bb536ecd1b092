"""jpeg_compression: a JPEG round trip of the whole batch in torch, as Pillow's encoder and decoder do it.

The references save each image with Pillow (`x.save(output, "JPEG", quality=c)`) and decode it again;
Pillow uses libjpeg(-turbo) with its defaults. Here, batched:

- RGB to YCbCr with libjpeg's 16-bit fixed-point formulas (jccolor.c); gray images are coded as one
  luma plane (imagecorruptions stacks them to RGB first, whose chroma is then constant: the same);
- 4:2:0 chroma subsampling by 2x2 averages with libjpeg's alternating rounding bias (jcsample.c);
- 8x8 DCTs as libjpeg's floating-point method (JDCT_FLOAT: the AAN butterflies of jfdctflt.c and
  jidctflt.c, 5 products per line of 8), quantisation with the IJG tables of the JPEG standard (Annex K)
  scaled by the quality as `jpeg_quality_scaling` does (baseline, clipped to 1..255), through the float
  divisor and multiplier tables of jcdctmgr.c and jddctmgr.c (rounding half up: `(int)(x + 16384.5) - 16384`);
- dequantisation, inverse DCT, level shift, truncation and clipping to 0..255 (libjpeg's range limit);
- "fancy" (triangle) chroma upsampling and YCbCr to RGB in fixed point (jdsample.c, jdcolor.c).

Pillow encodes and decodes with libjpeg's default integer DCT (JDCT_ISLOW): a few coefficients near a
rounding boundary round the other way, so pixels differ from Pillow's by a level here and there (the
tests bound the mean difference). Images are padded to whole 16x16 blocks by edge replication, as libjpeg
pads. Output is always on the 8-bit grid, as a decoded JPEG is. Every step is float32 arithmetic without
fused multiply-adds, so the compiled kernel (`_native_jpeg`) gives the same bytes.
"""

from __future__ import annotations

import numpy as np
import torch

from ..._backend.transfer import constant
from ._context import Context
from ._filters import pad

__all__ = ["fdct8", "float_tables", "idct8", "jpeg_compression", "quantization_table"]

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


# libjpeg's floating-point DCT (JDCT_FLOAT: jfdctflt.c, jidctflt.c, the quantisation of jcdctmgr.c and
# jddctmgr.c). Arai, Agui and Nakajima's factorisation leaves each output scaled by aan(u) * aan(v) / 8
# (aan(0) = 1, aan(k) = sqrt(2) cos(k pi / 16)); the scales are folded into the quantisation tables.
AAN_SCALE = (1.0, 1.387039845, 1.306562965, 1.175875602, 1.0, 0.785694958, 0.541196100, 0.275899379)
_C4 = np.float32(0.707106781)
_C6 = np.float32(0.382683433)
_C2_MINUS_C6 = np.float32(0.541196100)
_C2_PLUS_C6 = np.float32(1.306562965)
_TWO_C4 = np.float32(1.414213562)
_TWO_C2 = np.float32(1.847759065)
_TWO_C2_MINUS_C6 = np.float32(1.082392200)
_TWO_C2_PLUS_C6 = np.float32(2.613125930)
LEVEL_ROUNDING = np.float32(16384.5)  # quantize_float: (int)(x + 16384.5) - 16384 rounds half up
LEVEL_OFFSET = np.float32(16384.0)
SAMPLE_CENTRE = np.float32(128.5)  # the inverse's level shift, with the 0.5 of its truncation to an integer


def fdct8(d0, d1, d2, d3, d4, d5, d6, d7):
    """jpeg_fdct_float on one line of 8 values (floats, float32 arrays or tensors): 5 products, 29 sums."""
    tmp0, tmp7 = d0 + d7, d0 - d7
    tmp1, tmp6 = d1 + d6, d1 - d6
    tmp2, tmp5 = d2 + d5, d2 - d5
    tmp3, tmp4 = d3 + d4, d3 - d4
    tmp10, tmp13 = tmp0 + tmp3, tmp0 - tmp3
    tmp11, tmp12 = tmp1 + tmp2, tmp1 - tmp2
    z1 = (tmp12 + tmp13) * _C4
    tmp10o, tmp11o, tmp12o = tmp4 + tmp5, tmp5 + tmp6, tmp6 + tmp7
    z5 = (tmp10o - tmp12o) * _C6
    z2 = _C2_MINUS_C6 * tmp10o + z5
    z4 = _C2_PLUS_C6 * tmp12o + z5
    z3 = tmp11o * _C4
    z11, z13 = tmp7 + z3, tmp7 - z3
    return (tmp10 + tmp11, z11 + z4, tmp13 + z1, z13 - z2, tmp10 - tmp11, z13 + z2, tmp13 - z1, z11 - z4)


def idct8(d0, d1, d2, d3, d4, d5, d6, d7):
    """jpeg_idct_float's butterfly on one line of 8 dequantised values (d0 already carries any level shift)."""
    tmp10, tmp11 = d0 + d4, d0 - d4
    tmp13 = d2 + d6
    tmp12 = (d2 - d6) * _TWO_C4 - tmp13
    tmp0, tmp3 = tmp10 + tmp13, tmp10 - tmp13
    tmp1, tmp2 = tmp11 + tmp12, tmp11 - tmp12
    z13, z10 = d5 + d3, d5 - d3
    z11, z12 = d1 + d7, d1 - d7
    tmp7 = z11 + z13
    tmp11 = (z11 - z13) * _TWO_C4
    z5 = (z10 + z12) * _TWO_C2
    tmp10 = z5 - z12 * _TWO_C2_MINUS_C6
    tmp12 = z5 - z10 * _TWO_C2_PLUS_C6
    tmp6 = tmp12 - tmp7
    tmp5 = tmp11 - tmp6
    tmp4 = tmp10 - tmp5
    return (tmp0 + tmp7, tmp1 + tmp6, tmp2 + tmp5, tmp3 + tmp4, tmp3 - tmp4, tmp2 - tmp5, tmp1 - tmp6, tmp0 - tmp7)


def float_tables(table: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(divisors, multipliers), float32 (8, 8): libjpeg's JDCT_FLOAT quantisation and dequantisation tables.

    divisor = 1 / (step aan(u) aan(v) 8) in double, then float; multiplier = step aan(u) aan(v) in double,
    then float, times 0.125 in float (as jpeg_idct_float scales it).
    """
    divisors = np.empty((8, 8), np.float32)
    multipliers = np.empty((8, 8), np.float32)
    for u in range(8):
        for v in range(8):
            step = float(table[8 * u + v])
            divisors[u, v] = 1.0 / (step * AAN_SCALE[u] * AAN_SCALE[v] * 8.0)
            multipliers[u, v] = np.float32(step * AAN_SCALE[u] * AAN_SCALE[v]) * np.float32(0.125)
    return divisors, multipliers


def _lines(blocks: torch.Tensor, dim: int) -> list[torch.Tensor]:
    return list(blocks.unbind(dim))


def _code_plane(plane: torch.Tensor, table: list[int]) -> torch.Tensor:
    """DCT, quantise, dequantise and inverse-DCT an integer plane (N, h, w), h and w multiples of 8."""
    n, height, width = plane.shape
    tables = (constant(tuple(t.ravel().tolist()), torch.float32, plane.device) for t in float_tables(table))
    divisors, multipliers = (t.view(1, 1, 8, 1, 8) for t in tables)
    blocks = (plane.to(torch.float32) - 128.0).view(n, height // 8, 8, width // 8, 8)
    coef = torch.stack(fdct8(*_lines(blocks, 4)), dim=4)  # rows
    coef = torch.stack(fdct8(*_lines(coef, 2)), dim=2)  # columns
    levels = torch.floor(coef * divisors + LEVEL_ROUNDING) - LEVEL_OFFSET
    values = _lines(levels * multipliers, 2)
    back = torch.stack(idct8(*values), dim=2)  # columns
    values = _lines(back, 4)
    values[0] = values[0] + SAMPLE_CENTRE
    back = torch.stack(idct8(*values), dim=4)  # rows
    return torch.floor(back.clamp_(0, 255)).to(torch.int64).view(n, height, width)


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
