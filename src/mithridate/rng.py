"""Counter-based randomness: every draw is a pure function of (seed, epoch, call, sample index, stream).

Nothing here keeps state. A draw is a stateless integer hash of its coordinates, computed on int64
tensors holding 32-bit words (products keep their exact low 32 bits): the same bits come out on every device, for
every batch split and every number of DataLoader workers. Uniform floats are built from 24 hash bits,
so they are exact on CPU and CUDA alike; draws built with transcendental functions (normal, gamma,
Dirichlet) agree across devices up to the last bits of float rounding.
"""

from __future__ import annotations

import functools
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ._backend.switch import native_enabled
from ._backend.transfer import to_device

__all__ = ["Key", "as_index", "hash32", "new_seed"]

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_GOLDEN32 = 0x9E3779B9
_TWO_POW_MINUS_24 = 1.0 / (1 << 24)
_CPU_BLOCK_ELEMENTS = 1 << 16
"""Draws hashed at once on the CPU: 512 KiB of int64 words, inside a core's cache (measured best of 2**14..2**18)."""


@functools.cache
def _load_compiled():
    """Import `_backend.rng_compiled` once (None without numba or a writable cache folder)."""
    try:
        from ._backend import rng_compiled
    except (ImportError, RuntimeError):  # pragma: no cover - numba missing, or no writable cache folder
        return None
    return rng_compiled


def _compiled():
    """The compiled CPU draws (`_backend.rng_compiled`), or None without numba or with MITHRIDATE_NATIVE=0."""
    return _load_compiled() if native_enabled() else None


def _triton(device: torch.device, count: int, uniform: bool, high: int | None = None):
    """The one-launch CUDA draws (`_backend.rng_triton`) where Triton imports, the Triton paths are on
    (`_backend.switch`) and draws of this kind equal the CPU's on this device (checked once); otherwise None."""
    from ._backend import rng_triton  # imports Triton: only reached for CUDA tensors

    if not rng_triton.enabled() or not rng_triton.verified(device, count, uniform, high, _reference_draws):
        return None
    return rng_triton


def _reference_draws(
    index: torch.Tensor, count: int, uniform: bool, high: int | None
) -> tuple[torch.Tensor, tuple[int, int]]:
    """The CPU's draws of a fixed key and stream for the Triton self-check, with the stream's two words."""
    key, stream = Key(20261127), 3
    if high is not None:
        expected = key.integers(index, stream, high, count)
    else:
        expected = key.uniform(index, stream, count) if uniform else key.bits(index, stream, count)
    return expected, key._stream_words(stream, 0)


def _to_uniform(words: torch.Tensor) -> torch.Tensor:
    """24 high bits of 32-bit words as float32 in [0, 1)."""
    return (words >> 8).to(torch.float32) * _TWO_POW_MINUS_24


def _mul32(x: torch.Tensor, constant: int) -> torch.Tensor:
    """Multiply 32-bit words by a 32-bit constant modulo 2**32.

    The int64 product of two 32-bit words may pass 2**63; it wraps modulo 2**64 (two's complement, as
    the integer multiply of every CPU and GPU that torch runs on does), which leaves its low 32 bits
    exact. One multiply and one mask: measured twice as fast as splitting the constant in 16-bit halves.
    """
    return (x * constant) & _MASK32


def hash32(x: torch.Tensor) -> torch.Tensor:
    """Chris Wellons' `lowbias32` integer hash on int64 tensors holding 32-bit words."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def _splitmix64(value: int) -> int:
    """One step of splitmix64 on Python integers: turns small structured keys into well-mixed words."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


@functools.lru_cache(maxsize=4096)
def _mix_words(*words: int) -> int:
    """splitmix64 over a key's words (cached: a policy asks for the same few streams batch after batch)."""
    state = 0
    for word in words:
        state = _splitmix64(state ^ (word & _MASK64))
    return state


def new_seed() -> int:
    """A fresh 63-bit seed from the operating system, for `seed=None`."""
    return secrets.randbits(63)


def as_index(index: object, n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Validate sample indices (a sequence, array or tensor of n non-negative integers) as int64.

    Indices already on an accelerator are not read back to check their sign (that would be a host
    synchronisation per batch); a negative one there draws like its 64-bit two's complement. Host indices
    for a CUDA device are copied there asynchronously (`_backend.transfer.to_device`).
    """
    if type(index) is int and n == 1 and 0 <= index < 2**63:  # one image per call (a Dataset transform)
        return to_device(torch.tensor([index], dtype=torch.int64), device)
    if (  # the common case of a DataLoader's batch on the host, checked with one numpy pass
        type(index) is torch.Tensor
        and index.dtype == torch.int64
        and index.device.type == "cpu"
        and index.dim() == 1
        and index.shape[0] == n
        and (device is None or getattr(device, "type", device) == "cpu")
    ):
        if n and int(index.numpy().min()) < 0:
            raise ValueError("index: expected non-negative sample indices, got a negative one")
        return index
    if isinstance(index, torch.Tensor):
        tensor = index
        integral = not (tensor.dtype.is_floating_point or tensor.dtype == torch.bool or tensor.is_complex())
        kind = str(tensor.dtype)
    elif isinstance(index, (range, Sequence, np.ndarray, int)) and not isinstance(index, (str, bytes)):
        array = np.asarray(index)
        if array.size == 0:  # an empty batch's empty sequence holds no numbers to type it
            array = array.astype(np.int64)
        integral, kind = array.dtype.kind in "iu", str(array.dtype)
        tensor = torch.as_tensor(array.astype(np.int64)) if integral else None
    else:
        got = type(index).__name__
        raise TypeError(f"index: expected a sequence or tensor of {n} non-negative integers, got {got}")
    if not integral or tensor is None:
        raise TypeError(f"index: expected integers, got dtype {kind}")
    tensor = tensor.reshape(-1)
    if tensor.numel() != n:
        raise ValueError(f"index: expected {n} sample indices (one per sample), got {tensor.numel()}")
    # Values are checked where they are on the host; reading an accelerator's back would wait for it.
    if n and tensor.device.type == "cpu" and bool((tensor < 0).any()):
        raise ValueError("index: expected non-negative sample indices, got a negative one")
    return to_device(tensor.to(torch.int64), device)


@dataclass(frozen=True)
class Key:
    """The coordinates of a batch's randomness apart from the sample index.

    `call` is None when the caller passes sample indices; otherwise it numbers the policy's calls so
    that repeated calls without indices draw differently.
    """

    seed: int
    epoch: int = 0
    call: int | None = None

    def _stream_words(self, stream: int, sub: int) -> tuple[int, int]:
        call = -1 if self.call is None else self.call
        mixed = _mix_words(self.seed, self.epoch, call, stream, sub)
        return mixed & _MASK32, mixed >> 32

    def bits(self, index: torch.Tensor, stream: int, count: int = 1, *, sub: int = 0) -> torch.Tensor:
        """Random 32-bit words, int64 tensor shaped (len(index), count).

        `stream` names what the draw is for (op choice, magnitude, sign...); `sub` splits a stream
        further for helpers that need several independent draws of their own.
        """
        return self._draw_words(index, stream, count, sub, None, torch.int64)

    def _draw_words(
        self,
        index: torch.Tensor,
        stream: int,
        count: int,
        sub: int,
        finish: Callable[[torch.Tensor], torch.Tensor] | None,
        dtype: torch.dtype,
    ) -> torch.Tensor:
        """hash(sample word ^ draw word) for every (sample, draw), `finish`ed into a (n, count) tensor.

        The sample words (one per index) and the draw words (one per draw, shared by every sample) are
        hashed once each. On the CPU the compiled loop of `_backend.rng_compiled` computes the same words in one
        call; without it, a large output is filled in cache-sized row blocks: each of the hash's int64
        passes then stays in cache (measured 4x faster for a 256 x 3072 noise field). On CUDA,
        unless MITHRIDATE_TRITON=0, one Triton kernel (`_backend.rng_triton`) computes them instead of some fifty
        launches.
        """
        k0, k1 = self._stream_words(stream, sub)
        compiled = _compiled() if index.device.type == "cpu" and finish in (None, _to_uniform) else None
        if compiled is not None:
            return torch.from_numpy(compiled.draw(index.contiguous().numpy(), k0, k1, count, finish is _to_uniform))
        if index.device.type == "cuda" and finish in (None, _to_uniform) and index.dtype == torch.int64:
            fast = _triton(index.device, count, finish is _to_uniform)
            values = None if fast is None else fast.try_draw(index, k0, k1, count, finish is _to_uniform)
            if values is not None:
                return values
        low = index & _MASK32
        high = (index >> 32) & _MASK32
        base = hash32(hash32(low ^ k0) ^ high)
        draw = torch.arange(count, device=index.device, dtype=torch.int64)
        salt = hash32((draw * _GOLDEN32 + k1) & _MASK32)
        n = index.shape[0]
        rows = n if index.device.type != "cpu" else max(_CPU_BLOCK_ELEMENTS // max(count, 1), 1)
        if rows >= n:
            words = hash32(base[:, None] ^ salt[None, :])
            return words if finish is None else finish(words)
        out = torch.empty((n, count), dtype=dtype, device=index.device)
        for start in range(0, n, rows):
            words = hash32(base[start : start + rows, None] ^ salt[None, :])
            out[start : start + rows] = words if finish is None else finish(words)
        return out

    def uniform(self, index: torch.Tensor, stream: int, count: int = 1, *, sub: int = 0) -> torch.Tensor:
        """Uniform float32 draws in [0, 1) with 24 random bits, exact on every device."""
        return self._draw_words(index, stream, count, sub, _to_uniform, torch.float32)

    def integers(self, index: torch.Tensor, stream: int, high: int, count: int = 1) -> torch.Tensor:
        """Integers in [0, high), int64, by multiply-shift (bias below high / 2**32)."""
        if not 0 < high < 2**31:
            raise ValueError(f"high: expected an integer in [1, 2**31), got {high}")
        if index.device.type == "cpu" and (compiled := _compiled()) is not None:  # one compiled loop
            k0, k1 = self._stream_words(stream, 0)
            return torch.from_numpy(compiled.draw(index.contiguous().numpy(), k0, k1, count, False, high))
        if index.device.type == "cuda" and index.dtype == torch.int64:  # one Triton launch, where enabled
            fast = _triton(index.device, count, False, high)
            k0, k1 = self._stream_words(stream, 0)
            values = None if fast is None else fast.try_draw(index, k0, k1, count, False, high)
            if values is not None:
                return values
        return (self.bits(index, stream, count) * high) >> 32

    def normal(self, index: torch.Tensor, stream: int, count: int = 1, *, sub: int = 0) -> torch.Tensor:
        """Standard normal float32 draws by the Box-Muller transform."""
        u = self.uniform(index, stream, 2 * count, sub=sub).to(torch.float64)
        radius = torch.sqrt(-2.0 * torch.log1p(-u[:, :count]))
        return (radius * torch.cos(2.0 * math.pi * u[:, count:])).to(torch.float32)

    def gamma(self, index: torch.Tensor, stream: int, alpha: float, count: int = 1) -> torch.Tensor:
        """Gamma(alpha, 1) float32 draws by Marsaglia and Tsang's method, vectorised.

        Each draw gets 16 proposals and keeps the first accepted one (the chance that none is
        accepted is below 1e-20 for every alpha); alpha < 1 uses the boost Gamma(a+1) * U**(1/a).
        """
        if not alpha > 0:
            raise ValueError(f"alpha: expected a positive concentration, got {alpha}")
        tries = 16
        boosted = alpha < 1
        a = alpha + 1.0 if boosted else alpha
        d = a - 1.0 / 3.0
        c = 1.0 / math.sqrt(9.0 * d)
        n = index.numel()
        z = self.normal(index, stream, count * tries, sub=1).to(torch.float64).view(n, count, tries)
        u = self.uniform(index, stream, count * tries, sub=2).to(torch.float64).view(n, count, tries)
        v = (1.0 + c * z) ** 3
        accept = (v > 0) & (torch.log1p(-u) < 0.5 * z**2 + d - d * v + d * torch.log(v.clamp(min=1e-300)))
        first = torch.argmax(accept.to(torch.int8), dim=-1, keepdim=True)
        value = torch.gather(d * v, -1, first).squeeze(-1)
        value = torch.where(accept.any(dim=-1), value, torch.full_like(value, d))
        if boosted:
            boost = self.uniform(index, stream, count, sub=3).to(torch.float64)
            value = value * (1.0 - boost) ** (1.0 / alpha)
        return value.to(torch.float32)

    def dirichlet(self, index: torch.Tensor, stream: int, alpha: float, count: int) -> torch.Tensor:
        """Dirichlet(alpha, ..., alpha) float32 draws shaped (n, count), rows summing to 1."""
        g = self.gamma(index, stream, alpha, count).to(torch.float64)
        total = g.sum(dim=-1, keepdim=True)
        uniform = torch.full_like(g, 1.0 / count)
        return torch.where(total > 0, g / total.clamp(min=1e-300), uniform).to(torch.float32)
