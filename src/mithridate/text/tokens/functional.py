"""Token-noise kernels: pure functions of a padded batch and a drawn plan, no randomness.

Positions that move are described by a source map: `source[i, j]` is the input position that output position j of
sample i comes from (-1 for a new token or padding), so that every other per-token tensor (token_type_ids, word ids,
offsets) can follow the ids. All kernels are vectorised over the batch; none loops over samples or tokens.
"""

from __future__ import annotations

import torch

from ._draws import BIG, exclusive_cumsum, gathered, real_rank, shift_right, width

__all__ = [
    "blank_units",
    "compact",
    "infill_spans",
    "mask_tokens",
    "permute_sentences",
    "rotate_content",
    "sentence_index",
    "shuffle_units",
    "span_corruption",
    "spans_to_noise",
    "take",
]


def take(tensor: torch.Tensor, source: torch.Tensor, fill: int | float | bool) -> torch.Tensor:
    """tensor[i, source[i, j]] for (N, L) tensors, `fill` where source is negative."""
    if tensor.shape[1] == 0:
        return torch.full(source.shape, fill, dtype=tensor.dtype, device=tensor.device)
    out = tensor.gather(1, source.clamp(min=0))
    return torch.where(source < 0, torch.full_like(out, fill), out)


def compact(keep: torch.Tensor, left: bool = False) -> torch.Tensor:
    """The source map that packs each sample's kept items in order and pads after them (before them if `left`):
    (N, max kept) int64 indices into keep's columns, -1 at padding."""
    n, columns = keep.shape
    kept = keep.sum(1)
    out_width = width(kept)
    position = keep.to(torch.int64).cumsum(1) - 1
    if left:
        position = position + (out_width - kept)[:, None]
    position = torch.where(keep, position, torch.full_like(position, out_width))
    source = torch.full((n, out_width + 1), -1, dtype=torch.int64, device=keep.device)
    items = torch.arange(columns, device=keep.device).expand(n, columns)
    source.scatter_(1, position, items)  # dropped items all land in the extra column, sliced off
    return source[:, :out_width]


def _content_slots(content: torch.Tensor) -> torch.Tensor:
    """Positions of each sample's content tokens in order, then of the other positions in order (N, L)."""
    return torch.sort((~content).to(torch.int8), dim=1, stable=True).indices


def _place(content: torch.Tensor, new_rank: torch.Tensor) -> torch.Tensor:
    """The source map that moves the content token of content rank r to content rank new_rank (a permutation of
    each sample's content ranks); other positions stay."""
    n, length = content.shape
    positions = torch.arange(length, device=content.device).expand(n, length)
    if length == 0:
        return positions.clone()
    slots = _content_slots(content)
    target = torch.where(content, slots.gather(1, new_rank.clamp(min=0)), positions)
    return torch.empty_like(positions).scatter_(1, target, positions)


def mask_tokens(
    ids: torch.Tensor,
    chosen: torch.Tensor,
    action: torch.Tensor,
    random_ids: torch.Tensor,
    mask_token_id: int | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: chosen tokens with action 1 become the mask, with action 2 the random id, with 0 stay.
    Returns the new ids and the labels (the original id at chosen positions, -100 elsewhere)."""
    out = ids
    if mask_token_id is not None:
        out = torch.where(chosen & (action == 1), torch.full_like(ids, mask_token_id), out)
    out = torch.where(chosen & (action == 2), random_ids, out)
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    return out, labels


def shuffle_units(
    content: torch.Tensor, special: torch.Tensor, units: torch.Tensor, unit_noise: torch.Tensor
) -> torch.Tensor:
    """XLM's word shuffle: sort each sample's content by unit index + noise (stable, so tokens of one unit and equal
    scores keep their order); special tokens stay where they are and content never crosses them. Source map (N, L)."""
    n, length = content.shape
    if length == 0:
        return torch.zeros((n, 0), dtype=torch.int64, device=content.device)
    score = units.to(torch.float64) + gathered(unit_noise, units)
    score = torch.where(content, score, torch.full_like(score, float("inf")))
    first = torch.sort(score, dim=1, stable=True).indices
    segment = special.to(torch.int64).cumsum(1)
    segment = torch.where(content, segment, torch.full_like(segment, BIG)).gather(1, first)
    order = first.gather(1, torch.sort(segment, dim=1, stable=True).indices)
    slots = _content_slots(content)
    return torch.empty_like(order).scatter_(1, slots, order)


def blank_units(
    ids: torch.Tensor, content: torch.Tensor, units: torch.Tensor, blank: torch.Tensor, mask_token_id: int
) -> torch.Tensor:
    """XLM's word blank: every token of a blanked unit becomes the mask."""
    hit = content & gathered(blank, units)
    return torch.where(hit, torch.full_like(ids, mask_token_id), ids)


def spans_to_noise(
    content: torch.Tensor,
    units: torch.Tensor,
    unit_count: torch.Tensor,
    starts: torch.Tensor,
    lengths: torch.Tensor,
    valid: torch.Tensor,
) -> torch.Tensor:
    """Positions covered by spans given in unit space (span j covers units starts[j] .. starts[j] + lengths[j] - 1;
    spans end at or before the sample's unit count)."""
    n = content.shape[0]
    edges = torch.zeros((n, width(unit_count) + 1), dtype=torch.int64, device=content.device)
    live = valid & (lengths > 0)
    one = live.to(torch.int64)
    edges.scatter_add_(1, torch.where(live, starts, 0), one)
    edges.scatter_add_(1, torch.where(live, starts + lengths, 0), -one)
    covered = edges.cumsum(1) > 0
    return content & gathered(covered, units)


def span_corruption(
    ids: torch.Tensor,
    real: torch.Tensor,
    special: torch.Tensor,
    noise: torch.Tensor,
    sentinel_ids: torch.Tensor,
    eos_token_id: int | None,
    pad_token_id: int,
    left: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """T5's span corruption: each run of noise becomes one sentinel in the inputs (sentinel i for the i-th run of
    the sample); the targets hold each sentinel followed by its run's tokens, then EOS when given, padded with -100.
    Specials end runs. Returns inputs' ids, attention (bool), special (bool; sentinels are special), source map, and
    the targets."""
    n = ids.shape[0]
    start = noise & ~shift_right(noise, False)
    span = start.to(torch.int64).cumsum(1) - 1
    spans = start.sum(1)
    most = width(spans)
    if most > sentinel_ids.numel():
        raise ValueError(
            f"sentinel_ids: a sample has {most} noise spans but only {sentinel_ids.numel()} sentinel ids are given; "
            "give more sentinels (T5 has 100) or lower the noise density"
        )
    sentinel = sentinel_ids[span.clamp(0, max(sentinel_ids.numel() - 1, 0))] if sentinel_ids.numel() else ids
    source = compact(real & (~noise | start), left)
    inputs = take(torch.where(start, sentinel, ids), source, pad_token_id)
    in_special = take(special | start, source, False)
    attention = source >= 0
    noise_before = exclusive_cumsum(noise.to(torch.int64))
    total = noise.sum(1) + spans + (0 if eos_token_id is None else 1)
    out_width = width(total)
    targets = torch.full((n, out_width + 1), -100, dtype=torch.int64, device=ids.device)
    targets.scatter_(1, torch.where(noise, noise_before + span + 1, out_width), ids)
    targets.scatter_(1, torch.where(start, noise_before + span, out_width), sentinel)
    if eos_token_id is not None and n:
        last = torch.where(total > 0, total - 1, out_width)[:, None]
        targets.scatter_(1, last, torch.full_like(last, eos_token_id))
    return inputs, attention, in_special, source, targets[:, :out_width]


def infill_spans(
    ids: torch.Tensor,
    real: torch.Tensor,
    special: torch.Tensor,
    units: torch.Tensor,
    unit_count: torch.Tensor,
    noise: torch.Tensor,
    span_value: torch.Tensor,
    gaps: torch.Tensor,
    insert_value: torch.Tensor,
    replace_length: int,
    left: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """BART's text infilling: each run of noise becomes one token (`replace_length` 1: span_value at the run's
    first position), nothing (0), or one token per noised token (-1); insertions put insert_value[i, j] before unit
    gaps[i, j] (gap == unit count: after the last unit; -1: none). Returns ids, attention, special, source map."""
    n, length = ids.shape
    rank = real_rank(real)
    start = noise & ~shift_right(noise, False)
    if replace_length == 1:
        kept, replaced = real & (~noise | start), start
    elif replace_length == 0:
        kept, replaced = real & ~noise, torch.zeros_like(noise)
    else:
        kept, replaced = real, noise
    values = torch.where(replaced, span_value, ids)
    keys = torch.where(kept, 2 * rank + 1, torch.full_like(rank, BIG))
    content = real & ~special
    columns = width(unit_count) + 1
    first = torch.full((n, columns), BIG, dtype=torch.int64, device=ids.device)
    if length:
        first.scatter_reduce_(1, torch.where(content, units, columns - 1), torch.where(content, rank, BIG), "amin")
        last = torch.where(content, rank, torch.full_like(rank, -1)).max(1).values
        first.scatter_(1, unit_count[:, None], (last + 1)[:, None])
    insert_keys = torch.where(gaps >= 0, 2 * gathered(first, gaps), torch.full_like(gaps, BIG))
    all_keys = torch.cat([keys, insert_keys], dim=1)
    all_values = torch.cat([values, insert_value.to(ids.dtype)], dim=1)
    positions = torch.arange(length, device=ids.device).expand(n, length)
    all_source = torch.cat([positions, torch.full_like(gaps, -1)], dim=1)
    all_special = torch.cat([special, torch.zeros_like(gaps, dtype=torch.bool)], dim=1)
    order = torch.sort(all_keys, dim=1, stable=True).indices
    sorted_keys = all_keys.gather(1, order)
    items = take(order, compact(sorted_keys < BIG, left), -1)
    out_ids = take(all_values, items, 0)
    source = take(all_source, items, -1)
    out_special = take(all_special, items, False)
    return out_ids, items >= 0, out_special, source


def sentence_index(content: torch.Tensor, ends: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each content token's sentence (numbered from 0 per sample; -1 off content) and each sample's sentence count.
    A sentence ends at a content token in `ends` not followed by another one (so '...' stays whole), or at the
    last content token."""
    rank = real_rank(content)
    count = content.sum(1)
    if content.shape[1] == 0:
        return rank, count
    ending = content & ends
    slots = _content_slots(content)
    ending_by_rank = ending.gather(1, slots)  # sentence ends in content order
    next_ending = torch.cat([ending_by_rank[:, 1:], torch.zeros_like(ending_by_rank[:, :1])], dim=1)
    last_rank = torch.arange(content.shape[1], device=content.device)[None, :] == (count - 1)[:, None]
    closes = (ending_by_rank & ~next_ending) | last_rank
    closes = closes & (torch.arange(content.shape[1], device=content.device)[None, :] < count[:, None])
    sentence_by_rank = exclusive_cumsum(closes.to(torch.int64))
    sentence = torch.where(content, sentence_by_rank.gather(1, rank.clamp(min=0)), torch.full_like(rank, -1))
    return sentence, closes.sum(1)


def permute_sentences(content: torch.Tensor, sentence: torch.Tensor, ordering: torch.Tensor) -> torch.Tensor:
    """BART's sentence permutation: ordering[i, q] is the sentence placed q-th; content tokens move with their
    sentence, specials stay. Source map (N, L)."""
    n, sentences = ordering.shape
    if sentences == 0 or content.shape[1] == 0:
        return torch.arange(content.shape[1], device=content.device).expand(n, -1).clone()
    where = torch.where(content, sentence, 0)
    lengths = torch.zeros((n, sentences), dtype=torch.int64, device=content.device)
    lengths.scatter_add_(1, where, content.to(torch.int64))
    old_start = exclusive_cumsum(lengths)
    slot_start = exclusive_cumsum(lengths.gather(1, ordering))
    slot_of = torch.empty_like(ordering).scatter_(
        1, ordering, torch.arange(sentences, device=content.device).expand(n, -1)
    )
    new_start = slot_start.gather(1, slot_of)
    rank = real_rank(content)
    new_rank = new_start.gather(1, where) + rank - old_start.gather(1, where)
    return _place(content, torch.where(content, new_rank, 0))


def rotate_content(content: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """fairseq's document rotation: content rank `offset` comes first, the content before it goes last; specials
    stay. Source map (N, L)."""
    rank = real_rank(content)
    count = content.sum(1).clamp(min=1)
    new_rank = torch.remainder(rank - offset[:, None], count[:, None])
    return _place(content, torch.where(content, new_rank, 0))
