"""Per-unit draws for a batch of texts, and the op kernels applied to them.

A sample's unit draws are columns of `Key.uniform(index, stream, count)`: column j, the draw of unit j,
does not depend on `count`, so rows of any width give a sample the same draws whatever the batch. Rows
are drawn in groups of similar length (sorted by length, a bounded number of cells per group) so that
one long text does not make every row as wide as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...rng import Key
from ._edits import Edit, _apply
from .ops import TextOp

__all__ = ["edit_batch"]

_CELLS = 1 << 21
"""Draws per group of rows (8 MiB of float32)."""
_CHOICE = 1
"""The `sub` stream of the per-unit choice uniforms (the gate uniforms are sub 0)."""


def _groups(counts: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Rows (sorted by count) split into groups of at most _CELLS draws (a row wider than that alone)."""
    order = rows[np.argsort(counts[rows], kind="stable")]
    groups, first = [], 0
    for i in range(len(order)):
        if i > first and (i - first + 1) * counts[order[i]] > _CELLS:
            groups.append(order[first:i])
            first = i
    if first < len(order):
        groups.append(order[first:])
    return groups


def draw_units(
    key: Key, index: torch.Tensor, stream: int, counts: np.ndarray, rates: np.ndarray
) -> list[tuple[list[int], list[float]] | None]:
    """For each sample, the units whose gate uniform is below its rate and their choice uniforms (None
    where no unit is drawn). `counts`: units per sample (int64); `rates`: per sample, in [0, 1]."""
    n = len(counts)
    out: list[tuple[list[int], list[float]] | None] = [None] * n
    active = np.flatnonzero((rates > 0) & (counts > 0))
    for rows in _groups(counts, active):
        width = int(counts[rows[-1]])
        rows_index = index[torch.from_numpy(rows)]
        gate = key.uniform(rows_index, stream, width).numpy()
        drawn = (gate < rates[rows, None].astype(np.float32)) & (np.arange(width) < counts[rows, None])
        hit_rows, hit_units = np.nonzero(drawn)
        if hit_rows.size == 0:
            continue
        touched = np.unique(hit_rows)
        local = np.searchsorted(touched, hit_rows)
        choice = key.uniform(rows_index[torch.from_numpy(touched)], stream, int(hit_units.max()) + 1, sub=_CHOICE)
        values = choice.numpy()[local, hit_units]
        bounds = [*np.searchsorted(hit_rows, touched, side="left").tolist(), hit_rows.size]
        units, values_list = hit_units.tolist(), values.tolist()
        for k, row in enumerate(touched.tolist()):
            out[int(rows[row])] = (units[bounds[k] : bounds[k + 1]], values_list[bounds[k] : bounds[k + 1]])
    return out


def edit_batch(
    op: TextOp, texts: Sequence[str], key: Key, index: torch.Tensor, rates: np.ndarray, stream: int
) -> list[tuple[str, tuple[Edit, ...]]]:
    """Each text with `op` applied at its per-unit rate (0: untouched): (output, edits) per text."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    draws = draw_units(key, index, stream, op.unit_bound(lengths), np.minimum(rates, 1.0))
    out = []
    for text, drawn in zip(texts, draws, strict=True):
        if drawn is None:
            out.append((text, ()))
            continue
        edits = tuple(op.edits(text, *drawn))
        out.append((_apply(text, edits), edits))
    return out
