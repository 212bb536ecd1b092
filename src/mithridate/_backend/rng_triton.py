"""Triton draws for `rng.Key` on CUDA tensors: the same words as the torch code, in one kernel launch.

On a GPU the torch code spends a draw in some fifty tiny integer ops (the hash runs twice per sample,
once per draw word and once per output, with masks and shifts), each a kernel launch; those launches
dominate a policy's `sample()`. Here one kernel computes the whole (n, count) output. The arithmetic is the
same 32-bit hash, in uint32 (products wrap modulo 2**32, shifts are logical), so the words are identical:
a test compares both through Triton's interpreter (TRITON_INTERPRET=1) on the CPU. `rng.Key` uses it on
CUDA unless MITHRIDATE_TRITON=0, once `verified` has compared it with the CPU on that device (the
interpreter cannot vouch for the real compiler and GPU); a launch that fails or a check that differs warns
once and leaves the torch code in place for the rest of the process.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import torch

from .switch import triton_enabled, triton_failed

try:  # Triton ships with CUDA builds of torch; without it this path is unavailable.
    import triton
    import triton.language as tl
except ImportError:  # pragma: no cover - depends on the torch build
    triton = None
    tl = None

__all__ = ["available", "draw", "enabled", "try_draw", "verified"]

Reference = Callable[[torch.Tensor, int, bool, "int | None"], "tuple[torch.Tensor, tuple[int, int]]"]
"""(index, count, uniform, high) -> (the CPU's draws of some key, that key's two stream words)."""

_ELEMENTS = 1024
"""Outputs per program: a tile of rows x draws, draws a power of two up to `_MAX_DRAWS`."""
_MAX_DRAWS = 64
COMPILE_OPTIONS = {"enable_fp_fusion": False}
"""As the image kernels: float32 operations exactly as written (the uniform's scaling is one exact product)."""


def available() -> bool:
    """Whether Triton imports (a CUDA device, or the interpreter, is still needed to run)."""
    return triton is not None


def enabled() -> bool:
    """Whether `rng.Key` may draw here on CUDA: Triton imports and the Triton paths are on (`switch`)."""
    return triton_enabled() and triton is not None


if triton is not None:

    @triton.jit
    def hash32(x):
        """Chris Wellons' lowbias32 on uint32 words (products wrap modulo 2**32, shifts are logical)."""
        x = x ^ (x >> 16)
        x = x * tl.full(x.shape, 0x7FEB352D, tl.uint32)
        x = x ^ (x >> 15)
        x = x * tl.full(x.shape, 0x846CA68B, tl.uint32)
        return x ^ (x >> 16)

    @triton.jit
    def salts(draws, k1):
        """The per-draw words of the draw numbers `draws` (int32), shared by every sample."""
        return hash32(draws.to(tl.uint32) * tl.full(draws.shape, 0x9E3779B9, tl.uint32) + k1)

    @triton.jit
    def base_word(value, k0):
        """The per-sample word of int64 indices: their low and high 32-bit halves hashed in turn."""
        low = value.to(tl.uint32)  # truncation keeps the low 32 bits
        high = (value >> 32).to(tl.uint32)  # bits 32..63, whatever the shift fills in above them
        return hash32(hash32(low ^ k0) ^ high)

    @triton.jit(do_not_specialize=["n", "k0", "k1", "high"])
    def _draw_kernel(index, out, n, count, k0, k1, high, MODE: tl.constexpr, ROWS: tl.constexpr, DRAWS: tl.constexpr):
        """out[i, d] = hash(base(index[i]) ^ salt(d)) for one tile: as int64 words (MODE 0), as
        `rng._to_uniform` (1), or as `Key.integers` in [0, high) (2: the word times high, over 2**32).

        `k0` and `k1` arrive as int32 holding the 32-bit words (one signature whatever their values);
        the 1-d grid numbers the tiles row block by row block, so it has no 65535 limit.
        """
        pid = tl.program_id(0)
        draw_blocks = tl.cdiv(count, DRAWS)
        rows = (pid // draw_blocks).to(tl.int64) * ROWS + tl.arange(0, ROWS)
        draws = (pid % draw_blocks) * DRAWS + tl.arange(0, DRAWS)
        value = tl.load(index + rows, mask=rows < n, other=0)
        base = base_word(value, k0.to(tl.uint32))
        salt = salts(draws, k1.to(tl.uint32))
        word = hash32(base[:, None] ^ salt[None, :])
        offsets = rows[:, None] * count + draws[None, :]
        mask = (rows < n)[:, None] & (draws < count)[None, :]
        if MODE == 1:
            tl.store(out + offsets, (word >> 8).to(tl.float32) * (1.0 / (1 << 24)), mask=mask)
        elif MODE == 2:  # multiply-shift: below 2**63, so the unsigned product is the int64 one
            scaled = (word.to(tl.uint64) * high.to(tl.uint64)) >> 32
            tl.store(out + offsets, scaled.to(tl.int64), mask=mask)
        else:
            tl.store(out + offsets, word.to(tl.int64), mask=mask)  # zero-extended: words in [0, 2**32)


def _as_int32(word: int) -> int:
    """A 32-bit word as the int32 with the same bits, so that Triton types the argument i32."""
    return word - (1 << 32) if word >= 1 << 31 else word


def draw(index: torch.Tensor, k0: int, k1: int, count: int, uniform: bool, high: int | None = None) -> torch.Tensor:
    """Words (int64), 24-bit uniforms (float32) or, with `high`, integers in [0, high) (int64, as
    `Key.integers`) shaped (len(index), count) for int64 sample indices.

    `k0` and `k1` are the key's stream words (`rng.Key._stream_words`). Runs on a CUDA tensor, or on a CPU
    tensor under Triton's interpreter (TRITON_INTERPRET=1, set before Triton is imported).
    """
    if triton is None:
        raise RuntimeError("the Triton draws need Triton, which does not import")
    if index.dtype != torch.int64 or index.dim() != 1:
        raise ValueError(f"index: expected a 1-d int64 tensor, got {index.dtype} shaped {tuple(index.shape)}")
    if index.device.type != "cuda" and os.environ.get("TRITON_INTERPRET") != "1":
        raise ValueError(f"index: the Triton draws run on CUDA (or with TRITON_INTERPRET=1), got {index.device}")
    out = _empty(index, count, uniform)
    _launch(index, out, k0, k1, uniform, high)
    return out


def try_draw(
    index: torch.Tensor, k0: int, k1: int, count: int, uniform: bool, high: int | None = None
) -> torch.Tensor | None:
    """`draw` for a 1-d int64 index, or None (the caller then draws in torch) for another index; a failed
    launch turns the Triton paths off (`switch.triton_failed`) and gives None too."""
    if index.dtype != torch.int64 or index.dim() != 1:
        return None
    out = _empty(index, count, uniform)
    try:
        _launch(index, out, k0, k1, uniform, high)
    except Exception as error:  # a compiler or driver that rejects the kernel must not stop training
        triton_failed(error, "the Triton draws")
        return None
    return out


_verdicts: dict[tuple, bool] = {}
"""Per device and kind of draw, whether its draws equal the CPU's (`verified`)."""

_CHECK_VALUES = 1 << 20
"""At most this many values per check: the indices are cut for wide draws (a corruption's noise field)."""


def verified(device: torch.device, count: int, uniform: bool, high: int | None, reference: Reference) -> bool:
    """Whether `count` draws per sample of this kind (words, uniforms or integers below `high`) on `device`
    equal the CPU's, checked once per device, kind and count (one host sync each): the kernel Triton
    compiles for them (its tile of draws follows the count) runs on indices across the int64 range and is
    compared with `reference` (`rng.Key`'s draws on the CPU, passed in by `rng`). A difference or a failed
    launch turns every Triton path off (`switch.triton_failed`), so that a GPU whose compiler or hardware
    computes otherwise changes no draw.
    """
    key = (torch.device(device), count, 1 if uniform else 0 if high is None else 2)
    if key not in _verdicts:
        _verdicts[key] = _check(key[0], count, uniform, high, reference)
    return _verdicts[key] and triton_enabled()


def _check(device: torch.device, count: int, uniform: bool, high: int | None, reference: Reference) -> bool:
    """Compare the draws on `device` with the reference's on the CPU; on a difference, say so and turn off."""
    wide = torch.tensor([2**31 - 1, 2**31, 2**32 + 7, 2**53 + 1, 2**63 - 1])
    rows = max(1, min(300, _CHECK_VALUES // max(count, 1)))
    index = torch.cat([torch.arange(rows), wide])
    expected, (k0, k1) = reference(index, count, uniform, high)
    try:
        drawn = draw(index.to(device), k0, k1, count, uniform, high).cpu()
    except Exception as error:  # a compiler or driver that rejects the kernel must not stop training
        triton_failed(error, "the Triton draws")
        return False
    if not torch.equal(drawn, expected):
        kind = "uniforms" if uniform else "words" if high is None else f"integers below {high}"
        triton_failed(
            RuntimeError(f"on {device} {count} {kind} per sample differ from the CPU's"),
            "the self-check of the Triton draws",
        )
        return False
    return True


def _empty(index: torch.Tensor, count: int, uniform: bool) -> torch.Tensor:
    return torch.empty((index.shape[0], count), dtype=torch.float32 if uniform else torch.int64, device=index.device)


def _launch(index: torch.Tensor, out: torch.Tensor, k0: int, k1: int, uniform: bool, high: int | None) -> None:
    """One launch over tiles of rows x draws (none for an empty output)."""
    n, count = out.shape
    if n == 0 or count == 0:
        return
    if high is not None and not 0 < high < 2**31:
        raise ValueError(f"high: expected an integer in [1, 2**31), got {high}")
    # Python arithmetic: triton's cdiv and next_power_of_2 cost microseconds each on the host
    draws = min(1 << (count - 1).bit_length(), _MAX_DRAWS)
    rows = _ELEMENTS // draws
    grid = (-(-n // rows) * -(-count // draws),)
    mode = 1 if uniform else 0 if high is None else 2
    args = (index.contiguous(), out, n, count, _as_int32(k0), _as_int32(k1), 1 if high is None else high)
    options = {"MODE": mode, "ROWS": rows, "DRAWS": draws, **COMPILE_OPTIONS}
    if index.device.type == "cuda" and index.device.index != torch.cuda.current_device():
        with torch.cuda.device(index.device):  # Triton launches on the current device
            _draw_kernel[grid](*args, **options)
    else:
        _draw_kernel[grid](*args, **options)
