"""Compiled CPU paths (numba) of `MaskedLM` and `DenoisingNoise` calls: draws and surgery in one loop per sample.

On small padded batches (a few hundred sentences of a dozen tokens) the torch path spends nearly all its time
dispatching some 100-200 tiny tensor ops. Here each sample's draws come from the same counter-based words as
`rng.Key` (`_backend.rng_compiled.base_word`, `hash32`, `uniform`: the keyed stream words of the policy's streams) and
the surgery (units, shuffle, dropout, blank; MLM choice and replacement) runs in one compiled pass per sample,
so the outputs equal the torch path's exactly (tests compare both on random batches). `available()` is False
without numba or with MITHRIDATE_NATIVE=0; CUDA tensors always take the torch path.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..._backend.compiled import njit
from ..._backend.rng_compiled import base_word, hash32, uniform

__all__ = ["denoise", "masked_lm", "scan_batch"]

_MASK = np.uint64(0xFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B9)
_S32 = np.uint64(32)


@njit(nogil=True, cache=True, inline="always")
def _salt(column, k1):
    """The draw word of column `column` of a stream (as `_backend.rng_compiled.salts`)."""
    return hash32((np.uint64(column) * _GOLDEN + k1) & _MASK)


@njit(nogil=True, cache=True, inline="always")
def _salts(keys1, columns):
    """The draw words of columns 0 .. columns - 1 of each stream, shared by every sample: (streams, columns)."""
    table = np.empty((keys1.shape[0], columns), np.uint64)
    for s in range(keys1.shape[0]):
        for column in range(columns):
            table[s, column] = _salt(column, keys1[s])
    return table


@njit(nogil=True, cache=True, inline="always")
def _uniform64(base, salt):
    """A stream's uniform draw (base: the sample's word, salt: the column's), float32 widened to float64 (as
    `_draws.uniform`)."""
    return np.float64(uniform(base, salt))


@njit(nogil=True, cache=True, inline="always")
def _word(base, salt):
    """A stream's 32-bit word, as int64 (as `Key.bits`)."""
    return np.int64(hash32(base ^ salt))


@njit(nogil=True, cache=True, inline="always")
def _units(real, special, words, has_words, i, length, units):
    """The unit of each content position of row i (as `_draws.unit_index`), -1 off content; returns the count."""
    count = 0
    for j in range(length):
        content = real[i, j] and not special[i, j]
        if not content:
            units[j] = -1
            continue
        start = True
        if has_words and j > 0:
            previous = real[i, j - 1] and not special[i, j - 1]
            same = words[i, j] == words[i, j - 1] and words[i, j] >= 0
            start = not (previous and same)
        if start:
            count += 1
        units[j] = count - 1
    return count


@njit(nogil=True, cache=True)
def _masked_lm(
    ids, real, special, words, has_words, index, keys0, keys1, p, strength, rate, mask_p, random_p, mask_id,
    allowed, out, labels,
):  # fmt: skip
    """MaskedLM's draw and apply; streams in keys: gate, choose, action, random."""
    n, length = ids.shape
    units = np.empty(length, np.int64)
    size = np.int64(allowed.shape[0])
    salt = _salts(keys1, length + 1)
    for i in range(n):
        gate_base = base_word(index[i], keys0[0])
        touched = _uniform64(gate_base, salt[0, 0]) < p[i] and strength[i] > 0
        for j in range(length):
            out[i, j] = ids[i, j]
            labels[i, j] = -100
        if not touched:
            continue
        chance = min(max(rate * strength[i], 0.0), 1.0)
        _units(real, special, words, has_words, i, length, units)
        choose_base = base_word(index[i], keys0[1])
        action_base = base_word(index[i], keys0[2])
        random_base = base_word(index[i], keys0[3])
        rank = -1
        for j in range(length):
            if real[i, j]:
                rank += 1
            unit = units[j]
            if unit < 0:
                continue
            if not (_uniform64(choose_base, salt[1, unit]) < chance):
                continue
            labels[i, j] = ids[i, j]
            u = _uniform64(action_base, salt[2, rank])
            if u < mask_p:
                if mask_id >= 0:
                    out[i, j] = mask_id
            elif u < random_p and size > 0:
                out[i, j] = allowed[(_word(random_base, salt[3, rank]) * size) >> 32]


@njit(nogil=True, cache=True)
def _kept_counts(ids, real, special, words, has_words, index, keys0, keys1, p, strength, drop_rate, salt):
    """Each row's output length under DenoisingNoise (its real tokens less those of the dropped units): the same
    draws as `_denoise`, so that the output can be allocated at its final width."""
    n, length = ids.shape
    unit_tokens = np.zeros(length + 1, np.int64)
    kept_counts = np.zeros(n, np.int64)
    for i in range(n):
        count = 0
        real_count = 0
        previous = False
        for j in range(length):
            if not real[i, j]:
                previous = False
                continue
            real_count += 1
            if special[i, j]:
                previous = False
                continue
            start = True
            if has_words and previous:
                start = not (words[i, j] == words[i, j - 1] and words[i, j] >= 0)
            previous = True
            if start:
                unit_tokens[count] = 0
                count += 1
            unit_tokens[count - 1] += 1
        kept = real_count
        touched = _uniform64(base_word(index[i], keys0[0]), salt[0, 0]) < p[i] and strength[i] > 0
        dropping = min(max(drop_rate * strength[i], 0.0), 1.0) if touched else 0.0
        if dropping > 0.0 and count > 0:
            drop_base = base_word(index[i], keys0[2])
            lost = 0
            dropped = 0
            for u in range(count):
                if _uniform64(drop_base, salt[2, u]) < dropping:
                    dropped += 1
                    lost += unit_tokens[u]
            if dropped == count:  # XLM keeps at least one word
                spared = (_word(base_word(index[i], keys0[3]), salt[3, 0]) * np.int64(count)) >> 32
                lost -= unit_tokens[spared]
            kept -= lost
        kept_counts[i] = kept
    return kept_counts


@njit(nogil=True, cache=True)
def _denoise_all(
    ids, real, special, words, has_words, index, keys0, keys1, p, strength, shuffle_rate, drop_rate, blank_rate,
    mask_id, pad_id, left, mask_like, special_like,
):  # fmt: skip
    """DenoisingNoise's outputs at their final width (the longest output): ids, attention, special, source map
    and labels (the labels at the input's width); the masks in the dtypes of `mask_like` and `special_like`."""
    n, length = ids.shape
    salt = _salts(keys1, length + 1)
    kept_counts = _kept_counts(ids, real, special, words, has_words, index, keys0, keys1, p, strength, drop_rate, salt)
    most = 0
    for i in range(n):
        most = max(most, kept_counts[i])
    out = np.empty((n, most), np.int64)
    out_real = np.empty((n, most), mask_like.dtype)
    out_special = np.empty((n, most), special_like.dtype)
    source = np.empty((n, most), np.int64)
    labels = np.empty((n, length), np.int64)
    _denoise(
        ids, real, special, words, has_words, index, keys0, keys1, p, strength, shuffle_rate, drop_rate, blank_rate,
        mask_id, pad_id, left, out, out_real, out_special, source, labels, kept_counts, salt,
    )  # fmt: skip
    return out, out_real, out_special, source, labels


@njit(nogil=True, cache=True)
def _denoise(
    ids, real, special, words, has_words, index, keys0, keys1, p, strength, shuffle_rate, drop_rate, blank_rate,
    mask_id, pad_id, left, out, out_real, out_special, source, labels, kept_counts, salt,
):  # fmt: skip
    """DenoisingNoise's draw and apply into (N, W) buffers, W the longest output (right-aligned when `left`);
    streams in keys: gate, shuffle, drop, keep, blank; kept_counts: each row's output length (`_kept_counts`)."""
    n, length = ids.shape
    width = out.shape[1]
    units = np.empty(length, np.int64)
    noise = np.empty(length + 1, np.float64)
    drop = np.empty(length + 1, np.bool_)
    blank = np.empty(length + 1, np.bool_)
    order = np.empty(length, np.int64)
    score = np.empty(length, np.float64)
    segment = np.empty(length, np.int64)
    for i in range(n):
        # The span [lo, hi) from the first to the last real position; outside it only padding (filled in bulk).
        lo, hi = 0, length
        while hi > 0 and not real[i, hi - 1]:
            hi -= 1
        while lo < hi and not real[i, lo]:
            lo += 1
        labels[i, :lo] = -100
        labels[i, hi:] = -100
        # One pass: labels, units (as `_draws.unit_index`), each unit's tokens, the content in order.
        count = 0
        m = 0
        seg = 0
        real_count = 0
        previous = False
        for j in range(lo, hi):
            is_real = real[i, j]
            labels[i, j] = ids[i, j] if is_real else -100
            content = is_real and not special[i, j]
            if not content:
                units[j] = -1
                previous = False
                if is_real:
                    real_count += 1
                    seg += 1
                continue
            real_count += 1
            start = True
            if has_words and previous:
                start = not (words[i, j] == words[i, j - 1] and words[i, j] >= 0)
            previous = True
            if start:
                count += 1
            units[j] = count - 1
            order[m] = j
            segment[m] = seg
            m += 1
        gate_base = base_word(index[i], keys0[0])
        touched = _uniform64(gate_base, salt[0, 0]) < p[i] and strength[i] > 0
        s = strength[i]
        shuffle = shuffle_rate * s if touched else 0.0
        dropping = min(max(drop_rate * s, 0.0), 1.0) if touched else 0.0
        blanking = min(max(blank_rate * s, 0.0), 1.0) if touched else 0.0
        dropped = 0
        if shuffle != 0.0:
            shuffle_base = base_word(index[i], keys0[1])
            for u in range(count):
                noise[u] = _uniform64(shuffle_base, salt[1, u]) * shuffle
        if dropping > 0.0:
            drop_base = base_word(index[i], keys0[2])
            for u in range(count):
                drop[u] = _uniform64(drop_base, salt[2, u]) < dropping
                if drop[u]:
                    dropped += 1
        else:
            drop[:count] = False
        if blanking > 0.0:
            blank_base = base_word(index[i], keys0[4])
            for u in range(count):
                blank[u] = _uniform64(blank_base, salt[4, u]) < blanking
        else:
            blank[:count] = False
        if count > 0 and dropped == count:  # XLM keeps at least one word
            keep_base = base_word(index[i], keys0[3])
            drop[(_word(keep_base, salt[3, 0]) * np.int64(count)) >> 32] = False
        kept = kept_counts[i]
        # Shuffle: content positions sorted stably by (segment, unit + noise); specials stay.
        if shuffle != 0.0:
            for a in range(m):
                score[a] = np.float64(units[order[a]]) + noise[units[order[a]]]
            for a in range(1, m):  # insertion sort: stable, and near-linear for scores that move little
                position, key_score, key_segment = order[a], score[a], segment[a]
                b = a - 1
                while b >= 0 and (segment[b] > key_segment or (segment[b] == key_segment and score[b] > key_score)):
                    order[b + 1], score[b + 1], segment[b + 1] = order[b], score[b], segment[b]
                    b -= 1
                order[b + 1], score[b + 1], segment[b + 1] = position, key_score, key_segment
        # Dropout and packing (content slot c takes order[c]), then blanking; padding around, in bulk.
        first = width - kept if left else 0
        out[i, :first] = pad_id
        out_real[i, :first] = False
        out_special[i, :first] = False
        source[i, :first] = -1
        at = first
        c = 0
        for j in range(lo, hi):
            if not real[i, j]:
                continue
            if units[j] < 0:
                origin = j
                unit = -1
            else:
                origin = order[c]
                c += 1
                unit = units[origin]
                if drop[unit]:
                    continue
            out_real[i, at] = True
            out_special[i, at] = special[i, j]
            source[i, at] = origin
            out[i, at] = mask_id if unit >= 0 and mask_id >= 0 and blank[unit] else ids[i, origin]
            at += 1
        out[i, at:] = pad_id
        out_real[i, at:] = False
        out_special[i, at:] = False
        source[i, at:] = -1


@njit(nogil=True, cache=True)
def _scan(ids, attention, has_attention, special_mask, has_special, is_special, vocab_size, real, special):
    """One pass over a batch: the real and special masks (bool) and the checks of `batch.read_tokens` (0/1 masks, ids
    in [0, vocab_size) at real positions; vocab_size < 0: no upper bound). Returns (status, left): status 0 when
    every check passed, else 1 (attention_mask), 2 (special_tokens_mask) or 3 (an id); left: some row is padded on
    the left (its first position padding, its last real)."""
    n, length = ids.shape
    listed = is_special.shape[0]
    for i in range(n):
        for j in range(length):
            is_real = True
            if has_attention:
                value = attention[i, j]
                if value != 0 and value != 1:
                    return 1, False
                is_real = value == 1
            real[i, j] = is_real
            token = ids[i, j]
            if is_real and (token < 0 or (vocab_size >= 0 and token >= vocab_size)):
                return 3, False
            if has_special:
                value = special_mask[i, j]
                if value != 0 and value != 1:
                    return 2, False
                special[i, j] = is_real and value == 1
            else:
                special[i, j] = is_real and 0 <= token < listed and is_special[token]
    left = False
    if length:
        for i in range(n):
            if real[i, length - 1] and not real[i, 0]:
                left = True
                break
    return 0, left


_NONE = np.zeros((1, 1), np.int64)


def scan_batch(
    ids: torch.Tensor,
    attention: torch.Tensor | None,
    special_mask: torch.Tensor | None,
    vocab_size: int | None,
    special_ids: tuple[int, ...],
) -> tuple[torch.Tensor, torch.Tensor, bool] | None:
    """The real and special masks of a CPU batch and whether it is left-padded, checked in one compiled pass (the
    same checks as `read_tokens`' torch path); None when a check fails, so that the torch path names the error."""
    real = np.empty(tuple(ids.shape), np.bool_)
    special = np.empty(tuple(ids.shape), np.bool_)
    status, left = _scan(
        ids.numpy(), _NONE if attention is None else attention.numpy(), attention is not None,
        _NONE if special_mask is None else special_mask.numpy(), special_mask is not None,
        _special_table(special_ids), -1 if vocab_size is None else int(vocab_size), real, special,
    )  # fmt: skip
    if status:
        return None
    return torch.from_numpy(real), torch.from_numpy(special), bool(left)


@functools.lru_cache(maxsize=64)
def _special_table(special_ids: tuple[int, ...]) -> np.ndarray:
    """A lookup table: is_special[id] for ids up to the largest special id."""
    table = np.zeros(max(special_ids, default=-1) + 1, np.bool_)
    table[list(special_ids)] = True
    return table


@functools.lru_cache(maxsize=256)
def _keys(key, streams) -> tuple[np.ndarray, np.ndarray]:
    """The (k0, k1) words of each stream of a `Key` (cached: a policy asks for the same few, epoch after epoch)."""
    words = [key._stream_words(stream, 0) for stream in streams]
    return np.array([w[0] for w in words], np.uint64), np.array([w[1] for w in words], np.uint64)


def _words(words: torch.Tensor | None, shape: tuple[int, int]) -> tuple[np.ndarray, bool]:
    if words is None:
        return np.zeros((1, 1), np.int64), False
    return np.ascontiguousarray(words.to(torch.int64).numpy()), True


@functools.lru_cache(maxsize=32)
def _like(dtype: torch.dtype | None) -> np.ndarray:
    """An empty array of the numpy dtype of a torch dtype (bool for None or a dtype numpy lacks, as bfloat16)."""
    try:
        return torch.empty(0, dtype=dtype or torch.bool).numpy()
    except TypeError:
        return np.empty(0, np.bool_)


def _array(values: torch.Tensor | np.ndarray, dtype) -> np.ndarray:
    return np.ascontiguousarray(values.numpy() if isinstance(values, torch.Tensor) else values, dtype=dtype)


def masked_lm(
    ids, real, special, words, key, index, streams, p, strength, rate, mask_p, random_p, mask_id, allowed
) -> tuple[torch.Tensor, torch.Tensor]:
    """MaskedLM's ids and labels (int64, (N, L)) for CPU tensors; streams: gate, choose, action, random."""
    keys0, keys1 = _keys(key, streams)
    word_array, has_words = _words(words, tuple(ids.shape))
    ids_array = _array(ids, np.int64)
    out = np.empty_like(ids_array)
    labels = np.empty_like(ids_array)
    _masked_lm(
        ids_array, _array(real, np.bool_), _array(special, np.bool_), word_array, has_words,
        _array(index, np.int64), keys0, keys1, _array(p, np.float64), _array(strength, np.float64), float(rate),
        float(mask_p), float(random_p), -1 if mask_id is None else int(mask_id),
        np.zeros(0, np.int64) if allowed is None else _array(allowed, np.int64), out, labels,
    )  # fmt: skip
    return torch.from_numpy(out), torch.from_numpy(labels)


def denoise(
    ids,
    real,
    special,
    words,
    key,
    index,
    streams,
    p,
    strength,
    shuffle_rate,
    drop_rate,
    blank_rate,
    mask_id,
    pad_id,
    left,
    mask_dtype: torch.dtype | None = None,
    special_dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """DenoisingNoise's ids, attention, special, labels and source map for CPU tensors, re-padded to the longest
    output; streams: gate, shuffle, drop, keep, blank. The attention and special masks come in `mask_dtype` and
    `special_dtype` (bool for None), so that writing the output converts nothing."""
    keys0, keys1 = _keys(key, streams)
    word_array, has_words = _words(words, tuple(ids.shape))
    outputs = _denoise_all(
        _array(ids, np.int64), _array(real, np.bool_), _array(special, np.bool_), word_array, has_words,
        _array(index, np.int64), keys0, keys1, _array(p, np.float64), _array(strength, np.float64),
        float(shuffle_rate), float(drop_rate), float(blank_rate), -1 if mask_id is None else int(mask_id),
        int(pad_id), bool(left), _like(mask_dtype), _like(special_dtype),
    )  # fmt: skip
    ids_out, real_out, special_out, source_out, labels = (torch.from_numpy(a) for a in outputs)
    return ids_out, real_out, special_out, labels, source_out
