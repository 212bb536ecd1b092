"""Fused GPU path (Triton): two kernel launches per step apply every sample's own op, with no host sync.

The torch executor groups a batch by op: on a GPU that is about a hundred small launches and a few host
synchronisations per call (to size the groups), so batches below ~16k images are bound by launches. Here
one launch (`_grids_kernel`) computes the sampling grids of every step of the plan, and each step is:

1. `_tables_kernel`, one program per sample: the 256-entry lookup table per channel of the sample's point
   op (Brightness, Contrast, Posterize, Solarize, AutoContrast, Equalize, Invert and their blends), from
   its image's statistics where the op needs them (luma mean, channel range, channel histogram); for
   float32 images, only the statistics (and Equalize's table of their 256 levels);
2. `_step_kernel`, one program per (sample, block of pixels): it branches on the sample's op (copy,
   affine resampling, Color, Sharpness, table lookup, or for float32 the point op itself) and writes all
   channels.

The arithmetic follows the compiled CPU kernels (`image.native`), which equal the torch path bit for bit: the
fused multiply-adds are explicit (`tl.fma`), divisions correctly rounded (`tl.div_rn`), and the kernels are
compiled with `enable_fp_fusion=False`, so that the compiler fuses no others; the same bytes as the CPU
paths are expected on a GPU for uint8 (where the torch CUDA kernels can differ from the CPU ones by a
level at rounding ties). Float32 images get the torch path's values to within a few ulps: torch's CPU
kernels sum Contrast's mean, and on narrow images the bilinear weights, in orders of their own. Used by
`apply_plan(..., backend="triton")`, and by "auto" on CUDA once its self-check passed on the device
(`_check`; MITHRIDATE_TRITON=0 turns it off); tested on the CPU through Triton's interpreter
(TRITON_INTERPRET=1) and compiled offline for sm_80 and sm_90 by the tests.
"""

from __future__ import annotations

import contextlib

import torch

from ..ops import OP_IDS

try:  # Triton ships with CUDA builds of torch; without it this path is unavailable.
    import triton
    import triton.language as tl
    from triton.language.extra.cuda import libdevice
except ImportError:  # pragma: no cover - depends on the torch build
    triton = None
    tl = None
    libdevice = None

__all__ = ["available", "run_plan"]

_BLOCK = 256
"""Pixels per program of the step kernel."""
_STATS_BLOCK = 1024
"""Pixels per iteration of the tables kernel's statistics loop (one program per sample)."""
COMPILE_OPTIONS = {"enable_fp_fusion": False}
"""How the kernels are compiled: no multiply-add fused but the explicit `tl.fma` (tested on their PTX)."""


def available() -> bool:
    """Whether Triton imports (a CUDA device, or the interpreter, is still needed to run)."""
    return triton is not None


if triton is not None:
    # The op ids the kernels branch on (Triton kernels read globals only as constexpr).
    _SHEAR_X = tl.constexpr(OP_IDS["ShearX"])
    _ROTATE = tl.constexpr(OP_IDS["Rotate"])
    _BRIGHTNESS = tl.constexpr(OP_IDS["Brightness"])
    _COLOR = tl.constexpr(OP_IDS["Color"])
    _CONTRAST = tl.constexpr(OP_IDS["Contrast"])
    _SHARPNESS = tl.constexpr(OP_IDS["Sharpness"])
    _POSTERIZE = tl.constexpr(OP_IDS["Posterize"])
    _SOLARIZE = tl.constexpr(OP_IDS["Solarize"])
    _AUTOCONTRAST = tl.constexpr(OP_IDS["AutoContrast"])
    _EQUALIZE = tl.constexpr(OP_IDS["Equalize"])
    _INVERT = tl.constexpr(OP_IDS["Invert"])
    assert [OP_IDS[name] for name in ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")] == list(
        range(OP_IDS["ShearX"], OP_IDS["Rotate"] + 1)
    ), "geometric op ids: contiguous"

    @triton.jit
    def _rint(v):
        """Round half to even for |v| <= 2**22: adding and removing 1.5 * 2**23 rounds in float32."""
        return (v + 12582912.0) - 12582912.0

    @triton.jit
    def _to_u8(v):
        """Clamp to [0, 255] and truncate, as torch's clamp_ then .to(torch.uint8)."""
        return tl.minimum(tl.maximum(v, 0.0), 255.0).to(tl.uint8)

    @triton.jit
    def _finish(v, FLOAT: tl.constexpr):
        """A blend's result as the image dtype: clamped to [0, 1] for float images, to uint8 (truncated)."""
        if FLOAT:  # noqa: SIM108 - a static branch in Triton
            out = tl.minimum(tl.maximum(v, 0.0), 1.0)
        else:
            out = _to_u8(v)
        return out  # one return: Triton types every return statement, the pruned branch's too

    @triton.jit
    def _lerp(start, end, amount):
        """torch.lerp of float32 values by the weight `amount` (float64, cast as torch does)."""
        weight = amount.to(tl.float32)
        diff = end - start
        if tl.abs(weight) < 0.5:  # noqa: SIM108 - a scalar branch in Triton, not a ternary
            out = tl.fma(diff, weight, start)
        else:
            out = tl.fma(diff, weight - 1.0, end)
        return out

    @triton.jit(do_not_specialize=["total"])  # one kernel for every batch size, last partial batches too
    def _grids_kernel(ops, magnitudes, grids, total, H, W, BLOCK: tl.constexpr):
        """The normalised sampling-grid rows (6 float32) of every step of a plan (identity for others).

        `ops.geometric_matrices`, operation by operation in float64 (the trigonometry from libdevice, as
        torch's CUDA kernels; zeros stand for the parameters an op does not use, as there), then the
        float32 rows `functional._geometry._sampling_grid` multiplies the pixel centres by.
        """
        k = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        live = k < total
        op = tl.load(ops + k, mask=live, other=0)
        m = tl.load(magnitudes + k, mask=live, other=0.0)
        zero = tl.zeros_like(m)
        width = W.to(tl.float64)
        height = H.to(tl.float64)
        is_shear_x = op == _SHEAR_X
        is_shear_y = op == _SHEAR_X + 1
        is_shear = is_shear_x | is_shear_y
        degrees = libdevice.atan(m) * 57.29577951308232  # shear_degrees
        whole = tl.where(m < 0.0, tl.ceil(m), tl.floor(m))  # trunc
        cx = tl.where(is_shear, -0.5 * width, zero)
        cy = tl.where(is_shear, -0.5 * height, zero)
        # torch.remainder(m, 360): fmod, moved into [0, 360) when the signs differ
        turn = libdevice.fmod(m, tl.full(m.shape, 360.0, tl.float64))
        turn = tl.where((turn != 0.0) & (turn < 0.0), turn + 360.0, turn)
        angle = tl.where(op == _ROTATE, -turn, zero)
        tx = tl.where(op == _SHEAR_X + 2, whole, zero)
        ty = tl.where(op == _SHEAR_X + 3, whole, zero)
        # inverse_affine_matrices
        rot = angle * 0.017453292519943295
        sx = tl.where(is_shear_x, degrees, zero) * 0.017453292519943295
        sy = tl.where(is_shear_y, degrees, zero) * 0.017453292519943295
        cos_sy = libdevice.cos(sy)
        tan_sx = libdevice.tan(sx)
        rot_minus_sy = rot - sy
        cx_plus_tx = cx + tx
        cy_plus_ty = cy + ty
        a = libdevice.cos(rot_minus_sy) / cos_sy
        b = -(a * tan_sx + libdevice.sin(rot))
        c = libdevice.sin(rot_minus_sy) / cos_sy
        d = libdevice.cos(rot) - c * tan_sx
        m0 = d
        m1 = -b
        m3 = -c
        m4 = a
        m2 = 0.0 + (cx - m0 * cx_plus_tx - m1 * cy_plus_ty)
        m5 = 0.0 + (cy - m3 * cx_plus_tx - m4 * cy_plus_ty)
        # float32, transposed, over the half size (`_sampling_grid`)
        half_w = (0.5 * width).to(tl.float32)
        half_h = (0.5 * height).to(tl.float32)
        row = grids + k * 6
        tl.store(row + 0, tl.div_rn(m0.to(tl.float32), half_w), mask=live)
        tl.store(row + 1, tl.div_rn(m3.to(tl.float32), half_h), mask=live)
        tl.store(row + 2, tl.div_rn(m1.to(tl.float32), half_w), mask=live)
        tl.store(row + 3, tl.div_rn(m4.to(tl.float32), half_h), mask=live)
        tl.store(row + 4, tl.div_rn(m2.to(tl.float32), half_w), mask=live)
        tl.store(row + 5, tl.div_rn(m5.to(tl.float32), half_h), mask=live)

    @triton.jit
    def _blend(table, v, amount):
        """Move each entry the fraction `amount` (float64) of the way from v to table[v], as torch.lerp."""
        return _to_u8(_rint(_lerp(v.to(tl.float32), table.to(tl.float32), amount)))

    @triton.jit
    def _tables_kernel(
        src,
        tables,
        stats,
        ops,
        ops_stride,
        magnitudes,
        magnitudes_stride,
        H,
        W,
        C: tl.constexpr,
        FLOAT: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        """One program per sample: the 256-entry table per channel of its point op, from its image's
        statistics where the op needs them (luma mean, channel range, channel histogram). Float images
        (FLOAT) get Equalize's table of their 256 levels, and the statistics (luma mean; per channel
        minimum, maximum) in `stats` (N, C, 2): their other point ops are computed per pixel."""
        sample = tl.program_id(0).to(tl.int64)
        hw = H * W
        image = src + sample * C * hw
        table = tables + sample * C * 256
        op = tl.load(ops + sample * ops_stride)
        m = tl.load(magnitudes + sample * magnitudes_stride)
        v = tl.arange(0, 256)
        fv = v.to(tl.float32)
        ratio = (1.0 + m).to(tl.float32)
        alpha = (1.0 - (1.0 + m)).to(tl.float32)
        if FLOAT:
            _float_statistics(image, table, stats + sample * C * 2, op, hw, C, BLOCK)
        elif op == _BRIGHTNESS:  # Brightness: x (1 + m)
            for c in tl.static_range(C):
                tl.store(table + c * 256 + v, _to_u8(fv * ratio))
        elif op == _CONTRAST:  # Contrast: x (1 + m) - m mean, the mean of the floored luma summed exactly
            total = tl.zeros((BLOCK,), dtype=tl.int32)
            for start in range(0, hw, BLOCK):
                offs = start + tl.arange(0, BLOCK)
                live = offs < hw
                red = tl.load(image + offs, mask=live, other=0).to(tl.float32)
                if C == 3:
                    green = tl.load(image + hw + offs, mask=live, other=0).to(tl.float32)
                    blue = tl.load(image + 2 * hw + offs, mask=live, other=0).to(tl.float32)
                    red = tl.floor(tl.fma(blue, 0.114, tl.fma(green, 0.587, red * 0.2989)))
                total += red.to(tl.int32)
            mean = tl.div_rn(tl.sum(total).to(tl.float32), hw.to(tl.float32))
            for c in tl.static_range(C):
                tl.store(table + c * 256 + v, _to_u8(tl.fma(mean, alpha, fv * ratio)))
        elif op == _POSTERIZE:  # Posterize: keep the int(m) high bits
            bits = m.to(tl.int32)
            keep = ((1 << bits) - 1) << (8 - bits)
            for c in tl.static_range(C):
                tl.store(table + c * 256 + v, (v & keep).to(tl.uint8))
        elif op == _SOLARIZE:  # Solarize: invert from the threshold 255 m up
            first = tl.minimum(tl.maximum(tl.ceil((255.0 * m).to(tl.float32)), 0.0), 256.0).to(tl.int32)
            for c in tl.static_range(C):
                tl.store(table + c * 256 + v, tl.where(v >= first, 255 - v, v).to(tl.uint8))
        elif op == _AUTOCONTRAST:  # AutoContrast: stretch the channel's [min, max] to [0, 255], blended by m
            for c in tl.static_range(C):
                low = tl.full((BLOCK,), 255, tl.int32)
                high = tl.zeros((BLOCK,), dtype=tl.int32)
                for start in range(0, hw, BLOCK):
                    offs = start + tl.arange(0, BLOCK)
                    live = offs < hw
                    value = tl.load(image + c * hw + offs, mask=live, other=0).to(tl.int32)
                    low = tl.minimum(low, tl.where(live, value, 255))
                    high = tl.maximum(high, value)
                minimum = tl.min(low).to(tl.float32)
                maximum = tl.max(high).to(tl.float32)
                flat = maximum == minimum
                inv_scale = tl.where(flat, 1.0, (maximum - minimum) * (1.0 / 255.0))
                offset = tl.where(flat, 0.0, minimum)
                stretched = _to_u8(tl.div_rn(fv - offset, inv_scale))
                tl.store(table + c * 256 + v, _blend(stretched, v, m))
        elif op == _EQUALIZE:  # Equalize: PIL's table from the channel's histogram, blended by m
            for c in tl.static_range(C):
                hist = tl.zeros((256,), dtype=tl.int32)
                for start in range(0, hw, BLOCK):
                    offs = start + tl.arange(0, BLOCK)
                    live = offs < hw
                    value = tl.load(image + c * hw + offs, mask=live, other=0).to(tl.int32)
                    hist += tl.histogram(value, 256, mask=live)
                tl.store(table + c * 256 + v, _blend(_equalize_table(hist, hw), v, m))
        elif op == _INVERT:  # Invert, blended by m
            for c in tl.static_range(C):
                tl.store(table + c * 256 + v, _blend(255 - v, v, m))

    @triton.jit
    def _equalize_table(hist, hw):
        """PIL's equalization table of a channel's 256-bin histogram (identity when one bin holds all)."""
        v = tl.arange(0, 256)
        last = tl.max(tl.where(hist > 0, v, 0))
        step = (hw - tl.sum(tl.where(v == last, hist, 0))) // 255
        below = tl.cumsum(hist, 0) - hist  # the count of values below v
        half = step // 2
        level = tl.minimum(tl.maximum((below + half) // tl.maximum(step, 1), 0), 255)
        return tl.where(step == 0, v, tl.where(v == 0, 0, level))

    @triton.jit
    def _level(x):
        """A float value's level of 256 for Equalize, as torch's x * 255.999 cast to uint8; kept within the
        table for values outside [0, 1], which an accelerator's images are not checked for."""
        return tl.minimum(tl.maximum((x * 255.999).to(tl.int32), 0), 255)

    @triton.jit
    def _float_statistics(image, table, stats, op, hw, C: tl.constexpr, BLOCK: tl.constexpr):
        """A float image's statistics for its point op: the luma mean (Contrast), each channel's minimum and
        maximum (AutoContrast), or each channel's table of its levels x * 255.999 (Equalize)."""
        if op == _CONTRAST:  # the mean of the luma, in float32 (torch sums in another order: ulps apart)
            total = tl.zeros((BLOCK,), dtype=tl.float32)
            for start in range(0, hw, BLOCK):
                offs = start + tl.arange(0, BLOCK)
                live = offs < hw
                gray = tl.load(image + offs, mask=live, other=0.0)
                if C == 3:
                    green = tl.load(image + hw + offs, mask=live, other=0.0)
                    blue = tl.load(image + 2 * hw + offs, mask=live, other=0.0)
                    gray = tl.fma(blue, 0.114, tl.fma(green, 0.587, gray * 0.2989))
                total += gray
            tl.store(stats, tl.div_rn(tl.sum(total), hw.to(tl.float32)))
        elif op == _AUTOCONTRAST:
            for c in tl.static_range(C):
                low = tl.full((BLOCK,), float("inf"), tl.float32)
                high = tl.full((BLOCK,), float("-inf"), tl.float32)
                for start in range(0, hw, BLOCK):
                    offs = start + tl.arange(0, BLOCK)
                    live = offs < hw
                    value = tl.load(image + c * hw + offs, mask=live, other=0.0)
                    low = tl.minimum(low, tl.where(live, value, float("inf")))
                    high = tl.maximum(high, tl.where(live, value, float("-inf")))
                tl.store(stats + 2 * c, tl.min(low))
                tl.store(stats + 2 * c + 1, tl.max(high))
        elif op == _EQUALIZE:
            for c in tl.static_range(C):
                hist = tl.zeros((256,), dtype=tl.int32)
                for start in range(0, hw, BLOCK):
                    offs = start + tl.arange(0, BLOCK)
                    live = offs < hw
                    value = tl.load(image + c * hw + offs, mask=live, other=0.0)
                    hist += tl.histogram(_level(value), 256, mask=live)
                tl.store(table + c * 256 + tl.arange(0, 256), _equalize_table(hist, hw).to(tl.uint8))

    @triton.jit
    def _float_point(x, op, m, ratio, alpha, stats, table, c):
        """A float pixel's point op (Brightness, Contrast, Posterize, Solarize, AutoContrast, Equalize or
        Invert, the last three blended by m), as the torch ops compute it on float32."""
        if op == _BRIGHTNESS:
            out = tl.minimum(tl.maximum(x * ratio, 0.0), 1.0)
        elif op == _CONTRAST:
            out = tl.minimum(tl.maximum(tl.fma(tl.load(stats), alpha, x * ratio), 0.0), 1.0)
        elif op == _POSTERIZE:
            levels = (1 << m.to(tl.int32)).to(tl.float32)
            # torch multiplies by 1 / levels, a power of two: the same as dividing, exactly
            out = tl.div_rn(tl.minimum(tl.maximum(tl.floor(x * levels), 0.0), levels - 1.0), levels)
        elif op == _SOLARIZE:
            out = tl.where(x >= m.to(tl.float32), 1.0 - x, x)
        elif op == _AUTOCONTRAST:
            minimum = tl.load(stats + 2 * c)
            maximum = tl.load(stats + 2 * c + 1)
            flat = maximum == minimum
            inv_scale = tl.where(flat, 1.0, maximum - minimum)
            offset = tl.where(flat, 0.0, minimum)
            stretched = tl.minimum(tl.maximum(tl.div_rn(x - offset, inv_scale), 0.0), 1.0)
            out = _lerp(x, stretched, m)
        elif op == _EQUALIZE:
            level = tl.load(table + c * 256 + _level(x)).to(tl.float32)
            out = _lerp(x, level * (1.0 / 255.0), m)
        else:  # Invert
            out = _lerp(x, 1.0 - x, m)
        return out

    @triton.jit
    def _step_kernel(
        src,
        dst,
        ops,
        ops_stride,
        magnitudes,
        magnitudes_stride,
        grids,
        grids_stride,
        tables,
        stats,
        fill,
        H,
        W,
        C: tl.constexpr,
        FLOAT: tl.constexpr,
        BILINEAR: tl.constexpr,
        HAS_FILL: tl.constexpr,
        BLOCK: tl.constexpr,
    ):
        """One program per (sample, block of pixels): the sample's op on those pixels, all channels. uint8
        images are rounded back (and their point ops looked up in tables); float images (FLOAT) stay float."""
        sample = tl.program_id(0).to(tl.int64)
        hw = H * W
        offs = tl.program_id(1) * BLOCK + tl.arange(0, BLOCK)
        live = offs < hw
        y = offs // W
        x = offs % W
        image = src + sample * C * hw
        out = dst + sample * C * hw
        op = tl.load(ops + sample * ops_stride)
        m = tl.load(magnitudes + sample * magnitudes_stride)
        ratio = (1.0 + m).to(tl.float32)
        alpha = (1.0 - (1.0 + m)).to(tl.float32)
        if op >= _SHEAR_X and op <= _ROTATE:  # affine resampling through the sample's grid matrix
            r00 = tl.load(grids + sample * grids_stride + 0)
            r01 = tl.load(grids + sample * grids_stride + 1)
            r10 = tl.load(grids + sample * grids_stride + 2)
            r11 = tl.load(grids + sample * grids_stride + 3)
            r20 = tl.load(grids + sample * grids_stride + 4)
            r21 = tl.load(grids + sample * grids_stride + 5)
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
                    if FLOAT:
                        tl.store(out + c * hw + offs, value, mask=live)
                    else:
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
        elif op == _COLOR and C == 3:  # Color: blend RGB with its floored luma (gray images are copied)
            red = tl.load(image + offs, mask=live, other=0).to(tl.float32)
            green = tl.load(image + hw + offs, mask=live, other=0).to(tl.float32)
            blue = tl.load(image + 2 * hw + offs, mask=live, other=0).to(tl.float32)
            gray = tl.fma(blue, 0.114, tl.fma(green, 0.587, red * 0.2989))
            if not FLOAT:
                gray = tl.floor(gray)  # uint8 luma is floored
            tl.store(out + offs, _finish(tl.fma(gray, alpha, red * ratio), FLOAT), mask=live)
            tl.store(out + hw + offs, _finish(tl.fma(gray, alpha, green * ratio), FLOAT), mask=live)
            tl.store(out + 2 * hw + offs, _finish(tl.fma(gray, alpha, blue * ratio), FLOAT), mask=live)
        elif op == _SHARPNESS:  # PIL's 3x3 smoothing blended in by 1 + m; the border is copied
            interior = live & (y >= 1) & (y < H - 1) & (x >= 1) & (x < W - 1)
            for c in tl.static_range(C):
                plane = image + c * hw
                centre = tl.load(plane + offs, mask=live, other=0)
                if FLOAT:  # the 3x3 sums in torch's order: each row left to right, then the rows top down
                    box = tl.zeros((BLOCK,), dtype=tl.float32)
                    for dy in tl.static_range(3):
                        row = plane + offs + (dy - 1) * W
                        left = tl.load(row - 1, mask=interior, other=0.0)
                        middle_value = tl.load(row, mask=interior, other=0.0)
                        right = tl.load(row + 1, mask=interior, other=0.0)
                        across = (left + middle_value) + right
                        if dy == 0:  # noqa: SIM108 - a static branch in Triton
                            box = across
                        else:
                            box = box + across
                    blurred = (box + 4.0 * centre) * (1.0 / 13.0)
                    sharp = _finish(tl.fma(blurred - centre, alpha, centre), FLOAT)
                else:
                    total = 4 * centre.to(tl.int32)
                    for dy in tl.static_range(3):
                        for dx in tl.static_range(3):
                            near = tl.load(plane + offs + (dy - 1) * W + (dx - 1), mask=interior, other=0)
                            total += near.to(tl.int32)
                    blurred = _rint(total.to(tl.float32) * (1.0 / 13.0))
                    middle = centre.to(tl.float32)
                    sharp = _to_u8(tl.fma(blurred - middle, alpha, middle))
                tl.store(out + c * hw + offs, tl.where(interior, sharp, centre), mask=live)
        elif op == _BRIGHTNESS or op == _CONTRAST or op >= _POSTERIZE:  # noqa: SIM109 - a point op: its table
            for c in tl.static_range(C):
                value = tl.load(image + c * hw + offs, mask=live, other=0)
                if FLOAT:
                    point = _float_point(
                        value, op, m, ratio, alpha, stats + sample * C * 2, tables + sample * C * 256, c
                    )
                    tl.store(out + c * hw + offs, point, mask=live)
                else:
                    table = tables + (sample * C + c) * 256
                    tl.store(out + c * hw + offs, tl.load(table + value.to(tl.int32), mask=live, other=0), mask=live)
        else:  # Identity (and Color on gray images)
            for c in tl.static_range(C):
                tl.store(out + c * hw + offs, tl.load(image + c * hw + offs, mask=live, other=0), mask=live)


def _step(
    images: torch.Tensor,
    ops: torch.Tensor,
    magnitudes: torch.Tensor,
    grids: torch.Tensor,
    fill: torch.Tensor | None,
    bilinear: bool,
) -> torch.Tensor:
    """One step, two launches: the point ops' tables of the samples that need one, then every sample's op.

    `ops`, `magnitudes` and `grids` (N, 6) float32 are views of the plan's tensors (any row stride).
    """
    n, c, h, w = images.shape
    floating = images.dtype == torch.float32
    tables = torch.empty((n, c, 256), dtype=torch.uint8, device=images.device)
    stats = torch.empty((n, c, 2), dtype=torch.float32, device=images.device) if floating else tables
    _tables_kernel[(n,)](
        images, tables, stats, ops, ops.stride(0), magnitudes, magnitudes.stride(0), h, w,
        C=c, FLOAT=floating, BLOCK=_STATS_BLOCK, **COMPILE_OPTIONS,
    )  # fmt: skip
    out = torch.empty_like(images)
    fill_values = fill if fill is not None else images  # not read without a fill
    grid = (n, -(-h * w // _BLOCK))  # Python arithmetic: triton.cdiv costs microseconds on the host
    _step_kernel[grid](
        images, out, ops, ops.stride(0), magnitudes, magnitudes.stride(0), grids, grids.stride(0), tables,
        stats, fill_values, h, w,
        C=c, FLOAT=floating, BILINEAR=bilinear, HAS_FILL=fill is not None, BLOCK=_BLOCK, **COMPILE_OPTIONS,
    )  # fmt: skip
    return out


def plan_grids(ops: torch.Tensor, magnitudes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The sampling-grid rows (..., 6) float32 of every step of a plan (ops, magnitudes (N, W, D)), in one
    launch: `ops.geometric_matrices` then transposed and divided by the half size, as the torch path."""
    ops = ops.contiguous()
    magnitudes = magnitudes.to(torch.float64).contiguous()  # no copy for run_plan's
    grids = torch.empty((*ops.shape, 6), dtype=torch.float32, device=ops.device)
    total = ops.numel()
    if total:
        _grids_kernel[(-(-total // _BLOCK),)](
            ops, magnitudes, grids, total, height, width, BLOCK=_BLOCK, **COMPILE_OPTIONS
        )
    return grids


def run_plan(
    images: torch.Tensor,
    ops: torch.Tensor,
    magnitudes: torch.Tensor,
    weights: torch.Tensor | None,
    fill: torch.Tensor | None,
    interpolation: str,
    mix,
) -> torch.Tensor:
    """Apply a plan (ops, magnitudes (N, W, D)) to uint8 or float32 images (N, C, H, W).

    `fill` is the outside value per channel in the images' dtype on the device, or None; `mix` is the
    executor's mixing of the chains for plans with weights.
    """
    _, chains, depth = ops.shape
    images = images.contiguous()
    magnitudes = magnitudes.to(torch.float64)  # the kernels compute in float64 where the torch ops do
    results = []
    # Triton launches on the current device: make it the images' one.
    on_device = torch.cuda.device(images.device) if images.device.type == "cuda" else contextlib.nullcontext()
    with on_device:
        grids = plan_grids(ops, magnitudes, *images.shape[-2:])
        for chain in range(chains):
            work = images
            for step in range(depth):
                args = (ops[:, chain, step], magnitudes[:, chain, step], grids[:, chain, step])
                work = _step(work, *args, fill, interpolation == "bilinear")
            results.append(work if depth else images.clone())
    if weights is None:
        return results[0]
    return mix(images, torch.stack(results, dim=1), weights)
