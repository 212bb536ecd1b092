"""Draws keyed by a sample's own coordinates: its units (tokens or words), its real tokens' ranks, its slots.

Every column j of a `Key` draw is the same whatever the number of columns, so a draw of `count = max over the
batch` gathered at a sample's own rank or unit index gives that sample the same numbers whatever the padding,
the padding side and the other samples of the batch.
"""

from __future__ import annotations

import functools
import math

import torch

from ...rng import Key

BIG = 1 << 62


def shift_right(x: torch.Tensor, fill: int | float | bool) -> torch.Tensor:
    """x shifted one position to the right along dim 1, `fill` entering at column 0."""
    if x.shape[1] == 0:
        return x.clone()
    head = torch.full_like(x[:, :1], fill)
    return torch.cat([head, x[:, :-1]], dim=1)


def real_rank(real: torch.Tensor) -> torch.Tensor:
    """Each position's rank among its sample's real tokens (0 for the first), -1 at padding."""
    rank = real.to(torch.int64).cumsum(1) - 1
    return torch.where(real, rank, torch.full_like(rank, -1))


def unit_index(
    content: torch.Tensor, word_ids: torch.Tensor | None = None, offsets: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The unit (a token, or a whole word) of each content position, numbered from 0 in each sample; -1 off content.

    Without words each content token is a unit. With `word_ids` (N, L) (-1 for none) a unit is a run of content
    tokens of one word id; with `offsets` (N, L, 2) a token continues the previous one when it starts where the
    previous one ends (Hugging Face's whole-word rule). A special token or padding always ends a unit.
    Returns units (N, L) int64 and the unit count of each sample (N,).
    """
    start = content
    if word_ids is not None or offsets is not None:
        previous = shift_right(content, False)
        if word_ids is not None:
            same = (word_ids == shift_right(word_ids, -2)) & (word_ids >= 0)
        else:
            assert offsets is not None
            same = offsets[..., 0] == shift_right(offsets[..., 1], -2)
        start = content & ~(previous & same)
    units = start.to(torch.int64).cumsum(1) - 1
    return torch.where(content, units, torch.full_like(units, -1)), start.sum(1)


def width(counts: torch.Tensor) -> int:
    """The largest count of a batch (0 for an empty one): the columns a draw needs."""
    return int(counts.max()) if counts.numel() else 0


def gathered(draws: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """draws[i, where[i, j]], with negative `where` reading column 0 (callers mask those positions)."""
    if draws.shape[1] == 0:
        return torch.zeros(where.shape, dtype=draws.dtype, device=draws.device)
    return draws.gather(1, where.clamp(min=0))


def uniform(key: Key, index: torch.Tensor, stream: int, count: int) -> torch.Tensor:
    """Uniform float64 draws in [0, 1) shaped (N, count) (float32 draws with 24 random bits, widened exactly)."""
    return key.uniform(index, stream, count).to(torch.float64)


def below(key: Key, index: torch.Tensor, stream: int, high: torch.Tensor, count: int) -> torch.Tensor:
    """Integers uniform in [0, high) by multiply-shift of 32-bit words (bias below high / 2**32), shaped (N, count);
    `high` (N,) or (N, count), each in [1, 2**31). Where high is 0 the result is 0."""
    bits = key.bits(index, stream, count)
    high = high.to(torch.int64)
    if high.dim() == 1:
        high = high[:, None]
    return (bits * high) >> 32


def sorted_subset(
    key: Key, index: torch.Tensor, stream: int, m: torch.Tensor, k: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """A uniformly random k-subset of range(m) for each sample, ascending: (N, max k) int64 and its validity mask.

    Each of a sample's m slots gets a uniform key (column j keyed by j alone); the k smallest win. Invalid entries
    (beyond k) hold a large number. Needs 0 <= k <= m.
    """
    n = m.shape[0]
    columns, chosen = width(m), width(k)
    keys = uniform(key, index, stream, columns)
    slot = torch.arange(columns, device=m.device)
    keys = torch.where(slot[None, :] < m[:, None], keys, torch.full_like(keys, 2.0))
    order = torch.sort(keys, dim=1, stable=True).indices[:, :chosen]
    valid = torch.arange(chosen, device=m.device)[None, :] < k[:, None]
    picked = torch.where(valid, order, torch.full_like(order, BIG))
    return torch.sort(picked, dim=1).values.reshape(n, chosen), valid


@functools.lru_cache(maxsize=64)
def _poisson_cdf(lam: float) -> torch.Tensor:
    top = int(lam + 20.0 * math.sqrt(lam) + 30.0)
    k = torch.arange(top + 1, dtype=torch.float64)
    log_pmf = k * math.log(lam) - lam - torch.lgamma(k + 1.0)
    cdf = torch.exp(log_pmf).cumsum(0)
    cdf[-1] = 1.0  # the tail beyond `top` is below 1e-30
    return cdf


def poisson(u: torch.Tensor, lam: float) -> torch.Tensor:
    """Poisson(lam) counts from uniforms in [0, 1) by the inverse distribution function (int64, u's shape)."""
    cdf = _poisson_cdf(float(lam)).to(u.device)
    return torch.searchsorted(cdf, u.to(torch.float64).contiguous(), right=True).clamp(max=cdf.numel() - 1)


def exclusive_cumsum(x: torch.Tensor) -> torch.Tensor:
    """Cumulative sums along dim 1, each without its own element."""
    return x.cumsum(1) - x
