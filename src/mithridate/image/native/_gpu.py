"""Fused GPU path (Triton): one kernel launch per step applies every sample's own op, with no host sync.

The torch executor groups a batch by op: on a GPU that is about a hundred small launches and a few host
synchronisations per call (to size the groups), so batches below ~16k images are bound by launches. Here
each step is:

1. per-sample tables, dense over the batch and without synchronisation: a 256-entry lookup table per
   channel for the point ops (Brightness, Contrast, Posterize, Solarize, AutoContrast, Equalize, Invert
   and their blends), built by the torch kernels themselves applied to the 256 values (and the image
   statistics Contrast, AutoContrast and Equalize need), so the tables hold the torch path's values;
2. one Triton kernel over (sample, block of pixels): each program branches on its sample's op kind
   (copy, affine resampling, Color, Sharpness, table lookup) and writes all channels.

The arithmetic follows the compiled CPU kernels (`_kernels`), which equal the torch path bit for bit: the
fused multiply-adds are explicit (`tl.fma`) and the kernel is compiled with `enable_fp_fusion=False`, so
that the compiler fuses no others; the same bytes as the CPU paths are expected on a GPU (where the torch
CUDA kernels can differ from the CPU ones by a level at rounding ties). Experimental: used only with
`apply_plan(..., backend="triton")`; tested on the CPU through Triton's interpreter (TRITON_INTERPRET=1).
"""

from __future__ import annotations

import functools

import torch

from .. import functional as F
from ..functional._color import _blend_with, _factors
from ..ops import OP_IDS

try:  # Triton ships with CUDA builds of torch; without it this path is unavailable.
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - depends on the torch build
    triton = None
    tl = None

__all__ = ["available", "run_plan"]

_COPY, _AFFINE, _COLOR, _SHARPNESS, _TABLE = range(5)
_TABLE_OPS = ("Brightness", "Contrast", "Posterize", "Solarize", "AutoContrast", "Equalize", "Invert")
_BLOCK = 256


def available() -> bool:
    """Whether Triton imports (a CUDA device, or the interpreter, is still needed to run)."""
    return triton is not None


if triton is not None:

    @triton.jit
    def _rint(v):
        """Round half to even for |v| <= 2**22: adding and removing 1.5 * 2**23 rounds in float32."""
        return (v + 12582912.0) - 12582912.0

    @triton.jit
    def _to_u8(v):
        """Clamp to [0, 255] and truncate, as torch's clamp_ then .to(torch.uint8)."""
        return tl.minimum(tl.maximum(v, 0.0), 255.0).to(tl.uint8)

    @triton.jit
    def _step_kernel(
        src,
        dst,
        kinds,
        params,
        grids,
        tables,
        fill,
        H,
        W,
        C: tl.constexpr,
        BILINEAR: tl.constexpr,
        HAS_FILL: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        sample = tl.program_id(0).to(tl.int64)
        hw = H * W
        offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        live = offs < hw
        y = offs // W
        x = offs % W
        image = src + sample * C * hw
        out = dst + sample * C * hw
        kind = tl.load(kinds + sample)
        if kind == 1:  # affine resampling through the sample's grid matrix
            r00 = tl.load(grids + sample * 6 + 0)
            r01 = tl.load(grids + sample * 6 + 1)
            r10 = tl.load(grids + sample * 6 + 2)
            r11 = tl.load(grids + sample * 6 + 3)
            r20 = tl.load(grids + sample * 6 + 4)
            r21 = tl.load(grids + sample * 6 + 5)
            bx = (1.0 - W) * 0.5 + x.to(tl.float32)
            by = (1.0 - H) * 0.5 + y.to(tl.float32)
            gx = tl.fma(by, r10, bx * r00) + r20
            gy = tl.fma(by, r11, bx * r01) + r21
            ix = tl.fma(gx + 1.0, W * 0.5, -0.5)
            iy = tl.fma(gy + 1.0, H * 0.5, -0.5)
            # far-off coordinates are outside anyway: clamp them first, for the rounding and the conversion
            ix = tl.minimum(tl.maximum(ix, -4.0), W + 4.0)
            iy = tl.minimum(tl.maximum(iy, -4.0), H + 4.0)
            if BILINEAR:
                west = tl.floor(ix)
                north = tl.floor(iy)
                to_west = ix - west
                to_east = 1.0 - to_west
                to_north = iy - north
                to_south = 1.0 - to_north
                w_nw = to_south * to_east
                w_ne = to_south * to_west
                w_sw = to_north * to_east
                w_se = to_north * to_west
                xi = west.to(tl.int32)
                yi = north.to(tl.int32)
                in_w = (xi >= 0) & (xi < W)
                in_e = (xi + 1 >= 0) & (xi + 1 < W)
                in_n = (yi >= 0) & (yi < H)
                in_s = (yi + 1 >= 0) & (yi + 1 < H)
                mask = tl.fma(
                    tl.where(in_s & in_e, 1.0, 0.0),
                    w_se,
                    tl.fma(
                        tl.where(in_s & in_w, 1.0, 0.0),
                        w_sw,
                        tl.fma(tl.where(in_n & in_e, 1.0, 0.0), w_ne, tl.where(in_n & in_w, 1.0, 0.0) * w_nw),
                    ),
                )
                corner = yi * W + xi
                for c in tl.static_range(C):
                    plane = image + c * hw
                    v_nw = tl.load(plane + corner, mask=live & in_n & in_w, other=0).to(tl.float32)
                    v_ne = tl.load(plane + corner + 1, mask=live & in_n & in_e, other=0).to(tl.float32)
                    v_sw = tl.load(plane + corner + W, mask=live & in_s & in_w, other=0).to(tl.float32)
                    v_se = tl.load(plane + corner + W + 1, mask=live & in_s & in_e, other=0).to(tl.float32)
                    value = tl.fma(v_se, w_se, tl.fma(v_sw, w_sw, tl.fma(v_ne, w_ne, v_nw * w_nw)))
                    if HAS_FILL:
                        outside = tl.load(fill + c).to(tl.float32)
                        value = (value - outside) * mask + outside
                    tl.store(out + c * hw + offs, _to_u8(_rint(value)), mask=live)
            else:
                sx = _rint(ix)
                sy = _rint(iy)
                inside = (sx >= 0.0) & (sx < W) & (sy >= 0.0) & (sy < H)
                index = sy.to(tl.int32) * W + sx.to(tl.int32)
                for c in tl.static_range(C):
                    value = tl.load(image + c * hw + index, mask=live & inside, other=0)
                    if HAS_FILL:
                        value = tl.where(inside, value, tl.load(fill + c))
                    tl.store(out + c * hw + offs, value, mask=live)
        elif kind == 2:  # Color: blend RGB with its floored luma (three channels; one channel is a copy)
            ratio = tl.load(params + sample * 2)
            alpha = tl.load(params + sample * 2 + 1)
            red = tl.load(image + offs, mask=live, other=0).to(tl.float32)
            green = tl.load(image + hw + offs, mask=live, other=0).to(tl.float32)
            blue = tl.load(image + 2 * hw + offs, mask=live, other=0).to(tl.float32)
            gray = tl.floor(tl.fma(blue, 0.114, tl.fma(green, 0.587, red * 0.2989)))
            tl.store(out + offs, _to_u8(tl.fma(gray, alpha, red * ratio)), mask=live)
            tl.store(out + hw + offs, _to_u8(tl.fma(gray, alpha, green * ratio)), mask=live)
            tl.store(out + 2 * hw + offs, _to_u8(tl.fma(gray, alpha, blue * ratio)), mask=live)
        elif kind == 3:  # Sharpness: PIL's 3x3 smoothing blended in; the border is copied
            alpha = tl.load(params + sample * 2 + 1)
            interior = live & (y >= 1) & (y < H - 1) & (x >= 1) & (x < W - 1)
            for c in tl.static_range(C):
                plane = image + c * hw
                centre = tl.load(plane + offs, mask=live, other=0)
                total = 4 * centre.to(tl.int32)
                for dy in tl.static_range(3):
                    for dx in tl.static_range(3):
                        near = tl.load(plane + offs + (dy - 1) * W + (dx - 1), mask=interior, other=0)
                        total += near.to(tl.int32)
                blurred = _rint(total.to(tl.float32) * (1.0 / 13.0))
                middle = centre.to(tl.float32)
                sharp = _to_u8(tl.fma(blurred - middle, alpha, middle))
                tl.store(out + c * hw + offs, tl.where(interior, sharp, centre), mask=live)
        elif kind == 4:  # a point op: the sample's lookup table per channel
            for c in tl.static_range(C):
                value = tl.load(image + c * hw + offs, mask=live, other=0)
                table = tables + (sample * C + c) * 256
                tl.store(out + c * hw + offs, tl.load(table + value.to(tl.int32), mask=live, other=0), mask=live)
        else:  # Identity
            for c in tl.static_range(C):
                tl.store(out + c * hw + offs, tl.load(image + c * hw + offs, mask=live, other=0), mask=live)


def _kinds_of_ops() -> torch.Tensor:
    """The kernel's branch for each op id."""
    kinds = []
    for name in OP_IDS:
        if name in ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate"):
            kinds.append(_AFFINE)
        elif name == "Color":
            kinds.append(_COLOR)
        elif name == "Sharpness":
            kinds.append(_SHARPNESS)
        elif name in _TABLE_OPS:
            kinds.append(_TABLE)
        else:
            kinds.append(_COPY)
    return torch.tensor(kinds, dtype=torch.int32)


_KINDS = _kinds_of_ops()


@functools.lru_cache(maxsize=64)
def _constants(device: torch.device, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The op kinds and the grid scale on the device, copied there once (a copy per call would wait)."""
    scale = torch.tensor([0.5 * width, 0.5 * height], dtype=torch.float32)
    return _KINDS.to(device), scale.to(device)


@functools.lru_cache(maxsize=64)
def fill_on(device: torch.device, values: tuple[int, ...]) -> torch.Tensor:
    """The outside value per channel as uint8 on the device, copied there once."""
    return torch.tensor(values, dtype=torch.uint8).to(device)


def point_tables(images: torch.Tensor, ops: torch.Tensor, magnitudes: torch.Tensor) -> torch.Tensor:
    """Per-sample lookup tables (N, C, 256) uint8 of the point ops, computed densely by the torch kernels.

    Every candidate table is built for every sample (no host sync to find who needs which), each by the
    torch kernel itself on an image of the 256 values, with the statistics of the sample's real image
    where the op needs them; then each sample keeps its op's table (identity for other ops).
    """
    n, c = images.shape[:2]
    device = images.device
    m = magnitudes.to(torch.float64)
    values = torch.arange(256, dtype=torch.uint8, device=device).view(1, 1, 1, 256).expand(n, c, 1, 256)
    # Contrast: the luma mean of the real image (as adjust_contrast computes it), then its blend.
    gray = F.grayscale(images) if c == 3 else images.to(torch.float32)
    mean = torch.mean(gray, dim=(-3, -2, -1), keepdim=True)
    ratio, alpha = _factors(values, 1.0 + m, "contrast factor", False)
    contrast = _blend_with(values, mean, ratio, alpha)
    offset, divisor = F.autocontrast_stretch(images)
    autocontrast = values.to(torch.float32).sub(offset).div_(divisor).clamp_(0, 255).to(torch.uint8)
    equalize = F.equalize_tables(images).view(n, c, 1, 256)
    candidates = {
        "Brightness": F.adjust_brightness(values, 1.0 + m, validate=False),
        "Contrast": contrast,
        "Posterize": F.posterize(values, m.to(torch.int64), validate=False),
        "Solarize": F.solarize(values, 255.0 * m, validate=False),
        "AutoContrast": F.blend(values, autocontrast, m),
        "Equalize": F.blend(values, equalize, m),
        "Invert": F.blend(values, F.invert(values), m),
    }
    tables = values
    for name, table in candidates.items():
        tables = torch.where((ops == OP_IDS[name]).view(n, 1, 1, 1), table, tables)
    return tables.reshape(n, c, 256).contiguous()


def _step(
    images: torch.Tensor,
    ops: torch.Tensor,
    magnitudes: torch.Tensor,
    matrices: torch.Tensor,
    fill: torch.Tensor | None,
    bilinear: bool,
) -> torch.Tensor:
    """One step: every sample's op on its image, in one kernel launch after the dense tables."""
    n, c, h, w = images.shape
    device = images.device
    kinds_of_ops, scale = _constants(device, h, w)
    kinds = kinds_of_ops[ops]
    if c == 1:  # Color leaves gray images as they are
        kinds = torch.where(kinds == _COLOR, _COPY, kinds)
    ratio = (1.0 + magnitudes.to(torch.float64)).to(torch.float32)
    alpha = (1.0 - (1.0 + magnitudes.to(torch.float64))).to(torch.float32)
    params = torch.stack([ratio, alpha], dim=-1).contiguous()
    grids = matrices.to(torch.float32).transpose(-1, -2).div(scale).reshape(n, 6).contiguous()
    tables = point_tables(images, ops, magnitudes)
    out = torch.empty_like(images)
    fill_values = fill if fill is not None else images  # not read without a fill
    grid = (n, triton.cdiv(h * w, _BLOCK))
    _step_kernel[grid](
        images, out, kinds.contiguous(), params, grids, tables, fill_values, h, w,
        C=c, BILINEAR=bilinear, HAS_FILL=fill is not None, BLOCK=_BLOCK, enable_fp_fusion=False,
    )  # fmt: skip
    return out


def run_plan(
    images: torch.Tensor,
    ops: torch.Tensor,
    magnitudes: torch.Tensor,
    matrices: torch.Tensor,
    weights: torch.Tensor | None,
    fill: torch.Tensor | None,
    interpolation: str,
    mix,
) -> torch.Tensor:
    """Apply a plan (ops, magnitudes (N, W, D), matrices (N, W, D, 2, 3)) to contiguous uint8 images.

    `fill` is the outside value per channel as uint8 on the device, or None; `mix` is the executor's
    mixing of the chains for plans with weights.
    """
    _, chains, depth = ops.shape
    images = images.contiguous()
    results = []
    for chain in range(chains):
        work = images
        for step in range(depth):
            args = (ops[:, chain, step], magnitudes[:, chain, step], matrices[:, chain, step])
            work = _step(work, *args, fill, interpolation == "bilinear")
        results.append(work if depth else images.clone())
    if weights is None:
        return results[0]
    return mix(images, torch.stack(results, dim=1), weights)
