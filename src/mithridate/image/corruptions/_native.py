"""Compiled CPU path of the corruptions for uint8 batches: each image end to end in one numba call.

On the CPU the torch kernels of `corrupt` spend most of a 224x224 image's time on whole-batch passes:
uint8 to float and back, one pass per filter tap, per hash step or per chunk of a formula. Here each image
goes from uint8 to uint8 inside compiled code, in cache, with its random draws hashed where they are used
(the same counter-based words as `Key`, `hash32(base(seed, stream, index) ^ salt(stream, draw))`, so the
same draws), and the batch is split in one chunk per thread (`torch.get_num_threads()`; the kernels
release the GIL). Every corruption has a kernel here (`KERNELS`).

The kernels follow the torch ones step by step: the same float32 (or float64) operations in the same
order, with a fused multiply-add where torch's vectorised CPU kernels fuse one (`add` with alpha in the
separable filters, `lerp` in bilinear sampling), and the same algorithms where the torch path emulates a
library (Canny, equalizeHist, libjpeg's fixed point and float DCTs, Pillow's BOX filter). Most give the
same bytes as the torch path; what can differ, by one level on a few values in ten thousand:

- normal draws hashed here: Box-Muller in float64 through `vmath`'s log, sin and cos, each within an ulp
  of libm's and the same once rounded to float32 for every uniform (tests/test_vmath.py), instead of
  torch's vectorised functions (the last bits of a float64, rarely of the float32 draw);
- zoom_blur and snow's zoom: torch's bilinear upsampling rounds its weighted sums in an order not
  reproduced here;
- defocus_blur: a direct sum over the kernel's taps where torch uses an FFT for wide kernels;
- frost: the texture's spreads are accumulated in float64, its exp is `vmath`'s (correctly rounded to
  float32) and its bicubic weights come from numpy.

tests/test_corruptions.py bounds the differences (`test_native_path_agrees_with_torch_path`). Only CPU
uint8 (N, C, H, W) batches with C in {1, 3} take this path; float images and other devices keep the torch
kernels. Set the environment variable MITHRIDATE_NATIVE=0 to force the torch kernels (read at every call).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import numpy as np
import torch

from ..._backend.compiled import njit
from ..._backend.fma import fma
from ..._backend.rng_compiled import base_word, hash32, uniform
from ..._backend.rng_compiled import salts as draw_salts
from ..._backend.threads import split
from ..._backend.vmath import exp as vexp
from ..._backend.vmath import log as vlog
from ..._backend.vmath import sincos
from ._context import Context
from ._native_jpeg import jpeg

__all__ = ["KERNELS", "run"]

_S32 = np.uint64(32)
_F0 = np.float32(0.0)
_F1 = np.float32(1.0)
_F255 = np.float32(255.0)
_F1E3 = np.float32(1e-3)
_HALF = np.float32(0.5)
_TWO_PI = 2.0 * math.pi
_REPLICATE, _REFLECT101, _SYMMETRIC = 0, 1, 2
_MODES = {"replicate": _REPLICATE, "reflect101": _REFLECT101, "symmetric": _SYMMETRIC}


# Counter-based draws, as rng.Key computes them ------------------------------------------------------------


@njit(nogil=True, cache=True)
def _bases(index, k0):
    """The per-sample words of a draw slot (`_rng_compiled.base_word`), one per index."""
    out = np.empty(index.shape[0], np.uint64)
    for i in range(index.shape[0]):
        out[i] = base_word(index[i], k0)
    return out


@njit(nogil=True, cache=True)
def _fill_uniform(out, base, salts):
    for d in range(out.shape[0]):
        out[d] = uniform(base, salts[d])


@njit(nogil=True, cache=True)
def _fill_normal(out, base, salts):
    """Context.normal: Box-Muller in float64 on pairs (u_p, u_{pairs + p}), cosine then sine halves.

    ln(1 - u) (1 - u exact: u has 24 bits), the square root and sin/cos are computed in float64 with
    `vmath` (within an ulp of libm's log1p, cos and sin, and equal once rounded to float32, on all 2^24
    uniforms: tests/test_vmath.py), in a loop that vectorises."""
    count = out.shape[0]
    pairs = (count + 1) // 2
    both = count - pairs
    for p in range(pairs):
        u1 = np.float64(uniform(base, salts[p]))
        u2 = np.float64(uniform(base, salts[pairs + p]))
        radius = math.sqrt(-2.0 * vlog(1.0 - u1) + 0.0)  # + 0.0: u1 = 0 gives +0, as log1p(-0.0)
        sine, cosine = sincos(_TWO_PI * u2)
        out[p] = np.float32(radius * cosine)
        if p < both:
            out[pairs + p] = np.float32(radius * sine)


_SALT_CACHE: dict[tuple[int, int], np.ndarray] = {}
_SALT_LOCK = threading.Lock()


class _Draws:
    """One slot of a context's draws on the host: per-sample base words and the shared draw salts."""

    def __init__(self, ctx: Context, slot: int, count: int) -> None:
        k0, k1 = ctx.key._stream_words(ctx.base + slot, 0)
        self.bases = _bases(ctx.index.numpy(), np.uint64(k0))
        key = (k1, count)
        with _SALT_LOCK:
            salts = _SALT_CACHE.get(key)
        if salts is None:
            salts = draw_salts(np.uint64(k1), count)
            with _SALT_LOCK:
                if len(_SALT_CACHE) >= 32:
                    _SALT_CACHE.clear()
                _SALT_CACHE[key] = salts
        self.salts = salts


def _normal_count(count: int) -> int:
    return 2 * ((count + 1) // 2)


# Pixel helpers ---------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True, inline="always")
def _to_u8(v):
    """corrupt's output rounding: clamp to [0, 1], floor(v * 255 + 1e-3) in float32."""
    if v < _F0:
        v = _F0
    elif v > _F1:
        v = _F1
    return np.uint8(math.floor(v * _F255 + _F1E3))


@njit(nogil=True, cache=True)
def _load(src, out):
    """uint8 (C, H, W) to float32 x / 255."""
    C, H, W = src.shape
    for c in range(C):
        for y in range(H):
            for x in range(W):
                out[c, y, x] = np.float32(src[c, y, x]) / _F255


@njit(nogil=True, cache=True)
def _store(img, dst):
    C, H, W = img.shape
    for c in range(C):
        for y in range(H):
            for x in range(W):
                dst[c, y, x] = _to_u8(img[c, y, x])


@njit(nogil=True, cache=True, inline="always")
def _border(i, n, mode):
    if mode == 0 or n == 1:
        return min(max(i, 0), n - 1)
    if mode == 1:
        period = 2 * (n - 1)
        f = abs(i) % period
        return period - f if f >= n else f
    period = 2 * n
    f = i % period
    return period - 1 - f if f >= n else f


@njit(nogil=True, cache=True)
def _blur_rows(img, out, w, mode):
    """Correlate along H with w (odd length), as _filters.separable: fused multiply-adds in tap order."""
    C, H, W = img.shape
    r = w.shape[0] // 2
    zero = w[0] - w[0]
    for c in range(C):
        for y in range(H):
            for x in range(W):
                out[c, y, x] = zero
            for i in range(w.shape[0]):
                row = _border(y + i - r, H, mode)
                wi = w[i]
                for x in range(W):
                    out[c, y, x] = fma(img[c, row, x], wi, out[c, y, x])


@njit(nogil=True, cache=True)
def _blur_cols(img, out, w, mode, buf):
    """Correlate along W with w (odd length); buf holds W + len(w) - 1 values."""
    C, H, W = img.shape
    r = w.shape[0] // 2
    zero = w[0] - w[0]
    for c in range(C):
        for y in range(H):
            for k in range(W + 2 * r):
                buf[k] = img[c, y, _border(k - r, W, mode)]
            for x in range(W):
                out[c, y, x] = zero
            for j in range(w.shape[0]):
                wj = w[j]
                for x in range(W):  # an unsigned index: no wrap-around test, so loads are vectors
                    out[c, y, x] = fma(buf[np.uint64(x + j)], wj, out[c, y, x])


@njit(nogil=True, cache=True)
def _separable(img, out, tmp, buf, wr, wc, mode):
    """_filters.separable: rows then columns, a pass skipped for a one-tap kernel; img -> out (tmp scratch)."""
    if wr.shape[0] > 1 and wc.shape[0] > 1:
        _blur_rows(img, tmp, wr, mode)
        _blur_cols(tmp, out, wc, mode, buf)
    elif wr.shape[0] > 1:
        _blur_rows(img, out, wr, mode)
    elif wc.shape[0] > 1:
        _blur_cols(img, out, wc, mode, buf)
    else:
        out[:] = img


def _gauss(sigma: float, dtype=np.float32, truncate: float = 4.0) -> np.ndarray:
    from ._filters import gaussian_weights

    return np.array(gaussian_weights(sigma, truncate), dtype=dtype)


@njit(nogil=True, cache=True)
def _line_blur(img, out, acc, dy, dx, wt):
    """_filters.line_blur of one image: tap by tap, out += shifted * weight (no fused multiply-add)."""
    C, H, W = img.shape
    taps = dy.shape[0]
    for c in range(C):
        for y in range(H):
            for x in range(W):
                acc[x] = _F0
            for i in range(taps):
                wi = wt[i]
                if wi == _F0:
                    continue
                row = min(max(y - dy[i], 0), H - 1)
                shift = dx[i]
                lo = min(max(shift, 0), W)
                hi = min(max(W + shift, 0), W)
                first = img[c, row, 0] * wi
                last = img[c, row, W - 1] * wi
                for x in range(lo):
                    acc[x] = acc[x] + first
                inner = acc[lo:hi]  # slices: indices from 0 (no wrap-around test), so loads and stores are vectors
                line = img[c, row, lo - shift : hi - shift]
                for x in range(inner.shape[0]):
                    inner[x] = inner[x] + line[x] * wi
                for x in range(max(hi, lo), W):
                    acc[x] = acc[x] + last
            for x in range(W):
                out[c, y, x] = acc[x]


def _line_taps(radius: float, sigma: float, angle: torch.Tensor, height: int, width: int):
    from ._filters import line_taps

    dy, dx, weight = line_taps(radius, sigma, angle, height, width)
    return dy.numpy(), dx.numpy(), weight.numpy()


# Threads ---------------------------------------------------------------------------------------------------


def _split(n: int, body: Callable[[int, int], None]) -> None:
    """Run body(start, stop) over [0, n) in one chunk per thread (the shared, fork-safe pool)."""
    split(n, body)


# Blurs -----------------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _motion_kernel(src, dst, dy, dx, wt, start, stop):
    _, C, H, W = src.shape
    img = np.empty((C, H, W), np.float32)
    out = np.empty((C, H, W), np.float32)
    acc = np.empty(W, np.float32)
    for s in range(start, stop):
        _load(src[s], img)
        _line_blur(img, out, acc, dy[s], dx[s], wt[s])
        _store(out, dst[s])


def _motion_blur(src: np.ndarray, dst: np.ndarray, c: tuple, ctx: Context) -> None:
    radius, sigma = c
    angle = -45.0 + 90.0 * ctx.uniform(0, 1)[:, 0].to(torch.float64)
    dy, dx, wt = _line_taps(radius, sigma, angle, src.shape[2], src.shape[3])
    _split(len(src), lambda a, b: _motion_kernel(src, dst, dy, dx, wt, a, b))


@njit(nogil=True, cache=True)
def _gaussian_kernel(src, dst, w, start, stop):
    _, C, H, W = src.shape
    img = np.empty((C, H, W), np.float32)
    tmp = np.empty((C, H, W), np.float32)
    out = np.empty((C, H, W), np.float32)
    buf = np.empty(W + w.shape[0], np.float32)
    for s in range(start, stop):
        _load(src[s], img)
        _separable(img, out, tmp, buf, w, w, 0)
        _store(out, dst[s])


def _gaussian_blur(src: np.ndarray, dst: np.ndarray, c: float, ctx: Context) -> None:
    w = _gauss(c)
    _split(len(src), lambda a, b: _gaussian_kernel(src, dst, w, a, b))


@njit(nogil=True, cache=True)
def _glass_kernel(src, dst, w, delta, iterations, bases, salts, start, stop):
    _, C, H, W = src.shape
    img = np.empty((C, H, W), np.float32)
    tmp = np.empty((C, H, W), np.float32)
    out = np.empty((C, H, W), np.float32)
    buf = np.empty(W + w.shape[0], np.float32)
    high = np.uint64(2 * delta)
    rows = max(0, H - 2 * delta)
    cols = max(0, W - 2 * delta)
    count = rows * cols
    for s in range(start, stop):
        base = bases[s]
        _load(src[s], img)
        _separable(img, out, tmp, buf, w, w, 0)
        for c in range(C):  # the reference casts the first blur to uint8
            for y in range(H):
                for x in range(W):
                    v = min(max(out[c, y, x], _F0), _F1)
                    out[c, y, x] = np.float32(math.floor(v * _F255 + _F1E3)) / _F255
        # the reference's sequential "swaps" (copies on numpy views), in its visiting order
        for step in range(iterations):
            first = 2 * count * step
            j = 0
            for h in range(H - delta, delta, -1):
                for x in range(W - delta, delta, -1):
                    oy = np.int64((hash32(base ^ salts[first + j]) * high) >> _S32) - delta
                    ox = np.int64((hash32(base ^ salts[first + count + j]) * high) >> _S32) - delta
                    j += 1
                    for c in range(C):
                        out[c, h, x] = out[c, h + oy, x + ox]
        _separable(out, img, tmp, buf, w, w, 0)
        _store(img, dst[s])


def _glass_blur(src: np.ndarray, dst: np.ndarray, c: tuple, ctx: Context) -> None:
    sigma, delta, iterations = c
    height, width = src.shape[2:]
    visited = max(0, height - 2 * delta) * max(0, width - 2 * delta)
    draws = _Draws(ctx, 0, max(1, iterations * 2 * visited))
    w = _gauss(sigma)
    _split(len(src), lambda a, b: _glass_kernel(src, dst, w, delta, iterations, draws.bases, draws.salts, a, b))


def _zoom_axis(size: int, factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """clipped_zoom along one axis: per output position its two source positions and bilinear weights.

    The centre crop of ceil(size / factor) is stretched to round(crop * factor) with the corners
    aligned (torch's float32 source positions scale * i) and the centre `size` positions kept.
    """
    crop = math.ceil(size / factor)
    first = (size - crop) // 2
    out = round(crop * factor)
    trim = (out - size) // 2
    scale = np.float32(crop - 1) / np.float32(out - 1) if out > 1 else np.float32(0)
    position = scale * np.arange(trim, trim + size, dtype=np.float32)
    i0 = np.minimum(np.floor(position).astype(np.int64), crop - 1)
    w1 = np.clip(position - i0.astype(np.float32), 0, 1).astype(np.float32)
    w0 = (np.float32(1) - w1).astype(np.float32)
    i1 = i0 + (i0 < crop - 1)
    return i0 + first, i1 + first, w0, w1


def _zoom_tables(height: int, width: int, factors) -> tuple[np.ndarray, ...]:
    rows = [_zoom_axis(height, f) for f in factors]
    cols = [_zoom_axis(width, f) for f in factors]
    return tuple(np.stack([r[k] for r in rows]) for k in range(4)) + tuple(
        np.stack([c[k] for c in cols]) for k in range(4)
    )


@njit(nogil=True, cache=True)
def _zoom(img, out, hrows, f, r0, r1, wy0, wy1, c0, c1, wx0, wx1):
    """One clipped_zoom (table row f) of img (C, H, W) into out: rows interpolated along W, then blended."""
    C, H, W = img.shape
    lo = r0[f, 0]
    hi = r1[f, H - 1]
    for c in range(C):
        for r in range(lo, hi + 1):
            for x in range(W):
                hrows[r, x] = img[c, r, c0[f, x]] * wx0[f, x] + img[c, r, c1[f, x]] * wx1[f, x]
        for y in range(H):
            a = r0[f, y]
            b = r1[f, y]
            u = wy0[f, y]
            v = wy1[f, y]
            for x in range(W):
                out[c, y, x] = hrows[a, x] * u + hrows[b, x] * v


@njit(nogil=True, cache=True)
def _zoom_blur_kernel(src, dst, r0, r1, wy0, wy1, c0, c1, wx0, wx1, start, stop):
    _, C, H, W = src.shape
    img = np.empty((C, H, W), np.float32)
    acc = np.empty((C, H, W), np.float32)
    zoomed = np.empty((C, H, W), np.float32)
    hrows = np.empty((H, W), np.float32)
    factors = r0.shape[0]
    count = np.float32(factors + 1)
    for s in range(start, stop):
        _load(src[s], img)
        acc[:] = img
        for f in range(factors):
            _zoom(img, zoomed, hrows, f, r0, r1, wy0, wy1, c0, c1, wx0, wx1)
            for c in range(C):
                for y in range(H):
                    for x in range(W):
                        acc[c, y, x] = acc[c, y, x] + zoomed[c, y, x]
        for c in range(C):
            for y in range(H):
                for x in range(W):
                    dst[s, c, y, x] = _to_u8(acc[c, y, x] / count)


def _zoom_blur(src: np.ndarray, dst: np.ndarray, c: tuple, ctx: Context) -> None:
    from ._params import zoom_factors

    tables = _zoom_tables(src.shape[2], src.shape[3], zoom_factors(*c))
    _split(len(src), lambda a, b: _zoom_blur_kernel(src, dst, *tables, a, b))


# Weather ---------------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _snow_kernel(src, dst, p, zoom_tables, dy, dx, wt, bases, salts, start, stop):
    loc, scale, threshold, blend, rest, gw0, gw1, gw2 = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    r0, r1, wy0, wy1, c0, c1, wx0, wx1 = zoom_tables
    _, C, H, W = src.shape
    img = np.empty((C, H, W), np.float32)
    field = np.empty(H * W, np.float32)
    layer = np.empty((1, H, W), np.float32)
    zoomed = np.empty((1, H, W), np.float32)
    blurred = np.empty((1, H, W), np.float32)
    hrows = np.empty((H, W), np.float32)
    acc = np.empty(W, np.float32)
    for s in range(start, stop):
        _fill_normal(field, bases[s], salts)
        for y in range(H):
            for x in range(W):
                layer[0, y, x] = loc + scale * field[y * W + x]
        _zoom(layer, zoomed, hrows, 0, r0, r1, wy0, wy1, c0, c1, wx0, wx1)
        for y in range(H):
            for x in range(W):
                v = zoomed[0, y, x]
                if v < threshold:
                    v = _F0
                v = min(max(v, _F0), _F1)
                zoomed[0, y, x] = np.float32(math.floor(v * _F255)) / _F255
        _line_blur(zoomed, blurred, acc, dy[s], dx[s], wt[s])
        for y in range(H):
            for x in range(W):
                blurred[0, y, x] = np.float32(np.rint(blurred[0, y, x] * _F255)) / _F255
        _load(src[s], img)
        for y in range(H):
            for x in range(W):
                gray = gw0 * img[0, y, x] + gw1 * img[1, y, x] + gw2 * img[2, y, x] if C == 3 else img[0, y, x]
                white = gray * np.float32(1.5) + _HALF
                flakes = blurred[0, y, x]
                flipped = blurred[0, H - 1 - y, W - 1 - x]
                for c in range(C):
                    v = img[c, y, x]
                    whitened = blend * v + rest * max(v, white)
                    dst[s, c, y, x] = _to_u8(whitened + flakes + flipped)


def _snow(src: np.ndarray, dst: np.ndarray, c: tuple, ctx: Context) -> None:
    loc, scale, zoom, threshold, radius, sigma, blend = c
    n, _, height, width = src.shape
    draws = _Draws(ctx, 0, _normal_count(height * width))
    angle = -135.0 + 90.0 * ctx.uniform(1, 1)[:, 0].to(torch.float64)
    dy, dx, wt = _line_taps(radius, sigma, angle, height, width)
    tables = _zoom_tables(height, width, [zoom])
    p = np.array([loc, scale, threshold, blend, 1.0 - blend, 0.299, 0.587, 0.114], dtype=np.float32)
    _split(n, lambda a, b: _snow_kernel(src, dst, p, tables, dy, dx, wt, draws.bases, draws.salts, a, b))


# Geometry and noise ----------------------------------------------------------------------------------------


@njit(nogil=True, cache=True, inline="always")
def _lerp(a, b, w):
    """torch.lerp as its vectorised CPU kernel computes it (a fused multiply-add from the nearer end)."""
    if abs(w) < _HALF:
        return fma(w, b - a, a)
    return fma(w - _F1, b - a, b)


@njit(nogil=True, cache=True)
def _sample(img, out, ys, xs, mode):
    """_filters.sample_bilinear of one image at float64 coordinates ys, xs (H, W)."""
    C, H, W = img.shape
    for y in range(H):
        for x in range(W):
            fy = math.floor(ys[y, x])
            fx = math.floor(xs[y, x])
            wy = np.float32(ys[y, x] - fy)
            wx = np.float32(xs[y, x] - fx)
            iy = np.int64(fy)
            ix = np.int64(fx)
            ra = _border(iy, H, mode)
            rb = _border(iy + 1, H, mode)
            ca = _border(ix, W, mode)
            cb = _border(ix + 1, W, mode)
            for c in range(C):
                top = _lerp(img[c, ra, ca], img[c, ra, cb], wx)
                bottom = _lerp(img[c, rb, ca], img[c, rb, cb], wx)
                out[c, y, x] = _lerp(top, bottom, wy)


@njit(nogil=True, cache=True)
def _elastic_kernel(src, dst, affine, spread, alpha, wr, wc, bx, sx, by, sy, start, stop):
    _, C, H, W = src.shape
    img = np.empty((C, H, W), np.float32)
    warped = np.empty((C, H, W), np.float32)
    u = np.empty(H * W, np.float32)
    field = np.empty((1, H, W), np.float64)
    tmp = np.empty((1, H, W), np.float64)
    dx = np.empty((1, H, W), np.float64)
    dy = np.empty((1, H, W), np.float64)
    buf = np.empty(W + wc.shape[0], np.float64)
    ys = np.empty((H, W), np.float64)
    xs = np.empty((H, W), np.float64)
    for s in range(start, stop):
        _load(src[s], img)
        if affine.shape[0] > 0:
            i00, i01, i02, i10, i11, i12 = (
                affine[s, 0],
                affine[s, 1],
                affine[s, 2],
                affine[s, 3],
                affine[s, 4],
                affine[s, 5],
            )
            for y in range(H):
                for x in range(W):
                    xs[y, x] = i00 * x + i01 * y + i02
                    ys[y, x] = i10 * x + i11 * y + i12
            _sample(img, warped, ys, xs, 1)
            img[:] = warped
        for axis in range(2):
            _fill_uniform(u, bx[s] if axis == 0 else by[s], sx if axis == 0 else sy)
            for y in range(H):
                for x in range(W):
                    field[0, y, x] = (np.float64(u[y * W + x]) * 2.0 - 1.0) * spread
            _separable(field, dx if axis == 0 else dy, tmp, buf, wr, wc, 2)
        for y in range(H):
            for x in range(W):
                ys[y, x] = y + dy[0, y, x] * alpha
                xs[y, x] = x + dx[0, y, x] * alpha
        _sample(img, warped, ys, xs, 2)
        _store(warped, dst[s])


def _affine_coefficients(c: tuple, ctx: Context, height: int, width: int) -> np.ndarray:
    """The inverse affine maps of the CIFAR version (N, 6) as _elastic._affine computes them."""
    from ._elastic import affine_inverses

    jitter = c[2] * min(height, width)
    return affine_inverses(ctx.index.shape[0], height, width, jitter, ctx, torch.device("cpu")).numpy()


def _elastic(src: np.ndarray, dst: np.ndarray, c, ctx: Context) -> None:
    n, _, height, width = src.shape
    if ctx.table == "cifar":
        side = min(height, width)
        alpha, sigma, _ = (v * side for v in c)
        affine = _affine_coefficients(c, ctx, height, width)
        sigmas, spread = (sigma, sigma), 1.0
    else:
        alpha = c
        affine = np.zeros((0, 6))
        sigmas, spread = (0.01 * height, 0.01 * width), 0.005 * height
    wr = _gauss(sigmas[0], np.float64, 3.0)
    wc = _gauss(sigmas[1], np.float64, 3.0)
    fx, fy = _Draws(ctx, 2, height * width), _Draws(ctx, 3, height * width)
    args = (affine, float(spread), float(alpha), wr, wc, fx.bases, fx.salts, fy.bases, fy.salts)
    _split(n, lambda a, b: _elastic_kernel(src, dst, *args, a, b))


@njit(nogil=True, cache=True)
def _shot_kernel(src, dst, cdf, guide, c, bases, salts, start, stop):
    """Poisson(x c) / c by inversion: the count is the number of CDF entries at or below the value's uniform.

    `guide[row, g]` is that count for u = g / G (G = guide.shape[1] - 1, a power of two): the count for u
    in [g / G, (g + 1) / G) starts there and is found by a short forward scan (usually none or one step),
    the same count as a binary search over the whole row, with few mispredicted branches.
    """
    _, C, H, W = src.shape
    levels = np.float32(4080.0)
    buckets = np.float64(guide.shape[1] - 1)
    for s in range(start, stop):
        base = bases[s]
        for ch in range(C):
            for y in range(H):
                for x in range(W):
                    u = np.float64(uniform(base, salts[(ch * H + y) * W + x]))
                    v = np.float32(src[s, ch, y, x]) / _F255
                    row = np.int64(np.rint(v * levels)) // 16
                    lo = guide[row, np.int64(u * buckets)]
                    while cdf[row, lo] <= u:  # the row's last entry is 1 > u: the scan stops
                        lo += 1
                    dst[s, ch, y, x] = _to_u8(np.float32(lo) / c)


_GUIDES: dict[float, tuple[np.ndarray, np.ndarray]] = {}
_GUIDE_BUCKETS = 256


def _shot_tables(c: float) -> tuple[np.ndarray, np.ndarray]:
    """The Poisson CDF rows of the 256 uint8 levels at rate scale c, and their guide table (cached per c)."""
    from ._noise import poisson_cdf

    tables = _GUIDES.get(c)
    if tables is None:
        cdf = poisson_cdf(c, torch.device("cpu"))[::16].contiguous().numpy()  # the rows of the uint8 levels
        thresholds = np.arange(_GUIDE_BUCKETS + 1, dtype=np.float64) / _GUIDE_BUCKETS
        guide = np.stack([np.searchsorted(row, thresholds, side="right") for row in cdf]).astype(np.int64)
        if len(_GUIDES) >= 8:
            _GUIDES.clear()
        tables = _GUIDES[c] = (cdf, guide)
    return tables


def _shot(src: np.ndarray, dst: np.ndarray, c: float, ctx: Context) -> None:
    n, channels, height, width = src.shape
    cdf, guide = _shot_tables(c)
    draws = _Draws(ctx, 0, channels * height * width)
    _split(n, lambda a, b: _shot_kernel(src, dst, cdf, guide, np.float32(c), draws.bases, draws.salts, a, b))


# spatter ---------------------------------------------------------------------------------------------------

_TG22 = 13573  # int(0.41421356 * 2^15 + 0.5), OpenCV's tan(22.5 degrees) in fixed point


@njit(nogil=True, cache=True)
def _canny(layer, edges, mag, gx, gy, stack, low, high):
    """cv2.Canny(L1, aperture 3) of integer levels (H, W) as _spatter._canny: edges (H, W) uint8 0/1."""
    H, W = layer.shape
    for y in range(H):
        ya, yb = max(y - 1, 0), min(y + 1, H - 1)
        for x in range(W):
            xa, xb = max(x - 1, 0), min(x + 1, W - 1)
            a = (layer[ya, xb] - layer[ya, xa]) + 2 * (layer[y, xb] - layer[y, xa]) + (layer[yb, xb] - layer[yb, xa])
            b = (layer[yb, xa] - layer[ya, xa]) + 2 * (layer[yb, x] - layer[ya, x]) + (layer[yb, xb] - layer[ya, xb])
            gx[y, x] = a
            gy[y, x] = b
            mag[y + 1, x + 1] = abs(a) + abs(b)
    for x in range(W + 2):
        mag[0, x] = 0
        mag[H + 1, x] = 0
    for y in range(H + 2):
        mag[y, 0] = 0
        mag[y, W + 1] = 0
    top = 0
    for y in range(H):
        for x in range(W):
            m = mag[y + 1, x + 1]
            edges[y, x] = 0
            if m <= low:
                continue
            ax = abs(gx[y, x])
            ay = abs(gy[y, x]) << 15
            tg22x = ax * _TG22
            if ay < tg22x:
                keep = m > mag[y + 1, x] and m >= mag[y + 1, x + 2]
            elif ay > tg22x + (ax << 16):
                keep = m > mag[y, x + 1] and m >= mag[y + 2, x + 1]
            elif gx[y, x] * gy[y, x] >= 0:
                keep = m > mag[y, x] and m > mag[y + 2, x + 2]
            else:
                keep = m > mag[y, x + 2] and m > mag[y + 2, x]
            if keep:
                edges[y, x] = 2 if m > high else 1  # 2: an edge; 1: a candidate
                if m > high:
                    stack[top] = y * W + x
                    top += 1
    while top > 0:  # hysteresis: candidates 8-connected to an edge become edges
        top -= 1
        y, x = stack[top] // W, stack[top] % W
        for yy in range(max(y - 1, 0), min(y + 2, H)):
            for xx in range(max(x - 1, 0), min(x + 2, W)):
                if edges[yy, xx] == 1:
                    edges[yy, xx] = 2
                    stack[top] = yy * W + xx
                    top += 1


@njit(nogil=True, cache=True)
def _correlate3(img, out, kernel):
    """A 3x3 correlation (BORDER_REFLECT_101), fused multiply-adds over the non-zero taps in raster order."""
    H, W = img.shape
    for y in range(H):
        for x in range(W):
            out[y, x] = _F0
        for i in range(3):
            row = _border(y + i - 1, H, 1)
            for j in range(3):
                k = kernel[i, j]
                if k == _F0:
                    continue
                out[y, 0] = fma(img[row, _border(j - 1, W, 1)], k, out[y, 0])
                for x in range(1, W - 1):  # inside: an unsigned index, no border test, so loads are vectors
                    out[y, np.uint64(x)] = fma(img[row, np.uint64(x + j - 1)], k, out[y, np.uint64(x)])
                if W > 1:
                    out[y, W - 1] = fma(img[row, _border(W + j - 2, W, 1)], k, out[y, W - 1])


@njit(nogil=True, cache=True)
def _spatter_kernel(src, dst, p, colour, luma, wl, wm, box, emboss, mud, bases, salts, start, stop):
    loc, scale, threshold = p[0], p[1], p[2]
    strength = p[3]
    _, C, H, W = src.shape
    img = np.empty((C, H, W), np.float32)
    field = np.empty(H * W, np.float32)
    liquid = np.empty((1, H, W), np.float32)
    blurred = np.empty((1, H, W), np.float32)
    tmp = np.empty((1, H, W), np.float32)
    buf = np.empty(W + max(wl.shape[0], wm.shape[0]), np.float32)
    layer = np.empty((H, W), np.int64)
    edges = np.empty((H, W), np.uint8)
    mag = np.empty((H + 2, W + 2), np.int64)
    gx = np.empty((H, W), np.int64)
    gy = np.empty((H, W), np.int64)
    stack = np.empty(H * W, np.int64)
    rows = np.empty((H, W), np.int64)
    sq = np.empty((H, W), np.int64)
    dist = np.empty((H, W), np.float32)
    work = np.empty((H, W), np.float32)
    hist = np.empty(256, np.int64)
    lut = np.empty(256, np.float32)
    limit = 20
    far = np.int64(1) << 40
    for s in range(start, stop):
        _load(src[s], img)
        _fill_normal(field, bases[s], salts)
        for y in range(H):
            for x in range(W):
                liquid[0, y, x] = loc + scale * field[y * W + x]
        _separable(liquid, blurred, tmp, buf, wl, wl, 0)
        for y in range(H):
            for x in range(W):
                if blurred[0, y, x] < threshold:
                    blurred[0, y, x] = _F0
        if mud:
            for y in range(H):
                for x in range(W):
                    liquid[0, y, x] = _F1 if blurred[0, y, x] > threshold else _F0
            _separable(liquid, blurred, tmp, buf, wm, wm, 0)
            for y in range(H):
                for x in range(W):
                    m = blurred[0, y, x]
                    if m < np.float32(0.8):
                        m = _F0
                    for c in range(C):
                        dst[s, c, y, x] = _to_u8(img[c, y, x] * (_F1 - m) + colour[c] * m)
            continue
        for y in range(H):
            for x in range(W):
                layer[y, x] = np.int64(min(max(math.floor(blurred[0, y, x] * _F255), 0.0), 255.0))
        _canny(layer, edges, mag, gx, gy, stack, 50, 150)
        # distance to the nearest edge pixel, squared, within `limit` along each axis (then truncated)
        for y in range(H):
            last = -far
            for x in range(W):
                if edges[y, x] == 2:
                    last = x
                rows[y, x] = x - last
            last = far
            for x in range(W - 1, -1, -1):
                if edges[y, x] == 2:
                    last = x
                d = min(rows[y, x], last - x)
                rows[y, x] = d * d if d <= limit else far
        for y in range(H):
            for x in range(W):
                sq[y, x] = far
            for k in range(max(-limit, -y), min(limit, H - 1 - y) + 1):
                kk = k * k
                for x in range(W):
                    sq[y, x] = min(sq[y, x], rows[y + k, x] + kk)
        for y in range(H):
            for x in range(W):
                dist[y, x] = min(np.sqrt(np.float32(sq[y, x])), np.float32(limit)) if sq[y, x] < far else limit
        _correlate3(dist, work, box)
        hist[:] = 0
        for y in range(H):
            for x in range(W):
                v = np.int64(math.floor(work[y, x] + np.float32(1e-4)))
                layer[y, x] = v  # the 8-bit distance image; `layer` is read again below through `liquid`
                hist[v] += 1
        first = 0
        while hist[first] == 0:
            first += 1
        total = H * W
        first_count = hist[first]
        if first_count == total:
            lut[:] = np.float32(first)
        else:
            lscale = np.float32(255.0) / np.float32(total - first_count)
            cumulative = 0
            for v in range(256):
                cumulative += hist[v]
                lut[v] = min(max(np.float32(np.rint(np.float32(cumulative - first_count) * lscale)), _F0), _F255)
        for y in range(H):
            for x in range(W):
                dist[y, x] = lut[layer[y, x]]
        _correlate3(dist, work, emboss)
        for y in range(H):
            for x in range(W):
                work[y, x] = min(max(work[y, x], _F0), _F255)
        _correlate3(work, dist, box)
        peak = _F0
        for y in range(H):
            for x in range(W):
                m = np.float32(math.floor(blurred[0, y, x] * _F255))
                m = min(max(m, _F0), _F255) * dist[y, x]
                work[y, x] = m
                peak = max(peak, m)
        peak = max(peak, np.float32(1e-12))
        for y in range(H):
            for x in range(W):
                m = work[y, x] / peak * strength
                if C == 3:
                    for c in range(3):
                        paint = min(max(m * colour[c], _F0), _F1)
                        dst[s, c, y, x] = _to_u8(img[c, y, x] + paint)
                else:
                    gray = _F0
                    for c in range(3):
                        gray = gray + min(max(m * colour[c], _F0), _F1) * luma[c]
                    dst[s, 0, y, x] = _to_u8(img[0, y, x] + gray)


def _spatter(src: np.ndarray, dst: np.ndarray, c: tuple, ctx: Context) -> None:
    from ._spatter import BOX3, EMBOSS, LUMA, MUD, WATER, overlay

    loc, scale, sigma, threshold, strength, mud = c
    n, channels, height, width = src.shape
    like = torch.zeros(1, dtype=torch.float32)
    colour = overlay(MUD, channels, like).flatten().numpy() if mud else np.array(WATER, dtype=np.float32)
    luma = np.array(LUMA, dtype=np.float32)
    box = np.array(BOX3, dtype=np.float32)
    emboss = np.array(EMBOSS, dtype=np.float32)
    wl = _gauss(sigma)
    wm = _gauss(strength) if mud else wl
    p = np.array([loc, scale, threshold, strength], dtype=np.float32)
    draws = _Draws(ctx, 0, _normal_count(height * width))
    args = (p, colour, luma, wl, wm, box, emboss, bool(mud), draws.bases, draws.salts)
    _split(n, lambda a, b: _spatter_kernel(src, dst, *args, a, b))


# Noise, digital and HSV corruptions ------------------------------------------------------------------------


@njit(nogil=True, cache=True, inline="always")
def _noisy(v, d, kind, half, whole):
    if kind == 0:
        return v + whole * d
    if kind == 1:
        return v + v * (whole * d)
    if d < half:
        return _F0
    if d < whole:
        return _F1
    return v


@njit(nogil=True, cache=True)
def _noise_kernel(src, dst, c, kind, bases, salts, start, stop):
    """gaussian (kind 0: x + c n), speckle (1: x + x (c n)) and impulse noise (2: u < c / 2 -> 0, u < c -> 1)."""
    _, C, H, W = src.shape
    field = np.empty(C * H * W, np.float32)
    half = np.float32(0.5 * c)
    whole = np.float32(c)
    for s in range(start, stop):
        if kind == 2:
            _fill_uniform(field, bases[s], salts)
        else:
            _fill_normal(field, bases[s], salts)
        for ch in range(C):
            for y in range(H):
                for x in range(W):
                    v = np.float32(src[s, ch, y, x]) / _F255
                    dst[s, ch, y, x] = _to_u8(_noisy(v, field[(ch * H + y) * W + x], kind, half, whole))


def _noise(kind: int) -> Callable[[np.ndarray, np.ndarray, float, Context], None]:
    def apply(src: np.ndarray, dst: np.ndarray, c: float, ctx: Context) -> None:
        count = src[0].size
        draws = _Draws(ctx, 0, count if kind == 2 else _normal_count(count))
        _split(len(src), lambda a, b: _noise_kernel(src, dst, c, kind, draws.bases, draws.salts, a, b))

    return apply


@njit(nogil=True, cache=True)
def _brightness_kernel(src, dst, c, start, stop):
    _, C, H, W = src.shape
    for s in range(start, stop):
        for y in range(H):
            for x in range(W):
                value = _F0
                for ch in range(C):
                    value = max(value, np.float32(src[s, ch, y, x]) / _F255)
                lifted = min(value + c, _F1)
                ratio = lifted / value if value > _F0 else lifted
                for ch in range(C):
                    v = np.float32(src[s, ch, y, x]) / _F255
                    dst[s, ch, y, x] = _to_u8(v * ratio if value > _F0 else lifted)


def _brightness(src: np.ndarray, dst: np.ndarray, c: float, ctx: Context) -> None:
    _split(len(src), lambda a, b: _brightness_kernel(src, dst, np.float32(c), a, b))


@njit(nogil=True, cache=True)
def _contrast_kernel(src, dst, c, start, stop):
    _, C, H, W = src.shape
    for s in range(start, stop):
        for ch in range(C):
            total = 0.0  # exact: H * W values of 24 bits under 2^16 need fewer than 53 bits
            for y in range(H):
                for x in range(W):
                    total += np.float64(np.float32(src[s, ch, y, x]) / _F255)
            mean = np.float32(total / (H * W))
            for y in range(H):
                for x in range(W):
                    v = np.float32(src[s, ch, y, x]) / _F255
                    dst[s, ch, y, x] = _to_u8((v - mean) * c + mean)


def _contrast(src: np.ndarray, dst: np.ndarray, c: float, ctx: Context) -> None:
    _split(len(src), lambda a, b: _contrast_kernel(src, dst, np.float32(c), a, b))


@njit(nogil=True, cache=True)
def _saturate_kernel(src, dst, a, b, start, stop):
    _, _, H, W = src.shape
    six = np.float32(6.0)
    for s in range(start, stop):
        for y in range(H):
            for x in range(W):
                r = np.float32(src[s, 0, y, x]) / _F255
                g = np.float32(src[s, 1, y, x]) / _F255
                bl = np.float32(src[s, 2, y, x]) / _F255
                value = max(max(r, g), bl)
                delta = value - min(min(r, g), bl)
                if delta == _F0:
                    hue = _F0
                    sat = _F0
                else:
                    sat = delta / value
                    hue = _F0
                    if r == value:
                        hue = (g - bl) / delta
                    if g == value:
                        hue = np.float32(2.0) + (bl - r) / delta
                    if bl == value:
                        hue = np.float32(4.0) + (r - g) / delta
                    hue = hue / six  # in (-1/6, 5/6]: torch.remainder(., 1) adds 1 to negatives
                    if hue < _F0:
                        hue = hue + _F1
                sat = min(max(sat * a + b, _F0), _F1)
                scaled = hue * six
                sector = np.float32(math.floor(scaled))
                f = scaled - sector
                p = value * (_F1 - sat)
                q = value * (_F1 - f * sat)
                t = value * (_F1 - (_F1 - f) * sat)
                k = np.int64(sector) % 6
                if k == 0:
                    rr, gg, bb = value, t, p
                elif k == 1:
                    rr, gg, bb = q, value, p
                elif k == 2:
                    rr, gg, bb = p, value, t
                elif k == 3:
                    rr, gg, bb = p, q, value
                elif k == 4:
                    rr, gg, bb = t, p, value
                else:
                    rr, gg, bb = value, p, q
                dst[s, 0, y, x] = _to_u8(rr)
                dst[s, 1, y, x] = _to_u8(gg)
                dst[s, 2, y, x] = _to_u8(bb)


def _saturate(src: np.ndarray, dst: np.ndarray, c: tuple, ctx: Context) -> None:
    if src.shape[1] == 1:
        dst[:] = src
        return
    _split(len(src), lambda a, b: _saturate_kernel(src, dst, np.float32(c[0]), np.float32(c[1]), a, b))


def _box_table(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Pillow's BOX taps (size_out, taps) as _pil_resize does them: input index and 22-bit fixed-point weight."""
    from ._pil_resize import PRECISION_BITS, box_taps

    taps = box_taps(size_in, size_out)
    width = max(len(t) for t in taps)
    index = np.zeros((size_out, width), np.int64)
    weight = np.zeros((size_out, width), np.int32)
    for o, pairs in enumerate(taps):
        for k, (i, w) in enumerate(pairs):
            index[o, k] = i
            weight[o, k] = math.floor(w * (1 << PRECISION_BITS) + 0.5)
    return index, weight


@njit(nogil=True, cache=True)
def _box_rows(img, out, index, weight, acc):
    """Pillow's fixed-point BOX pass along W of (C, H, W_in) levels into (C, H, W_out) int32.

    Tap by tap over all outputs of a row (integer sums: any order gives the same), in int32: 255 times
    weights summing to 2^22, plus the rounding term, stay under 2^31. The tables are transposed,
    (taps, W_out), so that a tap's indices and weights are contiguous; `acc` holds W_out values.
    """
    C, H, _ = img.shape
    for c in range(C):
        for y in range(H):
            acc[:] = np.int32(1 << 21)
            for k in range(index.shape[0]):
                ik, wk = index[k], weight[k]
                for o in range(index.shape[1]):  # an unsigned index: no wrap-around test
                    acc[o] += np.int32(img[c, y, np.uint64(ik[o])]) * wk[o]
            for o in range(index.shape[1]):
                out[c, y, o] = min(max(acc[o] >> 22, 0), 255)


@njit(nogil=True, cache=True)
def _box_cols(img, out, index, weight, acc):
    """The BOX pass along H, tap by tap over whole rows (loops that vectorise); `acc` holds W values."""
    C, _, W = img.shape
    for c in range(C):
        for o in range(index.shape[0]):
            acc[:W] = np.int32(1 << 21)
            for k in range(index.shape[1]):
                w = weight[o, k]
                row = index[o, k]
                for x in range(W):
                    acc[x] += np.int32(img[c, row, x]) * w
            for x in range(W):
                out[c, o, x] = min(max(acc[x] >> 22, 0), 255)


@njit(nogil=True, cache=True)
def _pixelate_kernel(src, dst, down, up, nearest, start, stop):
    dix, dwx, diy, dwy = down
    uix, uwx, uiy, uwy = up
    _, C, H, W = src.shape
    sh, sw = diy.shape[0], dix.shape[1]
    a = np.empty((C, H, sw), np.int32)
    small = np.empty((C, sh, sw), np.int32)
    b = np.empty((C, sh, W), np.int32)
    out = np.empty((C, H, W), np.int32)
    acc = np.empty(max(H, W), np.int32)
    for s in range(start, stop):
        if sw != W:
            _box_rows(src[s], a, dix, dwx, acc)
        else:
            a[:] = src[s]
        if sh != H:
            _box_cols(a, small, diy, dwy, acc)
        else:
            small[:] = a
        if nearest:
            for c in range(C):
                for y in range(H):
                    if y > 0 and uiy[y, 0] == uiy[y - 1, 0]:  # the same source row: a copy of the last one
                        dst[s, c, y] = dst[s, c, y - 1]
                        continue
                    line = small[c, uiy[y, 0]]
                    out_line = dst[s, c, y]
                    for x in range(W):  # an unsigned index: no wrap-around test
                        out_line[x] = line[np.uint64(uix[x, 0])]
            continue
        if sw != W:
            _box_rows(small, b, uix, uwx, acc)
        else:
            b[:] = small
        if sh != H:
            _box_cols(b, out, uiy, uwy, acc)
        else:
            out[:] = b
        for c in range(C):
            for y in range(H):
                for x in range(W):
                    dst[s, c, y, x] = out[c, y, x]


def _transposed(tables: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A BOX table (indices, weights) as _box_rows reads it: (taps, size_out), contiguous."""
    return tuple(np.ascontiguousarray(t.T) for t in tables)


def _pixelate(src: np.ndarray, dst: np.ndarray, c: float, ctx: Context) -> None:
    from ._pil_resize import nearest_index

    height, width = src.shape[2:]
    small_h, small_w = max(1, int(height * c)), max(1, int(width * c))
    down = (*_transposed(_box_table(width, small_w)), *_box_table(height, small_h))
    nearest = ctx.table != "cifar"
    if nearest:
        ix = nearest_index(small_w, width, torch.device("cpu")).numpy()[:, None]
        iy = nearest_index(small_h, height, torch.device("cpu")).numpy()[:, None]
        up = (ix, np.ones_like(ix), iy, np.ones_like(iy))
    else:
        up = (*_transposed(_box_table(small_w, width)), *_box_table(small_h, height))
    _split(len(src), lambda a, b: _pixelate_kernel(src, dst, down, up, nearest, a, b))


@njit(nogil=True, cache=True)
def _defocus_kernel(src, dst, rh, rw, ti, tj, tk, start, stop):
    """correlate2d of each channel with the disk kernel (BORDER_REFLECT_101), tap by tap in raster order.

    The kernel's non-zero taps (rows ti, columns tj, weights tk, in raster order) go eight at a time over a
    row: each output value still takes its fused multiply-adds in tap order (the same sums), but the row's
    partial sums are read and written once per eight taps instead of once per tap (eight arrays read, one
    written: as many overlap checks as the compiler makes before it vectorises a loop).
    """
    _, C, H, W = src.shape
    T = tk.shape[0]
    img = np.empty((C, H, W), np.float32)
    padded = np.empty((C, H + 2 * rh, W + 2 * rw), np.float32)
    row = np.empty(W, np.float32)
    for s in range(start, stop):
        _load(src[s], img)
        for c in range(C):
            for y in range(H + 2 * rh):
                line = img[c, _border(y - rh, H, 1)]
                out = padded[c, y]
                for x in range(min(rw, W + 2 * rw)):
                    out[x] = line[_border(x - rw, W, 1)]
                for x in range(W):  # inside: no border test
                    out[np.uint64(x + rw)] = line[x]
                for x in range(W + rw, W + 2 * rw):
                    out[x] = line[_border(x - rw, W, 1)]
        for c in range(C):
            for y in range(H):
                for x in range(W):
                    row[x] = _F0
                t = 0
                while t + 8 <= T:
                    l0, l1 = padded[c, y + ti[t]], padded[c, y + ti[t + 1]]
                    l2, l3 = padded[c, y + ti[t + 2]], padded[c, y + ti[t + 3]]
                    l4, l5 = padded[c, y + ti[t + 4]], padded[c, y + ti[t + 5]]
                    l6, l7 = padded[c, y + ti[t + 6]], padded[c, y + ti[t + 7]]
                    j0, j1, j2, j3 = tj[t], tj[t + 1], tj[t + 2], tj[t + 3]
                    j4, j5, j6, j7 = tj[t + 4], tj[t + 5], tj[t + 6], tj[t + 7]
                    k0, k1, k2, k3 = tk[t], tk[t + 1], tk[t + 2], tk[t + 3]
                    k4, k5, k6, k7 = tk[t + 4], tk[t + 5], tk[t + 6], tk[t + 7]
                    for x in range(W):  # unsigned indices: no wrap-around test, so loads are vectors
                        a = fma(l0[np.uint64(x + j0)], k0, row[x])
                        a = fma(l1[np.uint64(x + j1)], k1, a)
                        a = fma(l2[np.uint64(x + j2)], k2, a)
                        a = fma(l3[np.uint64(x + j3)], k3, a)
                        a = fma(l4[np.uint64(x + j4)], k4, a)
                        a = fma(l5[np.uint64(x + j5)], k5, a)
                        a = fma(l6[np.uint64(x + j6)], k6, a)
                        row[x] = fma(l7[np.uint64(x + j7)], k7, a)
                    t += 8
                while t < T:
                    l0, j0, k0 = padded[c, y + ti[t]], tj[t], tk[t]
                    for x in range(W):
                        row[x] = fma(l0[np.uint64(x + j0)], k0, row[x])
                    t += 1
                for x in range(W):
                    dst[s, c, y, x] = _to_u8(row[x])


def _defocus(src: np.ndarray, dst: np.ndarray, c: tuple, ctx: Context) -> None:
    from ._blur import disk_kernel

    kernel = disk_kernel(*c).numpy()
    ti, tj = np.nonzero(kernel)  # row-major: raster order
    tk = np.ascontiguousarray(kernel[ti, tj], dtype=np.float32)
    rh, rw = kernel.shape[0] // 2, kernel.shape[1] // 2
    args = (rh, rw, ti.astype(np.int64), tj.astype(np.int64), tk)
    _split(len(src), lambda a, b: _defocus_kernel(src, dst, *args, a, b))


@njit(nogil=True, cache=True)
def _plasma(heights, draws, decay):
    """_textures.plasma_fractal of one sample (M, M) float64, from its uniform draws in [0, 1)."""
    M = heights.shape[0]
    heights[:] = 0.0
    wibble = 100.0
    start = 0
    step = M
    while step >= 2:
        k = M // step
        half = step // 2
        scale = wibble * wibble
        kk = k * k
        for a in range(k):
            for b in range(k):
                a1, b1 = (a + 1) % k, (b + 1) % k
                total = (heights[a * step, b * step] + heights[a1 * step, b * step]) + (
                    heights[a * step, b1 * step] + heights[a1 * step, b1 * step]
                )
                jitter = scale * (np.float64(draws[start + a * k + b]) * 2.0 - 1.0)
                heights[half + a * step, half + b * step] = total / 4 + jitter
        for a in range(k):
            for b in range(k):
                a0, b0 = (a - 1) % k, (b - 1) % k
                a1, b1 = (a + 1) % k, (b + 1) % k
                centre = heights[half + a * step, half + b * step]
                corner = heights[a * step, b * step]
                left = centre + heights[half + a0 * step, half + b * step] + corner + heights[a * step, b1 * step]
                top = centre + heights[half + a * step, half + b0 * step] + corner + heights[a1 * step, b * step]
                j1 = scale * (np.float64(draws[start + kk + a * k + b]) * 2.0 - 1.0)
                j2 = scale * (np.float64(draws[start + 2 * kk + a * k + b]) * 2.0 - 1.0)
                heights[a * step, half + b * step] = left / 4 + j1
                heights[half + a * step, b * step] = top / 4 + j2
        start += 3 * kk
        wibble /= decay
        step //= 2
    low = heights.min()
    peak = 0.0
    for y in range(M):
        for x in range(M):
            heights[y, x] -= low
            peak = max(peak, heights[y, x])
    if peak > 0:
        for y in range(M):
            for x in range(M):
                heights[y, x] = heights[y, x] / peak


@njit(nogil=True, cache=True)
def _fog_kernel(src, dst, strength, decay, mapsize, bases, salts, start, stop):
    _, C, H, W = src.shape
    heights = np.empty((mapsize, mapsize), np.float64)
    draws = np.empty(salts.shape[0], np.float32)
    for s in range(start, stop):
        _fill_uniform(draws, bases[s], salts)
        _plasma(heights, draws, decay)
        peak = _F0
        for c in range(C):
            for y in range(H):
                for x in range(W):
                    peak = max(peak, np.float32(src[s, c, y, x]) / _F255)
        total = peak + strength
        for c in range(C):
            for y in range(H):
                for x in range(W):
                    v = np.float32(src[s, c, y, x]) / _F255
                    dst[s, c, y, x] = _to_u8((v + strength * np.float32(heights[y, x])) * peak / total)


def _fog(src: np.ndarray, dst: np.ndarray, c: tuple, ctx: Context) -> None:
    strength, decay = c
    height, width = src.shape[2:]
    side = max(height, width)
    mapsize = 1 if side <= 1 else 1 << (side - 1).bit_length()
    count, step = 0, mapsize
    while step >= 2:
        count += 3 * (mapsize // step) ** 2
        step //= 2
    draws = _Draws(ctx, 0, max(count, 1))
    args = (np.float32(strength), float(decay), mapsize, draws.bases, draws.salts)
    _split(len(src), lambda a, b: _fog_kernel(src, dst, *args, a, b))


# frost -----------------------------------------------------------------------------------------------------


def _cubic_table(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray]:
    """torch's bicubic (A = -0.75, corners aligned, edges clamped): per output 4 input indices and weights."""
    a = -0.75
    scale = np.float32(size_in - 1) / np.float32(size_out - 1) if size_out > 1 else np.float32(0)
    position = scale * np.arange(size_out, dtype=np.float32)
    start = np.floor(position)
    t = (position - start).astype(np.float64)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1).astype(np.float32)
    index = np.clip(start.astype(np.int64)[:, None] + np.arange(-1, 3)[None, :], 0, size_in - 1)
    return index, weights


@njit(nogil=True, cache=True, error_model="numpy")
def _spread(field):
    """The standard deviation (n - 1) of a field, at least 1e-6, accumulated in float64 (`_columns_total`'s
    order)."""
    H, W = field.shape
    columns = np.zeros(W)
    for y in range(H):
        for x in range(W):
            columns[x] += field[y, x]
    return _spread_about(field, _columns_total(columns))


@njit(nogil=True, cache=True, error_model="numpy")
def _columns_total(columns):
    """A float64 sum kept per column (each column's values added in row order, whole vectors of columns at a
    time: no chain of dependent additions along a row), then over the columns in order."""
    total = 0.0
    for x in range(columns.shape[0]):
        total += columns[x]
    return total


@njit(nogil=True, cache=True, error_model="numpy")
def _spread_about(field, total):
    """_spread given the field's sum."""
    H, W = field.shape
    mean = np.float32(total / (H * W))
    columns = np.zeros(W)
    for y in range(H):
        for x in range(W):
            d = np.float64(field[y, x] - mean)
            columns[x] += d * d
    return _deviation(_columns_total(columns), H * W)


@njit(nogil=True, cache=True, error_model="numpy")
def _deviation(squares, count):
    """The standard deviation (n - 1) from the sum of squared deviations, at least 1e-6."""
    return max(np.float32(math.sqrt(squares / max(count - 1, 1))), np.float32(1e-6))


@njit(nogil=True, cache=True, error_model="numpy")
def _smooth(grid, out, rows, wrows, cols, wcols, part):
    """_textures._smooth_field: a small grid (g, g) upsampled bicubically into out (H, W), unit spread."""
    _upsample(grid, out, rows, wrows, cols, wcols, part)
    spread = _spread(out)
    H, W = out.shape
    for y in range(H):
        for x in range(W):
            out[y, x] = out[y, x] / spread


@njit(nogil=True, cache=True, error_model="numpy")
def _upsample(grid, out, rows, wrows, cols, wcols, part):
    """A small grid (g, g) upsampled bicubically into out (H, W), as torch's bicubic with corners aligned."""
    H, W = out.shape
    g = grid.shape[0]
    for r in range(g):
        for x in range(W):
            acc = _F0
            for j in range(4):
                acc = acc + grid[r, cols[x, j]] * wcols[x, j]
            part[r, x] = acc
    for y in range(H):
        p0, p1, p2, p3 = part[rows[y, 0]], part[rows[y, 1]], part[rows[y, 2]], part[rows[y, 3]]
        w0, w1, w2, w3 = wrows[y, 0], wrows[y, 1], wrows[y, 2], wrows[y, 3]
        for x in range(W):  # the four taps in order, from +0, for a whole row at once
            out[y, x] = (((_F0 + p0[x] * w0) + p1[x] * w1) + p2[x] * w2) + p3[x] * w3


@njit(nogil=True, cache=True, error_model="numpy")
def _add_streaks(texture, field, smooth, spread, smooth_spread, weight):
    """texture += weight * density * exp(-(f / 0.3)^2), f the field and density the sigmoid of twice the smooth
    field, each over its spread (_textures.frost_texture's step). exp is vmath's in float64, rounded to float32
    (correctly, but in about 2^-29 of the cases): the loop vectorises."""
    H, W = texture.shape
    for y in range(H):
        for x in range(W):
            f = (field[y, x] / spread) / np.float32(0.3)
            unit = smooth[y, x] / smooth_spread  # _smooth's field
            density = _F1 / (_F1 + np.float32(vexp(np.float64(-(np.float32(2.0) * unit)))))
            streak = np.float32(vexp(np.float64(-(f * f))))
            texture[y, x] = texture[y, x] + weight * density * streak


@njit(nogil=True, cache=True, error_model="numpy")
def _frost_kernel(
    src, dst, ab, colours, trig, ys, xs, scales, weights, cubic3, cubic4, bases, salts, offsets, start, stop
):
    """The frost texture and blend per image. The nine streak fields run as a pipeline over two buffers: field
    j's sampling and its spreads' passes come before field j - 1 is added to the texture, so that the last pass
    of j - 1's density spread shares a loop with j's (independent chains of float64 additions, each in
    _spread's order, overlap); the texture still receives the fields in order."""
    rows3, wrows3, cols3, wcols3 = cubic3
    rows, wrows, cols, wcols = cubic4
    _, C, H, W = src.shape
    texture = np.empty((H, W), np.float32)
    fields = np.empty((2, H, W), np.float32)
    smooths = np.zeros((2, H, W), np.float32)
    part = np.empty((4, W), np.float32)
    taps = np.empty((4, W), np.int32)
    tap_weights = np.empty((4, W), np.float32)
    normals = np.empty(salts.shape[0], np.float32)
    sums = np.empty((4, W))  # float64 sums per column (`_columns_total`)
    a, b = ab[0], ab[1]
    size = H * W
    for s in range(start, stop):
        # draws of slots 3, 4, 5, ... of the texture, each at its offset in `salts`
        _fill_normal(normals[:9], bases[0, s], salts[offsets[0] : offsets[1]])
        grid = normals[:9].copy().reshape(3, 3)
        _smooth(grid, smooths[0], rows3, wrows3, cols3, wcols3, part)
        for y in range(H):
            for x in range(W):
                texture[y, x] = np.float32(0.4) * smooths[0, y, x]
        slot = 1
        count = scales.shape[0] * 3
        last_spread, last_smooth_total, last_weight = _F1, 0.0, _F0
        for j in range(count):
            q, k = j // 3, j % 3
            across, along, weight = scales[q, 0], scales[q, 1], weights[q]
            field, smooth = fields[j % 2], smooths[j % 2]
            cos, sin = trig[s, k, 0], trig[s, k, 1]
            gh, gw = across + 1, along + 1
            _fill_normal(normals[: gh * gw], bases[slot, s], salts[offsets[slot] : offsets[slot + 1]])
            sy, sx = np.float32(gh - 1), np.float32(gw - 1)
            height_f, width_f = np.float32(gh), np.float32(gw)
            sums[0] = 0.0
            for y in range(H):
                for x in range(W):  # coordinates, taps and weights of a row first: a loop that vectorises
                    gx = xs[x] * cos + ys[y] * sin
                    gy = ys[y] * cos - xs[x] * sin
                    ix = ((gx + _F1) / np.float32(2.0)) * sx
                    iy = ((gy + _F1) / np.float32(2.0)) * sy
                    fx0 = np.floor(ix)
                    fy0 = np.floor(iy)
                    fx1, fy1 = fx0 + _F1, fy0 + _F1
                    # a tap outside the grid gets weight 0 at a clamped index: it adds +-0, the same sum as
                    # skipping it (the sum starts at +0 and is never -0). Indices and tests in float32 (whole
                    # numbers far below 2^24: exact), which vectorises better than int64
                    in_x0, in_x1 = (fx0 >= _F0) & (fx0 < width_f), (fx1 >= _F0) & (fx1 < width_f)
                    in_y0, in_y1 = (fy0 >= _F0) & (fy0 < height_f), (fy1 >= _F0) & (fy1 < height_f)
                    taps[0, x] = np.int32(min(max(fx0, _F0), sx))
                    taps[1, x] = np.int32(min(max(fx1, _F0), sx))
                    taps[2, x] = np.int32(min(max(fy0, _F0), sy) * width_f)
                    taps[3, x] = np.int32(min(max(fy1, _F0), sy) * width_f)
                    w = (fx1 - ix) * (fy1 - iy)
                    tap_weights[0, x] = w if in_x0 & in_y0 else _F0
                    w = (ix - fx0) * (fy1 - iy)
                    tap_weights[1, x] = w if in_x1 & in_y0 else _F0
                    w = (fx1 - ix) * (iy - fy0)
                    tap_weights[2, x] = w if in_x0 & in_y1 else _F0
                    w = (ix - fx0) * (iy - fy0)
                    tap_weights[3, x] = w if in_x1 & in_y1 else _F0
                row = field[y]
                for x in range(W):  # the gathers (scalar), the four taps in order from +0
                    cx0, cx1, cy0, cy1 = taps[0, x], taps[1, x], taps[2, x], taps[3, x]
                    v = _F0 + normals[np.uint64(cy0 + cx0)] * tap_weights[0, x]
                    v = v + normals[np.uint64(cy0 + cx1)] * tap_weights[1, x]
                    v = v + normals[np.uint64(cy1 + cx0)] * tap_weights[2, x]
                    v = v + normals[np.uint64(cy1 + cx1)] * tap_weights[3, x]
                    row[x] = v
                for x in range(W):  # _spread's first pass, in its order
                    sums[0, x] += row[x]
            slot += 1
            _fill_normal(normals[:16], bases[slot, s], salts[offsets[slot] : offsets[slot + 1]])
            grid = normals[:16].copy().reshape(4, 4)
            _upsample(grid, smooth, rows, wrows, cols, wcols, part)
            slot += 1
            # in one loop: this field's second _spread pass, this density's first and the last density's second
            mean = np.float32(_columns_total(sums[0]) / size)
            sums[1:] = 0.0
            last_smooth = smooths[(j + 1) % 2]  # at j = 0 sums computed for nothing
            last_smooth_mean = np.float32(last_smooth_total / size)
            for y in range(H):
                for x in range(W):
                    d = np.float64(field[y, x] - mean)
                    sums[1, x] += d * d
                    sums[2, x] += smooth[y, x]
                    e = np.float64(last_smooth[y, x] - last_smooth_mean)
                    sums[3, x] += e * e
            if j > 0:
                last = (j + 1) % 2
                last_smooth_spread = _deviation(_columns_total(sums[3]), size)
                _add_streaks(texture, fields[last], smooths[last], last_spread, last_smooth_spread, last_weight)
            last_spread, last_weight = _deviation(_columns_total(sums[1]), size), weight
            last_smooth_total = _columns_total(sums[2])
        if count > 0:
            last = (count - 1) % 2
            last_smooth_spread = _spread_about(smooths[last], last_smooth_total)
            _add_streaks(texture, fields[last], smooths[last], last_spread, last_smooth_spread, last_weight)
        sums[0] = 0.0
        for y in range(H):
            for x in range(W):
                sums[0, x] += texture[y, x]
        mean = np.float32(_columns_total(sums[0]) / (H * W))
        for y in range(H):
            for x in range(W):
                texture[y, x] = texture[y, x] - mean
        spread = _spread(texture)
        for y in range(H):
            for x in range(W):
                t = texture[y, x] / spread
                gray = _F0
                for c in range(3):
                    layer = min(max(colours[s, c] + colours[s, 3 + c] * t, _F0), _F255)
                    if C == 3:
                        v = np.float32(src[s, c, y, x]) / _F255
                        dst[s, c, y, x] = _to_u8(a * v + b * (layer / _F255))
                    else:
                        gray = gray + layer * colours[s, 6 + c]
                if C == 1:
                    v = np.float32(src[s, 0, y, x]) / _F255
                    dst[s, 0, y, x] = _to_u8(a * v + b * (gray / _F255))


def _frost(src: np.ndarray, dst: np.ndarray, c: tuple, ctx: Context) -> None:
    from ._textures import FROST_PHOTOS, LUMA

    n, _, height, width = src.shape
    photo = ctx.integers(0, len(FROST_PHOTOS), 1)[:, 0]
    means = torch.tensor([p[0] for p in FROST_PHOTOS])[photo]
    shifts = torch.tensor([p[1] for p in FROST_PHOTOS])[photo]
    spreads = torch.tensor([p[2] for p in FROST_PHOTOS])[photo]
    offset = ctx.normal(1, 1)[:, 0] * shifts
    luma = torch.tensor(LUMA).expand(n, 3)
    colours = torch.cat([means + offset[:, None], spreads, luma], dim=1).to(torch.float32).numpy()
    side = max(height, width)
    ys = (torch.linspace(-1.0, 1.0, height) * (height / side / math.sqrt(2.0))).numpy()
    xs = (torch.linspace(-1.0, 1.0, width) * (width / side / math.sqrt(2.0))).numpy()
    base = ctx.uniform(2, 1)[:, 0] * math.pi
    angles = torch.stack([base + k * math.pi / 3.0 for k in range(3)], dim=1)
    trig = torch.stack([torch.cos(angles), torch.sin(angles)], dim=2).numpy()
    scales, weights, counts = [], [], [9]
    for across, weight in ((side // 8, 1.0), (side // 4, 0.8), (side // 2, 0.5)):
        if across >= 4:
            along = max(2, across // 2)
            scales.append((across, along))
            weights.append(weight)
            counts += [(across + 1) * (along + 1), 16] * 3
    draws = [_Draws(ctx, 3 + i, _normal_count(count)) for i, count in enumerate(counts)]
    bases = np.stack([d.bases for d in draws])
    salts = np.concatenate([d.salts for d in draws])
    offsets = np.cumsum([0] + [len(d.salts) for d in draws])
    cubic3 = (*_cubic_table(3, height), *_cubic_table(3, width))
    cubic4 = (*_cubic_table(4, height), *_cubic_table(4, width))
    table = np.array(scales, dtype=np.int64).reshape(-1, 2)
    args = (np.array(c, dtype=np.float32), colours, trig, ys, xs, table, np.array(weights, dtype=np.float32))
    _split(n, lambda a, b: _frost_kernel(src, dst, *args, cubic3, cubic4, bases, salts, offsets, a, b))


# The corruptions with a compiled kernel: fn(src uint8 (N, C, H, W), dst uint8 like src, parameters, ctx).
KERNELS: dict[str, Callable[[np.ndarray, np.ndarray, object, Context], None]] = {
    "glass_blur": _glass_blur,
    "motion_blur": _motion_blur,
    "gaussian_blur": _gaussian_blur,
    "zoom_blur": _zoom_blur,
    "snow": _snow,
    "elastic_transform": _elastic,
    "shot_noise": _shot,
    "spatter": _spatter,
    "jpeg_compression": jpeg,
    "gaussian_noise": _noise(0),
    "speckle_noise": _noise(1),
    "impulse_noise": _noise(2),
    "brightness": _brightness,
    "contrast": _contrast,
    "saturate": _saturate,
    "pixelate": _pixelate,
    "defocus_blur": _defocus,
    "fog": _fog,
    "frost": _frost,
}


def run(name: str, images: torch.Tensor, params: object, ctx: Context) -> torch.Tensor:
    """Corrupt a CPU uint8 (N, C, H, W) batch with the compiled kernel of `name`; uint8 out."""
    src = images.contiguous().numpy()
    dst = np.empty_like(src)
    KERNELS[name](src, dst, params, ctx)
    return torch.from_numpy(dst)
