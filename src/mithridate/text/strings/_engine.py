"""Per-unit draws for a batch of texts, and the op kernels applied to them.

A sample's unit draws are columns of `Key.uniform(index, stream, count)`: column j, the draw of unit j,
does not depend on `count`, so rows of any width give a sample the same draws whatever the batch. Rows
are drawn in groups of similar length (sorted by length, at most `_ROWS` rows and `_CELLS` draws per
group) so that one long text does not make every row as wide as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...rng import Key
from ._batch import TextBatch
from ._edits import Edit, splice
from .ops import TextOp

__all__ = ["edit_batch"]

_CELLS = 1 << 21
"""At most this many draws per group of rows (8 MiB of float32), unless one row alone is wider."""
_ROWS = 512
"""At most this many rows per group: rows sorted by length, so a group is about as wide as its texts."""
_CHOICE = 1
"""The `sub` stream of the per-unit choice uniforms (the gate uniforms are sub 0)."""


def _groups(counts: np.ndarray, rows: np.ndarray) -> list[np.ndarray]:
    """Rows (sorted by count) split into groups of at most _ROWS rows and _CELLS draws (rows x the widest)."""
    order = rows[np.argsort(counts[rows], kind="stable")]
    widths = counts[order]
    groups, first, n = [], 0, len(order)
    while first < n:
        size = np.arange(1, min(_ROWS, n - first) + 1)
        cells = size * widths[first : first + len(size)]  # increasing: the counts are sorted
        take = max(int(np.searchsorted(cells, _CELLS, side="right")), 1)
        groups.append(order[first : first + take])
        first += take
    return groups


def draw_units(
    key: Key, index: torch.Tensor, stream: int, counts: np.ndarray, rates: np.ndarray
) -> list[tuple[int, list[int], list[float]]]:
    """(sample, units drawn, their choice uniforms) for every sample with a unit whose gate uniform is
    below its rate. `counts`: units per sample (int64); `rates`: per sample, in [0, 1]."""
    out = []
    active = np.flatnonzero((rates > 0) & (counts > 0))
    for rows in _groups(counts, active):
        width = int(counts[rows[-1]])
        rows_index = index[torch.from_numpy(rows)]
        gate = key.uniform(rows_index, stream, width).numpy()
        drawn = gate < rates[rows, None].astype(np.float32)
        drawn &= np.arange(width) < counts[rows, None]
        flat = np.flatnonzero(drawn)
        if flat.size == 0:
            continue
        hit_rows = flat // width
        hit_units = flat - hit_rows * width
        first_hit = np.empty(hit_rows.size, dtype=bool)  # hit_rows is sorted: where each row starts
        first_hit[0] = True
        np.not_equal(hit_rows[1:], hit_rows[:-1], out=first_hit[1:])
        touched = hit_rows[first_hit]
        choice = key.uniform(rows_index[torch.from_numpy(touched)], stream, int(hit_units.max()) + 1, sub=_CHOICE)
        values = choice.numpy()[np.cumsum(first_hit) - 1, hit_units].tolist()
        bounds = [*np.flatnonzero(first_hit).tolist(), hit_rows.size]
        units = hit_units.tolist()
        for k, sample in enumerate(rows[touched].tolist()):
            first, last = bounds[k], bounds[k + 1]
            out.append((sample, units[first:last], values[first:last]))
    return out


def edit_batch(
    op: TextOp,
    texts: Sequence[str],
    key: Key,
    index: torch.Tensor,
    rates: np.ndarray,
    stream: int,
    *,
    with_edits: bool = True,
) -> tuple[list[str], list[tuple[Edit, ...]] | None]:
    """Each text with `op` applied at its per-unit rate (0: untouched): the outputs and their edits (None
    without `with_edits`: the outputs alone, built by `op.apply`, the same texts)."""
    outputs, logs = list(texts), [()] * len(texts) if with_edits else None
    if not texts:
        return outputs, logs
    batch = TextBatch(texts)
    drawn = draw_units(key, index, stream, op.unit_bound(batch), np.minimum(rates, 1.0))
    if not drawn:
        return outputs, logs
    maybe = op.protect.may_match(batch)
    if isinstance(maybe, np.ndarray):
        maybe = maybe.tolist()
    none: tuple[list[int], list[int]] = ([], [])
    tokens = op.takes_tokens
    if not with_edits:
        apply, spans = op.apply, op.protect.spans
        if tokens:  # `apply` of a word op, its checks inlined
            op.apply_drawn(texts, drawn, batch.all_tokens(), maybe, outputs)  # type: ignore[attr-defined]
        else:
            for sample, units, choices in drawn:
                text = texts[sample]
                outputs[sample] = apply(text, units, choices, spans(text) if maybe[sample] else none)
        return outputs, None
    for sample, units, choices in drawn:
        text = texts[sample]
        protected = op.protect.spans(text) if maybe[sample] else none
        if tokens:
            edits = op.edits(text, units, choices, protected, batch.tokens(sample))
        else:
            edits = op.edits(text, units, choices, protected)
        if edits:
            outputs[sample] = splice(text, edits)
            logs[sample] = tuple(edits)
    return outputs, logs
