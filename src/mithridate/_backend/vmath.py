"""exp, log and sin/cos in float64 for numba kernels, written so that a loop calling them vectorises.

numba lowers `math.exp`, `math.log1p`, `math.cos` and `math.sin` to calls of the C library, one value at a
time (2.4, 12 and 19 ns a value measured for exp, log1p and cos on random arguments), which the loop
vectoriser cannot widen. Here: fdlibm's reductions and polynomials (FreeBSD msun: e_log.c, the medium case
of e_rem_pio2.c, k_sin.c, k_cos.c; e_exp.c's reduction with a Taylor polynomial of degree 13 in place of its
rational function, whose division was half the cost) with their branches turned into selects. The
arithmetic is IEEE float64, never contracted (numba contracts nothing without fastmath), plus the explicit
fused multiply-adds of exp (LLVM's llvm.fma: one rounding, in hardware on x86-64 since Haswell and Zen, in
software elsewhere, the same value either way), so a value is the same on every CPU whether the loop ran
vectorised or not. Their error is at most one ulp of float64, as the C library's; a float32 rounded from
one of them equals the one rounded from the C library's value except when that lies within an ulp of
float64 of a float32 rounding boundary (tests/test_vmath.py checks every uniform of the normal draws).

Domains: `exp` any finite x (clamped to [-708, 709], where the float32 result is 0 or inf anyway); `log` positive
normal x; `sincos` 0 <= x < 2^19 (the reduction by pi/2 in three parts of 33 bits, exact for such x).
"""

from __future__ import annotations

import math

import numpy as np
from numba.core import types
from numba.extending import intrinsic

from .compiled import njit
from .fma import fma

__all__ = ["exp", "log", "sincos"]


@intrinsic
def _bits(typingctx, x):  # pragma: no cover - compiled by numba
    """The int64 with the bits of float64 x."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, x):  # pragma: no cover - compiled by numba
    """The float64 with the bits of int64 x."""

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@intrinsic
def _divide(typingctx, a, b):  # pragma: no cover - compiled by numba
    """a / b in IEEE float64, without numba's check for a zero divisor (a branch that stops vectorisation)."""

    def codegen(context, builder, sig, args):
        return builder.fdiv(args[0], args[1])

    return types.float64(types.float64, types.float64), codegen


_ROUNDER = 6755399441055744.0  # 1.5 * 2^52: an integer k in [-2^51, 2^51] plus this has k in its low bits
_TWO52 = 4503599627370496.0  # 2^52
_TWO52_BITS = 0x4330000000000000  # its bits: 2^52 + j has bits _TWO52_BITS + j for 0 <= j < 2^52

_LN2_HI = 6.93147180369123816490e-01  # 0x3fe62e42 0xfee00000
_LN2_LO = 1.90821492927058770002e-10  # 0x3dea39ef 0x35793c76
_INV_LN2 = 1.44269504088896338700e00

# e^r for |r| <= ln2 / 2: its Taylor polynomial of degree 13 (the remainder under 5e-18 relative)
_E = tuple(1.0 / math.factorial(n) for n in range(14))
_E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = _E[2:]


@njit(nogil=True, cache=True, inline="always")
def exp(x):
    """e^x: x = k ln2 + r with |r| <= ln2 / 2 (e_exp.c's reduction), e^r by Horner's rule in fused
    multiply-adds (13 of them, no division), then times 2^k."""
    x = min(max(x, -708.0), 709.0)
    k = np.floor(x * _INV_LN2 + 0.5)
    r = fma(-k, _LN2_LO, x - k * _LN2_HI)  # k * _LN2_HI and the difference are exact
    p = fma(fma(fma(fma(_E13, r, _E12), r, _E11), r, _E10), r, _E9)
    p = fma(fma(fma(fma(p, r, _E8), r, _E7), r, _E6), r, _E5)
    p = fma(fma(fma(fma(p, r, _E4), r, _E3), r, _E2), r, 1.0)
    y = fma(p, r, 1.0)
    # 2^k: k + 1.5 * 2^52 holds k in its low bits (no float-to-int64 conversion, which AVX2 lacks)
    return y * _from_bits((_bits(k + _ROUNDER) + 1023) << 52)


_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01


@njit(nogil=True, cache=True, inline="always")
def log(x):
    """ln x (e_log.c) for positive normal x: x = 2^k (1 + f) with sqrt(2)/2 <= 1 + f < sqrt(2), then
    ln(1 + f) = 2s + s R(s^2) with s = f / (2 + f)."""
    bits = _bits(x)
    high = bits >> 32
    k = (high >> 20) - 1023
    high = high & 0x000FFFFF
    i = (high + 0x95F64) & 0x100000
    f = _from_bits(((high | (i ^ 0x3FF00000)) << 32) | (bits & 0xFFFFFFFF)) - 1.0
    dk = _from_bits(_TWO52_BITS + k + (i >> 20) + 2048) - (_TWO52 + 2048.0)  # exact, no int64-to-float
    s = _divide(f, 2.0 + f)
    z = s * s
    w = z * z
    r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    half_square = 0.5 * f * f
    wide = dk * _LN2_HI - ((half_square - (s * (half_square + r) + dk * _LN2_LO)) - f)
    narrow = dk * _LN2_HI - ((s * (f - r) - dk * _LN2_LO) - f)
    return wide if ((high - 0x6147A) | (0x6B851 - high)) > 0 else narrow


_INV_PIO2 = 6.36619772367581382433e-01
_PIO2_1 = 1.57079632673412561417e00  # 0x3FF921FB 0x54400000: the first 33 bits of pi/2
_PIO2_2 = 6.07710050630396597660e-11  # 0x3DD0B461 0x1A600000: the next 33
_PIO2_2T = 2.02226624879595063154e-21  # pi/2 - _PIO2_1 - _PIO2_2
_PIO2_3 = 2.02226624871116645580e-21  # 0x3BA3198A 0x2E000000: the next 33
_PIO2_3T = 8.47842766036889956997e-32  # pi/2 - _PIO2_1 - _PIO2_2 - _PIO2_3

_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10

_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11


@njit(nogil=True, cache=True, inline="always")
def sincos(x):
    """(sin x, cos x) for 0 <= x < 2^19: x = n pi/2 + (y0 + y1) with |y0 + y1| <= pi/4 (three rounds of
    e_rem_pio2.c's medium reduction, always taken), the polynomials of k_sin.c and k_cos.c on y0 + y1, and
    the quadrant n mod 4 choosing and signing them."""
    n = np.floor(x * _INV_PIO2 + 0.5)
    r = x - n * _PIO2_1
    t = r
    w = n * _PIO2_2
    r = t - w
    w = n * _PIO2_2T - ((t - r) - w)
    t = r
    w = n * _PIO2_3
    r = t - w
    w = n * _PIO2_3T - ((t - r) - w)
    y0 = r - w
    y1 = (r - y0) - w
    z = y0 * y0
    w = z * z
    v = z * y0
    p = _S2 + z * (_S3 + z * _S4) + z * w * (_S5 + z * _S6)
    sine = y0 - ((z * (0.5 * y1 - v * p) - y1) - v * _S1)
    q = z * (_C1 + z * (_C2 + z * _C3)) + w * w * (_C4 + z * (_C5 + z * _C6))
    half = 0.5 * z
    one_less = 1.0 - half
    cosine = one_less + (((1.0 - one_less) - half) + (z * q - y0 * y1))
    quadrant = _bits(n + _ROUNDER) & 3
    odd = (quadrant & 1) == 1
    first = cosine if odd else sine
    second = sine if odd else cosine
    return (-first if quadrant >= 2 else first), (-second if quadrant == 1 or quadrant == 2 else second)
