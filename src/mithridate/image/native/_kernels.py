"""The compiled uint8 kernels of the op table and the plan runner, bit for bit `image.functional`'s results.

One module on purpose: numba's on-disk cache is invalidated by changes to the file of the function it
caches, not by changes to the functions it calls from other files.

Each kernel reads one image `src` (C, H, W) and writes `dst` (same shape, never the same memory). The
arithmetic repeats what torch computes on the CPU for uint8 input in the same float32 steps: products
rounded once, fused multiply-adds where torch's vectorised kernels fuse (addcmul, add with alpha, lerp),
truncation where torch casts to uint8, round-half-even where it rounds. Simple point ops run pixel by
pixel (loops LLVM vectorises); AutoContrast, Equalize and Invert, with their blends, build one 256-entry
table per channel and apply it in one pass.
"""

from __future__ import annotations

import numpy as np

from ..._backend.compiled import njit
from ..._backend.fma import fma32
from ..ops import OP_IDS

_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_F255 = np.float32(255.0)
_HALF = np.float32(0.5)
_R = np.float32(0.2989)
_G = np.float32(0.587)
_B = np.float32(0.114)
_THIRTEENTH = np.float32(1.0 / 13.0)
_INV255 = np.float32(1.0 / 255.0)


@njit(nogil=True, cache=True, inline="always")
def _to_u8(value):
    """clamp(value, 0, 255) cast to uint8 by truncation, as torch's clamp_ then .to(torch.uint8)."""
    return np.uint8(min(max(value, _F0), _F255))


@njit(nogil=True, cache=True)
def copy(src, dst):
    """dst = src, as one flat loop (numba's dst[:] = src goes through its general broadcasting path)."""
    flat_src = src.reshape(src.size)
    flat_dst = dst.reshape(dst.size)
    for p in range(flat_src.size):
        flat_dst[p] = flat_src[p]


@njit(nogil=True, cache=True)
def apply_lut(src, dst, lut):
    """dst[c] = lut[c][src[c]] for every channel c: the whole image in one pass."""
    c, h, w = src.shape
    flat_src = src.reshape(c, h * w)
    flat_dst = dst.reshape(c, h * w)
    for ch in range(c):
        table = lut[ch]
        s = flat_src[ch]
        d = flat_dst[ch]
        for p in range(h * w):
            d[p] = table[s[p]]


@njit(nogil=True, cache=True)
def blend_lut(lut, amount):
    """Move each table entry v the fraction `amount` of the way to lut[v], as torch.lerp, rounded half-even."""
    weight = np.float32(amount)
    small = abs(weight) < _HALF
    for ch in range(lut.shape[0]):
        for v in range(256):
            start = np.float32(v)
            end = np.float32(lut[ch, v])
            diff = end - start
            out = fma32(weight, diff, start) if small else fma32(weight - _F1, diff, end)
            lut[ch, v] = np.uint8(min(max(np.rint(out), _F0), _F255))


@njit(nogil=True, cache=True)
def brightness(src, dst, magnitude):
    """x * (1 + m), clamped and truncated, pixel by pixel (vectorises; a table lookup does not)."""
    ratio = np.float32(1.0 + magnitude)
    flat_src = src.reshape(src.size)
    flat_dst = dst.reshape(dst.size)
    for p in range(flat_src.size):
        flat_dst[p] = _to_u8(np.float32(flat_src[p]) * ratio)


@njit(nogil=True, cache=True, inline="always")
def _gray(r, g, b):
    """ITU-R 601-2 luma as torch computes it for uint8 RGB: r * 0.2989, two fused adds, floored."""
    return np.floor(fma32(np.float32(b), _B, fma32(np.float32(g), _G, np.float32(r) * _R)))


@njit(nogil=True, cache=True)
def contrast(src, dst, magnitude):
    """x (1 + m) - m mean(gray), fused as addcmul; the mean of the floored luma, summed exactly in uint32."""
    c, h, w = src.shape
    flat_src = src.reshape(c, h * w)
    # uint32 lanes, wrapped back each step so that the loop vectorises (numba widens int32 sums to int64):
    # 2x faster, and exact, as the sum of at most MAX_PIXELS levels stays below 2**24.
    total = np.uint32(0)
    if c == 3:
        red, green, blue = flat_src[0], flat_src[1], flat_src[2]
        for p in range(h * w):
            total = np.uint32(total + np.uint32(np.int32(_gray(red[p], green[p], blue[p]))))
    else:
        for p in range(h * w):
            total = np.uint32(total + np.uint32(flat_src[0, p]))
    mean = np.float32(total) / np.float32(h * w)
    ratio = np.float32(1.0 + magnitude)
    alpha = np.float32(1.0 - (1.0 + magnitude))
    flat = src.reshape(src.size)
    flat_dst = dst.reshape(dst.size)
    for p in range(flat.size):
        flat_dst[p] = _to_u8(fma32(mean, alpha, np.float32(flat[p]) * ratio))


@njit(nogil=True, cache=True)
def posterize(src, dst, magnitude):
    """Keep the int(m) most significant bits."""
    bits = np.int64(magnitude)
    mask = np.uint8(((1 << bits) - 1) << (8 - bits))
    flat_src = src.reshape(src.size)
    flat_dst = dst.reshape(dst.size)
    for p in range(flat_src.size):
        flat_dst[p] = flat_src[p] & mask


@njit(nogil=True, cache=True)
def solarize(src, dst, magnitude):
    """Invert the values at or above the threshold 255 m (as float32; x >= t exactly when x >= ceil(t))."""
    start = min(max(np.ceil(np.float32(255.0 * magnitude)), _F0), np.float32(256.0))
    first = np.int32(start)
    flat_src = src.reshape(src.size)
    flat_dst = dst.reshape(dst.size)
    for p in range(flat_src.size):
        value = flat_src[p]
        flat_dst[p] = ~value if np.int32(value) >= first else value


@njit(nogil=True, cache=True)
def autocontrast_lut(src, lut):
    """Per channel, the table stretching [min, max] to [0, 255] (flat channels keep their values)."""
    c, h, w = src.shape
    flat = src.reshape(c, h * w)
    for ch in range(c):
        low = np.uint8(255)
        high = np.uint8(0)
        s = flat[ch]
        for p in range(h * w):  # in uint8 throughout, so that the reduction vectorises
            value = s[p]
            low = value if value < low else low
            high = value if value > high else high
        if high == low:
            minimum = _F0
            inv_scale = _F1
        else:
            minimum = np.float32(low)
            inv_scale = (np.float32(high) - minimum) * _INV255
        for v in range(256):
            lut[ch, v] = _to_u8((np.float32(v) - minimum) / inv_scale)


@njit(nogil=True, cache=True)
def _histograms(flat, counts, hist):
    """hist[ch, v] = how many values of channel ch equal v. From 4,096 pixels the counts go to several rows of
    `counts` ((6, 256) uint32 scratch) in turn, so that equal neighbours add to different counters instead
    of each waiting for the last store to the same one: RGB pixel by pixel (three channels, two rows each,
    six independent counters), one channel four rows. Smaller images: one row (clearing and summing the
    rows would cost more than they save)."""
    c, n = flat.shape
    hist[:] = 0
    if n < 4096:
        for ch in range(c):
            values = flat[ch]
            for p in range(n):
                hist[ch, values[p]] += 1
        return
    counts[:] = 0
    if c == 3:
        red, green, blue = flat[0], flat[1], flat[2]
        whole = n - n % 2
        for p in range(0, whole, 2):
            counts[0, red[p]] += 1
            counts[1, green[p]] += 1
            counts[2, blue[p]] += 1
            counts[3, red[p + 1]] += 1
            counts[4, green[p + 1]] += 1
            counts[5, blue[p + 1]] += 1
        for p in range(whole, n):
            counts[0, red[p]] += 1
            counts[1, green[p]] += 1
            counts[2, blue[p]] += 1
        for ch in range(3):
            for v in range(256):
                hist[ch, v] = np.int64(counts[ch, v]) + np.int64(counts[ch + 3, v])
        return
    values = flat[0]
    whole = n - n % 4
    for p in range(0, whole, 4):
        counts[0, values[p]] += 1
        counts[1, values[p + 1]] += 1
        counts[2, values[p + 2]] += 1
        counts[3, values[p + 3]] += 1
    for p in range(whole, n):
        counts[0, values[p]] += 1
    for v in range(256):
        hist[0, v] = np.int64(counts[0, v]) + np.int64(counts[1, v]) + np.int64(counts[2, v]) + np.int64(counts[3, v])


@njit(nogil=True, cache=True)
def equalize_lut(src, lut, counts):
    """Per channel, PIL's histogram-equalisation table (identity when one bin holds all but nothing else);
    `counts`: (6, 256) uint32 scratch of `_histograms`."""
    c, h, w = src.shape
    hists = np.empty((c, 256), np.int64)
    _histograms(src.reshape(c, h * w), counts, hists)
    for ch in range(c):
        hist = hists[ch]
        last = 0  # the last non-empty bin: where the cumulative count first reaches the total
        for v in range(256):
            if hist[v]:
                last = v
        step = (h * w - hist[last]) // 255
        if step == 0:
            for v in range(256):
                lut[ch, v] = v
            continue
        lut[ch, 0] = 0
        cum = 0
        for v in range(255):
            cum += hist[v]
            lut[ch, v + 1] = min(max((cum + step // 2) // step, 0), 255)


@njit(nogil=True, cache=True)
def invert_lut(lut):
    """Table of 255 - x."""
    for ch in range(lut.shape[0]):
        for v in range(256):
            lut[ch, v] = 255 - v


@njit(nogil=True, cache=True)
def color(src, dst, magnitude):
    """Blend RGB with its luma by 1 + m (x (1 + m) - m gray, fused as addcmul); one channel is copied."""
    c, h, w = src.shape
    if c != 3:
        dst[:] = src
        return
    ratio = np.float32(1.0 + magnitude)
    alpha = np.float32(1.0 - (1.0 + magnitude))
    for y in range(h):
        for x in range(w):
            r = src[0, y, x]
            g = src[1, y, x]
            b = src[2, y, x]
            gray = _gray(r, g, b)
            dst[0, y, x] = _to_u8(fma32(gray, alpha, np.float32(r) * ratio))
            dst[1, y, x] = _to_u8(fma32(gray, alpha, np.float32(g) * ratio))
            dst[2, y, x] = _to_u8(fma32(gray, alpha, np.float32(b) * ratio))


@njit(nogil=True, cache=True)
def sharpness(src, dst, magnitude, rows):
    """Blend with PIL's 3x3 smoothing (centre 5, over 13) by 1 + m; the 1-pixel border is copied.

    The 3x3 sums are exact integers, built from horizontal sums of three rows (`rows`: (3, W) int32
    scratch, a ring over the image's rows).
    """
    c, h, w = src.shape
    copy(src, dst)
    if h <= 2 or w <= 2:
        return
    alpha = np.float32(1.0 - (1.0 + magnitude))
    for ch in range(c):
        s = src[ch]
        d = dst[ch]
        for y in range(2):
            for x in range(1, w - 1):
                rows[y, x] = np.int32(s[y, x - 1]) + np.int32(s[y, x]) + np.int32(s[y, x + 1])
        for y in range(1, h - 1):
            below = rows[(y + 1) % 3]
            for x in range(1, w - 1):
                below[x] = np.int32(s[y + 1, x - 1]) + np.int32(s[y + 1, x]) + np.int32(s[y + 1, x + 1])
            above = rows[(y - 1) % 3]
            middle = rows[y % 3]
            for x in range(1, w - 1):
                centre = s[y, x]
                # wrapped back to int32 (numba widens int32 sums to int64, which does not vectorise)
                total = np.int32(above[x] + middle[x] + below[x] + 4 * np.int32(centre))
                blurred = np.rint(np.float32(total) * _THIRTEENTH)
                fcentre = np.float32(centre)
                d[y, x] = _to_u8(fma32(blurred - fcentre, alpha, fcentre))


@njit(nogil=True, cache=True, inline="always")
def _nearest(grid, half, size):
    """The source pixel of a grid coordinate, rint(fma(g + 1, size / 2, -1/2)), or -1 outside [0, size)."""
    s = np.rint(fma32(grid + _F1, half, -_HALF))
    return np.int32(s) if (s >= _F0) & (s < size) else np.int32(-1)


@njit(nogil=True, cache=True, inline="always")
def _unclipped(grid, half):
    """The source coordinate of a grid coordinate as a float, rint(fma(g + 1, size / 2, -1/2))."""
    return np.rint(fma32(grid + _F1, half, -_HALF))


@njit(nogil=True, cache=True, inline="always")
def _flat_index(sx, sy, fw, fh, outside):
    """sy W + sx (exact in float32 below 2**24) as int32, or `outside` when the pixel is not in the image."""
    inside = (sx >= _F0) & (sx < fw) & (sy >= _F0) & (sy < fh)
    return np.int32(sy * fw + sx) if inside else np.int32(outside)


@njit(nogil=True, cache=True, inline="always")
def _column_products(r00, r01, products):
    """bx r00 and bx r01 of every output column (bx its centred coordinate), rounded as each pixel's."""
    w = products.shape[1]
    x0 = np.float32((1.0 - w) * 0.5)
    for x in range(w):
        bx = x0 + np.float32(x)
        products[0, x] = bx * r00
        products[1, x] = bx * r01


@njit(nogil=True, cache=True, inline="always")
def _fill_span(flat_dst, start, stop, fill):
    """Pixels [start, stop) of every channel of a flat image take the fill."""
    for ch in range(flat_dst.shape[0]):
        value = fill[ch]
        for p in range(start, stop):
            flat_dst[ch, np.uint64(p)] = value


@njit(nogil=True, cache=True, inline="always")
def _shift_of(columns):
    """(k, start, stop) when columns[x] = x + k on [start, stop) and -1 elsewhere (a shifted row: the output
    column range whose source lies in the image); start = stop = 0 when the row is no such shift."""
    w = columns.shape[0]
    first = -1
    for x in range(w):
        if columns[x] >= 0:
            first = x
            break
    if first < 0:
        return 0, 0, 0
    shift = np.int64(columns[first]) - first
    start = max(0, -shift)
    stop = min(w, w - shift)
    misses = 0
    for x in range(w):
        expected = x + shift if (x >= start) & (x < stop) else -1
        misses += columns[x] != expected
    return (shift, start, stop) if misses == 0 else (0, 0, 0)


@njit(nogil=True, cache=True, inline="always")
def _row_from_row(flat_src, flat_dst, row, source_row, columns, shift, start, stop, fill):
    """Output row `row` read from source row `source_row` at columns[x] (-1: the fill): a shifted copy with
    the fill on both sides when (shift, start, stop) describe the columns (`_shift_of`), else a gather.
    (Unsigned indices: no check for negative ones in the loops, and no per-row views, which cost small
    images a reference count each.)"""
    c = flat_src.shape[0]
    w = columns.shape[0]
    if stop > start:
        _fill_span(flat_dst, row, row + start, fill)
        source = source_row + shift
        for ch in range(c):
            for x in range(start, stop):
                flat_dst[ch, np.uint64(row + x)] = flat_src[ch, np.uint64(source + x)]
        _fill_span(flat_dst, row + stop, row + w, fill)
        return
    for ch in range(c):
        outside = fill[ch]
        for x in range(w):
            j = columns[x]
            flat_dst[ch, np.uint64(row + x)] = flat_src[ch, np.uint64(source_row + j)] if j >= 0 else outside


@njit(nogil=True, cache=True, inline="always")
def _pack(flat_src, fill, packed):
    """Three channels as one uint32 per pixel, packed[H W] the fill: one load then moves a whole pixel
    (one channel: nothing to pack)."""
    if flat_src.shape[0] != 3:
        return
    red, green, blue = flat_src[0], flat_src[1], flat_src[2]
    for p in range(red.shape[0]):
        packed[p] = np.uint32(red[p]) | (np.uint32(green[p]) << 8) | (np.uint32(blue[p]) << 16)
    packed[red.shape[0]] = np.uint32(fill[0]) | (np.uint32(fill[1]) << 8) | (np.uint32(fill[2]) << 16)


@njit(nogil=True, cache=True, inline="always")
def _gather_row(flat_src, flat_dst, row, index, fill, packed, gathered):
    """Output row `row` from flat source indices (H W: the fill); three channels through the packed pixels
    (one gather per pixel, then one vector loop to unpack), one channel directly."""
    w = index.shape[0]
    if flat_src.shape[0] == 3:
        for x in range(w):
            gathered[x] = packed[index[x]]
        for x in range(w):
            value = gathered[x]
            at = np.uint64(row + x)
            flat_dst[0, at] = np.uint8(value & 255)
            flat_dst[1, at] = np.uint8((value >> 8) & 255)
            flat_dst[2, at] = np.uint8(value >> 16)
        return
    outside = fill[0]
    last = flat_src.shape[1]
    for x in range(w):
        j = index[x]
        flat_dst[0, np.uint64(row + x)] = flat_src[0, j] if j < last else outside


@njit(nogil=True, cache=True)
def _nearest_narrow(src, dst, rescaled, fill, ints):
    """`affine_nearest` for narrow images, pixel by pixel: per row one vector loop of flat indices (into
    ints[3], indexed in place: a view would cost each small image) and one gather per channel. Below 64
    columns the shortcuts' extra loops per row cost more than they save."""
    c, h, w = src.shape
    half_w = np.float32(w * 0.5)
    half_h = np.float32(h * 0.5)
    x0 = np.float32((1.0 - w) * 0.5)
    y0 = np.float32((1.0 - h) * 0.5)
    fw = np.float32(w)
    fh = np.float32(h)
    r00, r01 = rescaled[0, 0], rescaled[0, 1]
    r10, r11 = rescaled[1, 0], rescaled[1, 1]
    r20, r21 = rescaled[2, 0], rescaled[2, 1]
    flat_src = src.reshape(c, h * w)
    flat_dst = dst.reshape(c, h * w)
    for y in range(h):
        by = y0 + np.float32(y)
        for x in range(w):
            bx = x0 + np.float32(x)
            gx = fma32(r20, _F1, fma32(by, r10, bx * r00))
            gy = fma32(r21, _F1, fma32(by, r11, bx * r01))
            sx = np.rint(fma32(gx + _F1, half_w, -_HALF))
            sy = np.rint(fma32(gy + _F1, half_h, -_HALF))
            inside = (sx >= _F0) & (sx < fw) & (sy >= _F0) & (sy < fh)
            ints[3, x] = np.int32(sy * fw + sx) if inside else np.int32(-1)
        row = y * w
        for ch in range(c):
            s = flat_src[ch]
            d = flat_dst[ch]
            outside = fill[ch]
            for x in range(w):
                j = ints[3, x]
                d[row + x] = s[j] if j >= 0 else outside


@njit(nogil=True, cache=True)
def affine_nearest(src, dst, rescaled, fill, ints, floats, packed, words):
    """`nearest` with its scratch taken from `buffers`' rows: index ints[3], columns ints[5], products
    floats[4:6], gathered words[4] (views made only where used: each costs small images)."""
    if src.shape[2] < 64:
        _nearest_narrow(src, dst, rescaled, fill, ints)
        return
    nearest(src, dst, rescaled, fill, ints[3], ints[5], floats[4:6], packed, words[4])


@njit(nogil=True, cache=True)
def nearest(src, dst, rescaled, fill, index, columns, products, packed, gathered):
    """Nearest-neighbour resampling through one matrix, as grid_sample(align_corners=False) computes it.

    `rescaled` is torchvision's (3, 2) grid matrix (theta transposed over half the size); the grid point
    of output pixel (x, y) is fma(by, r10, bx r00) + r20 (the torch path's order, `_sampling_grid`),
    unnormalised as (g + 1) size / 2 - 1/2 (fused) and rounded half-even. Outside pixels take `fill`.
    The same values, computed once where they repeat: bx r00 and bx r01 per column; with r01 = 0 (x r01
    is a signed zero, which the sums absorb) the source row per output row, and each row is then a
    shifted copy (translations, horizontal shears) or a gather within one row; with r10 = 0 as well, the
    source column per output column, once per image. Other matrices (rotations, vertical shears) gather
    whole packed pixels, row by row (`_gather_row`). (Images narrower than 64 take `_nearest_narrow`.)
    Scratch (`buffers`): index and columns (W,) int32, products (2, W) float32, packed (H W + 1,) and
    gathered (W,) uint32.
    """
    c, h, w = src.shape
    half_w = np.float32(w * 0.5)
    half_h = np.float32(h * 0.5)
    y0 = np.float32((1.0 - h) * 0.5)
    fw = np.float32(w)
    fh = np.float32(h)
    r00, r01 = rescaled[0, 0], rescaled[0, 1]
    r10, r11 = rescaled[1, 0], rescaled[1, 1]
    r20, r21 = rescaled[2, 0], rescaled[2, 1]
    flat_src = src.reshape(c, h * w)
    flat_dst = dst.reshape(c, h * w)
    _column_products(r00, r01, products)
    bx_r00, bx_r01 = products[0], products[1]
    rows_alone = r01 == 0  # the source row depends on the output row alone
    columns_alone = r10 == 0  # the source column depends on the output column alone
    if not rows_alone:
        _pack(flat_src, fill, packed)
        for y in range(h):
            by = y0 + np.float32(y)
            for x in range(w):
                sx = _unclipped(fma32(r20, _F1, fma32(by, r10, bx_r00[x])), half_w)
                sy = _unclipped(fma32(r21, _F1, fma32(by, r11, bx_r01[x])), half_h)
                index[x] = _flat_index(sx, sy, fw, fh, h * w)
            _gather_row(flat_src, flat_dst, y * w, index, fill, packed, gathered)
        return
    shift, start, stop = 0, 0, 0
    if columns_alone:
        for x in range(w):
            columns[x] = _nearest(fma32(r20, _F1, fma32(y0, r10, bx_r00[x])), half_w, fw)
        shift, start, stop = _shift_of(columns)
    for y in range(h):
        by = y0 + np.float32(y)
        row = y * w
        sy = _nearest(fma32(r21, _F1, fma32(by, r11, bx_r01[0])), half_h, fh)
        if sy < 0:
            _fill_span(flat_dst, row, row + w, fill)
            continue
        if not columns_alone:
            for x in range(w):
                columns[x] = _nearest(fma32(r20, _F1, fma32(by, r10, bx_r00[x])), half_w, fw)
            shift, start, stop = _shift_of(columns)
        _row_from_row(flat_src, flat_dst, row, sy * w, columns, shift, start, stop, fill)


@njit(nogil=True, cache=True)
def _pack_bordered(src, packed):
    """The image as one uint32 per pixel (channel k in byte k, a 1 in byte C: the image of ones whose
    interpolation is the fill mask) inside a border of two zero pixels, (H + 4) (W + 4) entries; the caller
    keeps the border zero."""
    c, h, w = src.shape
    stride = w + 4
    ones = np.uint32(1) << np.uint32(8 * c)
    for y in range(h):
        row = packed[(y + 2) * stride + 2 : (y + 2) * stride + 2 + w]
        if c == 3:
            red, green, blue = src[0, y], src[1, y], src[2, y]
            for x in range(w):
                row[x] = np.uint32(red[x]) | (np.uint32(green[x]) << 8) | (np.uint32(blue[x]) << 16) | ones
        else:
            grey = src[0, y]
            for x in range(w):
                row[x] = np.uint32(grey[x]) | ones


@njit(nogil=True, cache=True, inline="always")
def _byte(word, shift):
    """Byte `shift` / 8 of a packed pixel, as float32 (through int32: a vector conversion on AVX2 too)."""
    return np.float32(np.int32((word >> shift) & np.uint32(255)))


@njit(nogil=True, cache=True, inline="always")
def _corners(nw, ne, sw, se, w_nw, w_ne, w_sw, w_se, shift):
    """One channel of the four packed corners weighted and summed as grid_sample: fused, nw first."""
    total = fma32(_byte(ne, shift), w_ne, _byte(nw, shift) * w_nw)
    return fma32(_byte(se, shift), w_se, fma32(_byte(sw, shift), w_sw, total))


@njit(nogil=True, cache=True, inline="always")
def _round_u8(value):
    """Round half-even, clamp to [0, 255], as uint8."""
    return np.uint8(min(max(np.rint(value), _F0), _F255))


@njit(nogil=True, cache=True)
def _interpolate(corners, weights, shift, out):
    """out[x]: one channel (byte shift / 8) of a row, interpolated from its gathered corners."""
    nw, ne, sw, se = corners[0], corners[1], corners[2], corners[3]
    w_nw, w_ne, w_sw, w_se = weights[0], weights[1], weights[2], weights[3]
    for x in range(out.shape[0]):
        out[x] = _corners(nw[x], ne[x], sw[x], se[x], w_nw[x], w_ne[x], w_sw[x], w_se[x], shift)


@njit(nogil=True, cache=True)
def _bilinear_row(dst, y, fill, has_fill, corners, weights, values):
    """Output row y from its gathered corners and weights: every channel in one loop, or, with a fill,
    each channel and the mask, then (v - fill) mask + fill in three roundings, as torch's three ops."""
    c = dst.shape[0]
    if has_fill:
        for ch in range(c + 1):
            _interpolate(corners, weights, np.uint32(8 * ch), values[ch])
        mask = values[c]
        for ch in range(c):
            out = values[ch]
            outside = np.float32(fill[ch])
            row = dst[ch, y]
            for x in range(row.shape[0]):
                row[x] = _round_u8((out[x] - outside) * mask[x] + outside)
        return
    nw, ne, sw, se = corners[0], corners[1], corners[2], corners[3]
    w_nw, w_ne, w_sw, w_se = weights[0], weights[1], weights[2], weights[3]
    if c == 3:
        red, green, blue = dst[0, y], dst[1, y], dst[2, y]
        for x in range(red.shape[0]):
            a, b, d, e = nw[x], ne[x], sw[x], se[x]
            fa, fb, fd, fe = w_nw[x], w_ne[x], w_sw[x], w_se[x]
            red[x] = _round_u8(_corners(a, b, d, e, fa, fb, fd, fe, np.uint32(0)))
            green[x] = _round_u8(_corners(a, b, d, e, fa, fb, fd, fe, np.uint32(8)))
            blue[x] = _round_u8(_corners(a, b, d, e, fa, fb, fd, fe, np.uint32(16)))
        return
    grey = dst[0, y]
    for x in range(grey.shape[0]):
        grey[x] = _round_u8(_corners(nw[x], ne[x], sw[x], se[x], w_nw[x], w_ne[x], w_sw[x], w_se[x], np.uint32(0)))


@njit(nogil=True, cache=True)
def affine_bilinear(src, dst, rescaled, fill, has_fill, packed, offsets, weights, values, corners):
    """Bilinear resampling through one matrix, as grid_sample(align_corners=False) and torch's fill blend.

    The grid point is computed as in `affine_nearest`; the four weights are products of the distances to
    the sides, and the value their fused sum (nw first). Corners outside the image read 0 (zero padding):
    the image is packed (`_pack_bordered`) inside a border of two zero pixels and the north-west corner is
    clamped into [-2, size], so that all four corners are in it and those beyond the image read zeros.
    Per row: the weights and offsets (vector loops), one gather of the four packed corners per pixel
    (every channel and the mask at once), then the channels (`_bilinear_row`). Scratch (`buffers`): packed
    ((H + 4) (W + 4),) uint32 with a zero border, offsets (W,) int32, weights (4, W) and values (C + 1, W)
    float32, corners (4, W) uint32.
    """
    _, h, w = src.shape
    half_w = np.float32(w * 0.5)
    half_h = np.float32(h * 0.5)
    x0 = np.float32((1.0 - w) * 0.5)
    y0 = np.float32((1.0 - h) * 0.5)
    r00, r01 = rescaled[0, 0], rescaled[0, 1]
    r10, r11 = rescaled[1, 0], rescaled[1, 1]
    r20, r21 = rescaled[2, 0], rescaled[2, 1]
    stride = w + 4
    base = 2 * stride + 2
    _pack_bordered(src, packed)
    w_nw, w_ne, w_sw, w_se = weights[0], weights[1], weights[2], weights[3]
    nw, ne, sw, se = corners[0], corners[1], corners[2], corners[3]
    for y in range(h):
        by = y0 + np.float32(y)
        for x in range(w):
            bx = x0 + np.float32(x)
            gx = fma32(r20, _F1, fma32(by, r10, bx * r00))
            gy = fma32(r21, _F1, fma32(by, r11, bx * r01))
            ix = fma32(gx + _F1, half_w, -_HALF)
            iy = fma32(gy + _F1, half_h, -_HALF)
            west = np.floor(ix)
            north = np.floor(iy)
            to_west = ix - west
            to_east = _F1 - to_west
            to_north = iy - north
            to_south = _F1 - to_north
            w_nw[x] = to_south * to_east
            w_ne[x] = to_south * to_west
            w_sw[x] = to_north * to_east
            w_se[x] = to_north * to_west
            # clamped before the conversion: far-off coordinates must not overflow it
            px = np.int32(min(max(west, np.float32(-2.0)), np.float32(w)))
            py = np.int32(min(max(north, np.float32(-2.0)), np.float32(h)))
            offsets[x] = np.int32(py * stride + px + base)
        for x in range(w):
            o = offsets[x]
            nw[x] = packed[o]
            ne[x] = packed[o + 1]
            sw[x] = packed[o + stride]
            se[x] = packed[o + stride + 1]
        _bilinear_row(dst, y, fill, has_fill, corners, weights, values)


# The plan runner ------------------------------------------------------------------------------------------
# For each sample of a range, its chain(s) of ops, one image at a time: the image stays in the caches
# through all its steps, and a sample's op is chosen by a branch inside the compiled loop (no per-op
# dispatch, no sorting, no gathering of groups). Mixing (AugMix) sums the chains as `executor._mix` does:
# each product rounded, then added, in float32; rounded half-even at the end.

_SHEAR_X = OP_IDS["ShearX"]
_ROTATE = OP_IDS["Rotate"]
_BRIGHTNESS = OP_IDS["Brightness"]
_COLOR = OP_IDS["Color"]
_CONTRAST = OP_IDS["Contrast"]
_SHARPNESS = OP_IDS["Sharpness"]
_POSTERIZE = OP_IDS["Posterize"]
_SOLARIZE = OP_IDS["Solarize"]
_AUTOCONTRAST = OP_IDS["AutoContrast"]
_EQUALIZE = OP_IDS["Equalize"]
_INVERT = OP_IDS["Invert"]
_GEOMETRIC = ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")
assert list(range(_SHEAR_X, _ROTATE + 1)) == [OP_IDS[name] for name in _GEOMETRIC], "geometric ids: contiguous"


@njit(nogil=True, cache=True, inline="always")
def apply_op(op, magnitude, rescaled, src, dst, fill, options, work):
    """Apply one op of the table to one image, src -> dst (`work`: the scratch of `_chain`; each branch takes
    only the arrays it uses, as each one taken costs a reference count in and out, which small images feel)."""
    if op == 0:
        copy(src, dst)
    elif op <= _ROTATE:
        if options[0]:  # bilinear
            ints, floats = work[2], work[4]
            affine_bilinear(src, dst, rescaled, fill, options[1], work[3], ints[4], floats[:4], floats[6:], work[8][:4])
        else:
            affine_nearest(src, dst, rescaled, fill, work[2], work[4], work[7], work[8])
    elif op == _BRIGHTNESS:
        brightness(src, dst, magnitude)
    elif op == _COLOR:
        color(src, dst, magnitude)
    elif op == _CONTRAST:
        contrast(src, dst, magnitude)
    elif op == _SHARPNESS:
        sharpness(src, dst, magnitude, work[2][:3])
    elif op == _POSTERIZE:
        posterize(src, dst, magnitude)
    elif op == _SOLARIZE:
        solarize(src, dst, magnitude)
    else:
        lut = work[1]
        if op == _AUTOCONTRAST:
            autocontrast_lut(src, lut)
        elif op == _EQUALIZE:
            equalize_lut(src, lut, work[9])
        else:
            invert_lut(lut)
        if magnitude < 1.0:  # the amount of the result blended in
            blend_lut(lut, magnitude)
        apply_lut(src, dst, lut)


@njit(nogil=True, cache=True, inline="always")
def _chain(src, ops, magnitudes, rescaled, fill, options, out, work):
    """Run one chain of steps on one image into `out`, alternating between two scratch images.

    `work` holds the scratch (`buffers`): two images, a table per channel, a row of indices, three row
    sums, and the bilinear resampling's planes and rows.
    """
    scratch = work[0]
    depth = ops.shape[0]
    if depth == 0:
        copy(src, out)
        return
    current = src
    for step in range(depth):
        target = out if step == depth - 1 else scratch[step % 2]
        apply_op(ops[step], magnitudes[step], rescaled[step], current, target, fill, options, work)
        current = target


@njit(nogil=True, cache=True)
def run_plan(src, dst, ops, magnitudes, rescaled, weights, fill, options, work, start, stop):
    """Apply a plan to samples [start, stop) of a (N, C, H, W) uint8 batch, writing `dst`.

    ops, magnitudes: (N, W, D) int64 / float64; rescaled: (N, W, D, 3, 2) float32 grid matrices;
    weights: (N, W + 1) float32 mixing weights, used when W > 1; fill: (C,) uint8 outside value;
    options: (bilinear, fill given) as booleans (for nearest, no fill and a fill of 0 are the same);
    work: the scratch of `buffers`, reused from call to call (fresh memory would be page-faulted in).
    """
    chains = ops.shape[1]
    chain_out, mix = work[5], work[6]
    for i in range(start, stop):
        if chains == 1:
            _chain(src[i], ops[i, 0], magnitudes[i, 0], rescaled[i, 0], fill, options, dst[i], work)
            continue
        for k in range(chains):
            _chain(src[i], ops[i, k], magnitudes[i, k], rescaled[i, k], fill, options, chain_out, work)
            _accumulate(src[i], chain_out, weights[i], k, mix, dst[i])


@njit(nogil=True, cache=True)
def _accumulate(src, chain_out, weights, k, mix, dst):
    """Add chain k's image times its weight to the float sum, as `executor._mix`: each product rounded,
    then added, the original's product first. The first chain's pass also starts the sum with the
    original, the last one rounds it (half-even) into `dst`: one pass per chain over the float sum."""
    size = src.size
    flat_src, flat_out = src.reshape(size), chain_out.reshape(size)
    flat_mix, flat_dst = mix.reshape(size), dst.reshape(size)
    share = weights[k + 1]
    if k == 0:
        original = weights[0]
        for p in range(size):
            flat_mix[p] = np.float32(flat_src[p]) * original + np.float32(flat_out[p]) * share
    elif k < weights.shape[0] - 2:
        for p in range(size):
            flat_mix[p] += np.float32(flat_out[p]) * share
    else:
        for p in range(size):
            flat_dst[p] = _round_u8(flat_mix[p] + np.float32(flat_out[p]) * share)


def buffers(c: int, h: int, w: int) -> tuple[np.ndarray, ...]:
    """Scratch for `run_plan` on (C, H, W) images, in ten arrays (each array of the tuple costs every call
    that takes it, which small images feel): two images; tables; int32 rows (Sharpness's three row sums,
    nearest's indices, bilinear offsets, nearest's columns); the bilinear packed pixels with a zero border;
    float32 rows (bilinear weights, nearest's column products, bilinear values); AugMix's chain image and
    float sum; nearest's packed pixels; uint32 rows (bilinear corners, nearest's gathered row); Equalize's
    six rows of counts."""
    return (
        np.empty((2, c, h, w), np.uint8),
        np.empty((c, 256), np.uint8),
        np.empty((6, w), np.int32),
        np.zeros((h + 4) * (w + 4), np.uint32),
        np.empty((c + 7, w), np.float32),
        np.empty((c, h, w), np.uint8),
        np.empty((c, h, w), np.float32),
        np.empty(h * w + 1, np.uint32),
        np.empty((5, w), np.uint32),
        np.empty((6, 256), np.uint32),
    )
