"""Compiled JPEG round trip of uint8 images: `_jpeg.jpeg_compression`'s steps, the same bytes, per image in cache.

The integer steps of libjpeg (colour conversion in 16-bit fixed point, 2x2 chroma averages, triangle
upsampling) run in float32: every value they produce is an integer below 2^24 in magnitude, so products,
sums and the shifts (a multiplication by a power of two and a floor) are exact, and float32 loops take twice
as many lanes per vector as the int64 arithmetic numba types integer expressions in. The DCTs are the torch
path's butterflies (`_jpeg.fdct8`, `_jpeg.idct8`, compiled), on 32 blocks at a time: the same float32
operations in the same order, so the same bytes.
"""

from __future__ import annotations

import numpy as np

from ..._backend.compiled import njit
from ..._backend.threads import split
from ._context import Context
from ._jpeg import LEVEL_OFFSET, LEVEL_ROUNDING, SAMPLE_CENTRE, fdct8, idct8

__all__ = ["jpeg"]

_F0 = np.float32(0.0)
_F255 = np.float32(255.0)
_HALF = np.float32(0.5)
_SHIFT16 = np.float32(2.0**-16)  # x >> 16 of an integer x is floor(x * 2^-16)
_LEVEL = np.float32(128.0)
_THREE = np.float32(3.0)
_SEVEN = np.float32(7.0)
_EIGHT = np.float32(8.0)
_SIXTEENTH = np.float32(1.0 / 16.0)
_CENTRED = np.float32(128 * 16)  # (x + 8 - 2048) >> 4 is (x + 8) >> 4 - 128
_ROUND = np.float32(1 << 15)  # libjpeg's ONE_HALF of its 16-bit fixed point
_OFFSET = np.float32((128 << 16) + (1 << 15) - 1)  # CBCR_OFFSET + ONE_HALF - 1


_fdct8 = njit(inline="always")(fdct8)
_idct8 = njit(inline="always")(idct8)
_NB = 32  # blocks per chunk: the lanes of the vector loops, a constant so that a block's lines sit at fixed offsets
_RUN = 16  # the lanes of a run of blocks are a multiple of this: whole vectors


@njit(nogil=True, cache=True)
def _forward_rows(chunk):
    """jpeg_fdct_float's first pass, along each block's rows, for the 32 blocks of a chunk at once."""
    for k in range(8):
        line = chunk[k]
        for b in range(_NB):
            o = _fdct8(
                line[b], line[b + _NB], line[b + 2 * _NB], line[b + 3 * _NB],
                line[b + 4 * _NB], line[b + 5 * _NB], line[b + 6 * _NB], line[b + 7 * _NB],
            )  # fmt: skip
            line[b], line[b + _NB], line[b + 2 * _NB], line[b + 3 * _NB] = o[0], o[1], o[2], o[3]
            line[b + 4 * _NB], line[b + 5 * _NB], line[b + 6 * _NB], line[b + 7 * _NB] = o[4], o[5], o[6], o[7]


@njit(nogil=True, cache=True)
def _columns(chunk, divisors, multipliers):
    """Along each block's columns: the forward DCT's second pass, quantisation, dequantisation (quantize_float,
    jpeg_idct_float's DEQUANTIZE) and the inverse DCT's first pass, in registers."""
    for j in range(8):
        e = j * _NB
        d0, d1, d2, d3 = divisors[0, j], divisors[1, j], divisors[2, j], divisors[3, j]
        d4, d5, d6, d7 = divisors[4, j], divisors[5, j], divisors[6, j], divisors[7, j]
        m0, m1, m2, m3 = multipliers[0, j], multipliers[1, j], multipliers[2, j], multipliers[3, j]
        m4, m5, m6, m7 = multipliers[4, j], multipliers[5, j], multipliers[6, j], multipliers[7, j]
        for b in range(_NB):
            c = _fdct8(
                chunk[0, e + b], chunk[1, e + b], chunk[2, e + b], chunk[3, e + b],
                chunk[4, e + b], chunk[5, e + b], chunk[6, e + b], chunk[7, e + b],
            )  # fmt: skip
            o = _idct8(
                _level(c[0], d0) * m0, _level(c[1], d1) * m1, _level(c[2], d2) * m2, _level(c[3], d3) * m3,
                _level(c[4], d4) * m4, _level(c[5], d5) * m5, _level(c[6], d6) * m6, _level(c[7], d7) * m7,
            )  # fmt: skip
            chunk[0, e + b], chunk[1, e + b], chunk[2, e + b], chunk[3, e + b] = o[0], o[1], o[2], o[3]
            chunk[4, e + b], chunk[5, e + b], chunk[6, e + b], chunk[7, e + b] = o[4], o[5], o[6], o[7]


@njit(nogil=True, cache=True, inline="always")
def _level(coefficient, divisor):
    return np.floor(coefficient * divisor + LEVEL_ROUNDING) - LEVEL_OFFSET


@njit(nogil=True, cache=True)
def _inverse_rows(chunk):
    """jpeg_idct_float's second pass, along each block's rows, with the level shift (+128.5) on the first value."""
    for k in range(8):
        line = chunk[k]
        for b in range(_NB):
            o = _idct8(
                line[b] + SAMPLE_CENTRE, line[b + _NB], line[b + 2 * _NB], line[b + 3 * _NB],
                line[b + 4 * _NB], line[b + 5 * _NB], line[b + 6 * _NB], line[b + 7 * _NB],
            )  # fmt: skip
            line[b], line[b + _NB], line[b + 2 * _NB], line[b + 3 * _NB] = o[0], o[1], o[2], o[3]
            line[b + 4 * _NB], line[b + 5 * _NB], line[b + 6 * _NB], line[b + 7 * _NB] = o[4], o[5], o[6], o[7]


@njit(nogil=True, cache=True)
def _gather(plane, chunk, y0, x0, run, lane):
    """Blocks x0 .. x0 + run - 1 of the strip of rows y0 .. y0 + 7, level-shifted, into lanes lane.. of chunk.

    Each block's row is one group of 8 consecutive values, which the loop over the blocks reads as an
    interleaved group (whole vectors and shuffles, no scalar transposition).
    """
    for k in range(8):
        row, out = plane[y0 + k], chunk[k]
        for b in range(run):
            x, o = np.uint64(8 * (x0 + b)), np.uint64(lane + b)  # unsigned: no wrap-around test
            for j in range(8):
                out[o + np.uint64(j * _NB)] = row[x + np.uint64(j)] - _LEVEL


@njit(nogil=True, cache=True)
def _scatter(chunk, plane, y0, x0, run, lane):
    """The inverse of `_gather`, each value clamped to 0..255 and truncated to an integer (the range limit)."""
    for k in range(8):
        row, values = plane[y0 + k], chunk[k]
        for b in range(run):
            x, o = np.uint64(8 * (x0 + b)), np.uint64(lane + b)
            for j in range(8):
                row[x + np.uint64(j)] = np.floor(min(max(values[o + np.uint64(j * _NB)], _F0), _F255))


@njit(nogil=True, cache=True)
def _code_plane(plane, width, divisors, multipliers):
    """_jpeg._code_plane of plane[:, :width], float32 integers (h and width multiples of 8), in place.

    The blocks go through the passes 32 at a time (a chunk: element (k, j) of block b at [k, j * 32 + b]),
    so that each pass is a loop over the blocks on whole vectors. A chunk holds runs of blocks of one strip
    of 8 rows each, each run on a multiple of `_RUN` lanes: the lanes past a run's blocks read and write
    the plane's slack columns (at least 8 * `_RUN` past width), so that every loop runs on whole vectors.
    """
    h = plane.shape[0]
    across = width // 8
    chunk = np.zeros((8, 8 * _NB), np.float32)
    runs = np.empty((_NB // _RUN, 3), np.int64)  # (y0, x0, lanes) of the runs in the chunk
    held = 0
    for y0 in range(0, h, 8):
        for x0 in range(0, across, _NB):
            lanes = -(-min(_NB, across - x0) // _RUN) * _RUN
            if held and runs[held - 1, 2] + lanes > _NB:
                _code_chunk(chunk, plane, runs[:held], divisors, multipliers)
                held = 0
            lane = runs[held - 1, 2] if held else 0
            _gather(plane, chunk, y0, x0, lanes, lane)
            runs[held, 0], runs[held, 1], runs[held, 2] = y0, x0, lane + lanes
            held += 1
    _code_chunk(chunk, plane, runs[:held], divisors, multipliers)


@njit(nogil=True, cache=True)
def _code_chunk(chunk, plane, runs, divisors, multipliers):
    """The passes over a gathered chunk, and its runs back into the plane."""
    _forward_rows(chunk)
    _columns(chunk, divisors, multipliers)
    _inverse_rows(chunk)
    lane = 0
    for r in range(runs.shape[0]):
        _scatter(chunk, plane, runs[r, 0], runs[r, 1], runs[r, 2] - lane, lane)
        lane = runs[r, 2]


@njit(nogil=True, cache=True)
def _to_ycc(red, green, blue, y, cb, cr):
    """One row of libjpeg's RGB to YCbCr (jccolor.c), fixed point in exact float32 arithmetic."""
    for j in range(red.shape[0]):
        r = np.float32(red[j])
        g = np.float32(green[j])
        b = np.float32(blue[j])
        y[j] = np.floor((np.float32(19595) * r + np.float32(38470) * g + np.float32(7471) * b + _ROUND) * _SHIFT16)
        cb[j] = np.floor((np.float32(-11059) * r - np.float32(21709) * g + np.float32(32768) * b + _OFFSET) * _SHIFT16)
        cr[j] = np.floor((np.float32(32768) * r - np.float32(27439) * g - np.float32(5329) * b + _OFFSET) * _SHIFT16)


@njit(nogil=True, cache=True)
def _downsample(top, bottom, out, bias):
    """One row of libjpeg's h2v2_downsample: (a + b + c + d + bias) >> 2, `bias` 1, 2, 1, 2... along the row."""
    for j in range(out.shape[0]):
        e, o = np.uint64(2 * j), np.uint64(2 * j + 1)  # unsigned: no wrap-around test
        out[j] = np.floor((top[e] + top[o] + bottom[e] + bottom[o] + bias[j]) * np.float32(0.25))


@njit(nogil=True, cache=True)
def _vertical(small, oy, padded):
    """The vertical step of libjpeg's h2v2_fancy_upsample for output row `oy` of small (h, w): 3 x the nearer
    row + the farther one, into padded[1 : w + 1], with the edges replicated into padded[0] and padded[w + 1]."""
    h, w = small.shape
    r = oy // 2
    near = min(r + 1, h - 1) if oy % 2 else max(r - 1, 0)
    here, there = small[r], small[near]
    for q in range(w):
        padded[q + 1] = _THREE * here[q] + there[q]
    padded[0], padded[w + 1] = padded[1], padded[w]


@njit(nogil=True, cache=True, inline="always")
def _even(padded, q):
    """Chroma - 128 of output column 2q: (3 x column q + its left neighbour + 8) >> 4, exact in float32."""
    return np.floor((_THREE * padded[np.uint64(q + 1)] + padded[np.uint64(q)] + _EIGHT - _CENTRED) * _SIXTEENTH)


@njit(nogil=True, cache=True, inline="always")
def _odd(padded, q):
    """Chroma - 128 of output column 2q + 1: (3 x column q + its right neighbour + 7) >> 4."""
    return np.floor((_THREE * padded[np.uint64(q + 1)] + padded[np.uint64(q + 2)] + _SEVEN - _CENTRED) * _SIXTEENTH)


@njit(nogil=True, cache=True, inline="always")
def _pixel(lum, b, r):
    """libjpeg's YCbCr to RGB (jdcolor.c) of one pixel, chroma centred, in exact float32 arithmetic, as uint8s."""
    red = np.int32(lum + np.floor((np.float32(91881) * r + _ROUND) * _SHIFT16))
    green = np.int32(lum + np.floor((np.float32(-22554) * b + _ROUND - np.float32(46802) * r) * _SHIFT16))
    blue = np.int32(lum + np.floor((np.float32(116130) * b + _ROUND) * _SHIFT16))
    return np.uint8(min(max(red, 0), 255)), np.uint8(min(max(green, 0), 255)), np.uint8(min(max(blue, 0), 255))


@njit(nogil=True, cache=True)
def _to_rgb(y, cb, cr, red, green, blue):
    """One output row: the horizontal step of the fancy upsampling of both chroma rows (`_vertical`'s) and
    the conversion to RGB, two columns at a time, without branches."""
    width = red.shape[0]
    for q in range(width // 2):
        e, o = np.uint64(2 * q), np.uint64(2 * q + 1)  # unsigned: no wrap-around test
        red[e], green[e], blue[e] = _pixel(y[e], _even(cb, q), _even(cr, q))
        red[o], green[o], blue[o] = _pixel(y[o], _odd(cb, q), _odd(cr, q))
    if width % 2:
        q = width // 2
        red[2 * q], green[2 * q], blue[2 * q] = _pixel(y[2 * q], _even(cb, q), _even(cr, q))


@njit(nogil=True, cache=True)
def _jpeg_kernel(src, dst, luma, chroma, start, stop):
    _, C, H, W = src.shape
    block = 8 if C == 1 else 16
    ph, pw = -(-H // block) * block, -(-W // block) * block
    slack = 8 * _RUN  # columns the gathers and scatters of whole vectors may touch past a plane's width
    y = np.zeros((ph, pw + slack), np.float32)
    cb = np.empty((2, pw), np.float32)  # two full-resolution rows at a time, averaged into sb, sr
    cr = np.empty((2, pw), np.float32)
    sb = np.zeros((ph // 2, pw // 2 + slack), np.float32)
    sr = np.zeros((ph // 2, pw // 2 + slack), np.float32)
    hh, hw = (H + 1) // 2, (W + 1) // 2
    ub = np.empty(hw + 2, np.float32)
    ur = np.empty(hw + 2, np.float32)
    bias = np.empty(pw // 2, np.float32)
    for j in range(pw // 2):
        bias[j] = 1 + j % 2
    for s in range(start, stop):
        for i in range(ph):  # row by row, then the padding replicates the edges
            source, t = min(i, H - 1), i % 2
            if C == 1:
                for j in range(W):
                    y[i, j] = src[s, 0, source, j]
            else:
                _to_ycc(src[s, 0, source], src[s, 1, source], src[s, 2, source], y[i], cb[t], cr[t])
            for j in range(W, pw):
                y[i, j] = y[i, W - 1]
                cb[t, j] = cb[t, W - 1]
                cr[t, j] = cr[t, W - 1]
            if C == 3 and t == 1:
                _downsample(cb[0], cb[1], sb[i // 2, : pw // 2], bias)
                _downsample(cr[0], cr[1], sr[i // 2, : pw // 2], bias)
        _code_plane(y, pw, *luma)
        if C == 1:
            for i in range(H):
                for j in range(W):
                    dst[s, 0, i, j] = np.uint8(y[i, j])
            continue
        _code_plane(sb, pw // 2, *chroma)
        _code_plane(sr, pw // 2, *chroma)
        for i in range(H):
            _vertical(sb[:hh, :hw], i, ub)
            _vertical(sr[:hh, :hw], i, ur)
            _to_rgb(y[i], ub, ur, dst[s, 0, i], dst[s, 1, i], dst[s, 2, i])


def jpeg(src: np.ndarray, dst: np.ndarray, quality: int, ctx: Context) -> None:
    """jpeg_compression of a uint8 (N, C, H, W) batch into dst, C in {1, 3}; the batch split over threads."""
    from ._jpeg import CHROMA_TABLE, LUMA_TABLE, fixed_point, float_tables, quantization_table
    from ._jpeg import ROUNDING_HALF as HALF

    assert (
        HALF == 1 << 15
        and [fixed_point(v) for v in (0.299, 0.587, 0.114, 0.16874, 0.33126, 0.5)]
        == [19595, 38470, 7471, 11059, 21709, 32768]
        and [fixed_point(v) for v in (0.41869, 0.08131, 1.402, 0.34414, 0.71414, 1.772)]
        == [27439, 5329, 91881, 22554, 46802, 116130]
    )
    luma = float_tables(quantization_table(LUMA_TABLE, quality))
    chroma = float_tables(quantization_table(CHROMA_TABLE, quality))
    split(len(src), lambda a, b: _jpeg_kernel(src, dst, luma, chroma, a, b))
