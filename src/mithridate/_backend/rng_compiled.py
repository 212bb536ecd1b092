"""Compiled CPU draws for `rng.Key` (numba): the same words as the torch code, in one call.

`hash32`, `salts`, `base_word` and `uniform` are also the draws of the compiled corruption kernels.

On the CPU a draw for a few samples costs about 85 microseconds in torch, all of it dispatch of some forty
tiny integer ops (the hash runs twice per sample and once per draw); here it is one compiled loop. The
arithmetic is the same 32-bit hash on unsigned 64-bit integers, so the words are identical (a test
compares both). Large draws gain too: one pass, no int64 temporaries.
"""

from __future__ import annotations

import numpy as np

from .compiled import njit

_MASK = np.uint64(0xFFFFFFFF)
_M1 = np.uint64(0x7FEB352D)
_M2 = np.uint64(0x846CA68B)
_GOLDEN = np.uint64(0x9E3779B9)
_S8 = np.uint64(8)
_S15 = np.uint64(15)
_S16 = np.uint64(16)
_S32 = np.uint64(32)
_TWO_POW_MINUS_24 = np.float32(1.0 / (1 << 24))


@njit(nogil=True, cache=True, inline="always")
def hash32(x):
    """Chris Wellons' lowbias32 on a 32-bit word held in a uint64 (products wrap, low bits exact)."""
    x = x ^ (x >> _S16)
    x = (x * _M1) & _MASK
    x = x ^ (x >> _S15)
    x = (x * _M2) & _MASK
    return x ^ (x >> _S16)


@njit(nogil=True, cache=True, inline="always")
def salts(k1, count):
    """The per-draw words, shared by every sample."""
    salts = np.empty(count, np.uint64)
    for d in range(count):
        salts[d] = hash32((np.uint64(d) * _GOLDEN + k1) & _MASK)
    return salts


@njit(nogil=True, cache=True, inline="always")
def base_word(value, k0):
    """The per-sample word of an int64 index: its low and high halves hashed in turn."""
    value = np.uint64(value)
    return hash32(hash32((value & _MASK) ^ k0) ^ ((value >> _S32) & _MASK))


@njit(nogil=True, cache=True)
def _words(index, k0, k1, out):
    """out[i, d] = hash(base(index[i]) ^ salt(d)) as int64."""
    draws = salts(k1, out.shape[1])
    for i in range(index.shape[0]):
        base = base_word(index[i], k0)
        for d in range(out.shape[1]):
            out[i, d] = np.int64(hash32(base ^ draws[d]))


@njit(nogil=True, cache=True, inline="always")
def uniform(base, salt):
    """One draw's uniform: the word's 24 high bits as float32 in [0, 1), as `rng._to_uniform`."""
    return np.float32(hash32(base ^ salt) >> _S8) * _TWO_POW_MINUS_24


@njit(nogil=True, cache=True)
def _uniforms(index, k0, k1, out):
    """The same words' 24 high bits as float32 in [0, 1), as `rng._to_uniform`."""
    draws = salts(k1, out.shape[1])
    for i in range(index.shape[0]):
        base = base_word(index[i], k0)
        for d in range(out.shape[1]):
            out[i, d] = uniform(base, draws[d])


@njit(nogil=True, cache=True)
def _integers(index, k0, k1, high, out):
    """`Key.integers`: each word times high, over 2**32 (multiply-shift, exact in uint64)."""
    draws = salts(k1, out.shape[1])
    for i in range(index.shape[0]):
        base = base_word(index[i], k0)
        for d in range(out.shape[1]):
            out[i, d] = np.int64((hash32(base ^ draws[d]) * high) >> _S32)


def draw(index: np.ndarray, k0: int, k1: int, count: int, uniform: bool, high: int | None = None) -> np.ndarray:
    """Words (int64), 24-bit uniforms (float32) or, with `high`, integers in [0, high) (int64, as
    `Key.integers`) shaped (len(index), count) for int64 sample indices."""
    out = np.empty((index.shape[0], count), np.float32 if uniform else np.int64)
    if high is not None:
        _integers(index, np.uint64(k0), np.uint64(k1), np.uint64(high), out)
    else:
        (_uniforms if uniform else _words)(index, np.uint64(k0), np.uint64(k1), out)
    return out
