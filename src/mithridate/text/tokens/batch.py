"""Token batches: padded (N, L) ids from any tokenizer with their masks, validated in one place.

`TokenVocab` holds the ids the noise needs (vocabulary size, pad, mask, EOS, special and sentinel ids), from a
Hugging Face tokenizer or given by hand. `TokenBatch` is the input and output of the policies when they are
given bare tensors; a dict or `BatchEncoding` comes back as the same kind of mapping.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch

from ..._backend.switch import native_enabled

__all__ = ["TokenBatch", "TokenVocab", "as_vocab", "word_ids_from_offsets"]

_SENTINEL = re.compile(r"^<extra_id_(\d+)>$")


def check_id(name: str, value: Any, vocab_size: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected a token id (an integer) or None, got {type(value).__name__}")
    value = int(value)
    if value < 0 or (vocab_size is not None and value >= vocab_size):
        bound = f"[0, vocab_size={vocab_size})" if vocab_size is not None else ">= 0"
        raise ValueError(f"{name}: expected a token id in {bound}, got {value}")
    return value


def check_ids(name: str, values: Any, vocab_size: int | None) -> tuple[int, ...]:
    if values is None:
        return ()
    if isinstance(values, (str, bytes)) or not isinstance(values, (Iterable, torch.Tensor, np.ndarray)):
        raise TypeError(f"{name}: expected a sequence of token ids, got {type(values).__name__}")
    items = values.tolist() if isinstance(values, (torch.Tensor, np.ndarray)) else list(values)
    return tuple(check_id(f"{name}[{i}]", v, vocab_size) for i, v in enumerate(items))  # type: ignore[misc]


@dataclass(frozen=True)
class TokenVocab:
    """The ids that token noise needs.

    `vocab_size` bounds the ids (random tokens are drawn below it) and `special_ids` are never noised (when a
    batch has no `special_tokens_mask`) nor drawn as random tokens; `pad_token_id` fills the padding of batches
    whose length changes; `mask_token_id` is the mask (BERT's [MASK], BART's <mask>); `eos_token_id` ends T5
    targets when given; `sentinel_ids` are T5's `<extra_id_0>, <extra_id_1>, ...` in order.
    """

    vocab_size: int | None = None
    pad_token_id: int | None = None
    mask_token_id: int | None = None
    eos_token_id: int | None = None
    special_ids: tuple[int, ...] = ()
    sentinel_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        size = self.vocab_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1):
            raise ValueError(f"vocab_size: expected a positive number of token ids, got {size!r}")
        size = None if size is None else int(size)
        object.__setattr__(self, "vocab_size", size)
        for name in ("pad_token_id", "mask_token_id", "eos_token_id"):
            object.__setattr__(self, name, check_id(name, getattr(self, name), size))
        object.__setattr__(self, "special_ids", tuple(sorted(set(check_ids("special_ids", self.special_ids, size)))))
        sentinels = check_ids("sentinel_ids", self.sentinel_ids, size)
        if len(set(sentinels)) != len(sentinels):
            raise ValueError("sentinel_ids: expected distinct ids, got a repeated one")
        object.__setattr__(self, "sentinel_ids", sentinels)

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> TokenVocab:
        """The ids of a Hugging Face tokenizer: `len(tokenizer)`, its pad, mask and EOS ids, `all_special_ids`, and
        the `<extra_id_N>` tokens in the order of N."""
        if not hasattr(tokenizer, "all_special_ids") or not hasattr(tokenizer, "__len__"):
            raise TypeError(
                f"tokenizer: expected a Hugging Face tokenizer (with all_special_ids), got {type(tokenizer).__name__}; "
                "give a TokenVocab(...) for other tokenizers"
            )
        sentinels: list[tuple[int, int]] = []
        vocab = tokenizer.get_vocab() if hasattr(tokenizer, "get_vocab") else {}
        for token, token_id in vocab.items():
            match = _SENTINEL.match(token)
            if match:
                sentinels.append((int(match.group(1)), int(token_id)))
        return cls(
            vocab_size=len(tokenizer),
            pad_token_id=getattr(tokenizer, "pad_token_id", None),
            mask_token_id=getattr(tokenizer, "mask_token_id", None),
            eos_token_id=getattr(tokenizer, "eos_token_id", None),
            special_ids=tuple(tokenizer.all_special_ids),
            sentinel_ids=tuple(token_id for _, token_id in sorted(sentinels)),
        )


def as_vocab(vocab: Any) -> TokenVocab:
    """A TokenVocab from a TokenVocab, a mapping of its fields, a Hugging Face tokenizer or None (no ids known)."""
    if vocab is None:
        return TokenVocab()
    if isinstance(vocab, TokenVocab):
        return vocab
    if isinstance(vocab, Mapping):
        names = {f.name for f in fields(TokenVocab)}
        unknown = sorted(set(vocab) - names)
        if unknown:
            raise ValueError(f"vocab: unknown fields {unknown}; expected some of {sorted(names)}")
        return TokenVocab(**vocab)
    return TokenVocab.from_tokenizer(vocab)


@dataclass(eq=False)
class TokenBatch:
    """A padded batch of token ids and its masks: what the policies return for bare tensors.

    input_ids (N, L) integers; attention_mask (N, L), 1 at real tokens, 0 at padding; special_tokens_mask (N, L),
    1 at special tokens (never noised); labels: the op's targets (-100 where no loss is taken); word_ids (N, L),
    the word of each token (-1 for none), for whole-word noise.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor | None = None
    special_tokens_mask: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    word_ids: torch.Tensor | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    def as_dict(self) -> dict[str, torch.Tensor]:
        """The fields that are set, as a dict (what a model's forward takes, plus any masks)."""
        names = ("input_ids", "attention_mask", "special_tokens_mask", "labels", "word_ids")
        out = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        return {**out, **self.extras}


# Reading ------------------------------------------------------------------------------------------------------


def _as_tensor(name: str, value: Any, device: torch.device | None = None) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value if device is None else value.to(device)
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value) if device is None else torch.from_numpy(value).to(device)
    if isinstance(value, (Sequence, range)) and not isinstance(value, (str, bytes)):
        rows = list(value)
        if rows and all(isinstance(row, (Sequence, torch.Tensor, np.ndarray)) for row in rows):
            lengths = {len(row) for row in rows}
            if len(lengths) > 1:
                raise ValueError(
                    f"{name}: expected a padded (N, L) batch, got sequences of lengths {sorted(lengths)}; pad them "
                    "(tokenizer(..., padding=True)) or collate them with TokenCollator"
                )
        try:
            return torch.as_tensor(np.asarray(rows), device=device)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{name}: expected a tensor or nested lists of numbers, got {error}") from None
    raise TypeError(f"{name}: expected a tensor, an array or nested lists, got {type(value).__name__}")


def _is_integral(tensor: torch.Tensor) -> bool:
    return not (tensor.dtype.is_floating_point or tensor.dtype == torch.bool or tensor.is_complex())


def _zeros_and_ones(mask: torch.Tensor) -> bool:
    """Whether every entry is 0 or 1 (for integers one min/max pass, the common case of a valid mask)."""
    if _is_integral(mask):
        low, high = torch.aminmax(mask)
        return int(low) >= 0 and int(high) <= 1
    return not bool(((mask != 0) & (mask != 1)).any())


def _outside(ids: torch.Tensor, vocab_size: int | None) -> bool:
    """Whether some id, real or padding, is negative or at least vocab_size."""
    low, high = torch.aminmax(ids)
    return int(low) < 0 or (vocab_size is not None and int(high) >= vocab_size)


def _mask_tensor(name: str, value: Any, shape: tuple[int, ...], device: torch.device) -> torch.Tensor | None:
    """A mask as a tensor of the shape of input_ids (its values are checked later), or None when not given."""
    if value is None:
        return None
    mask = _as_tensor(name, value, device)
    if tuple(mask.shape) != shape:
        raise ValueError(f"{name}: expected the shape of input_ids {shape}, got {tuple(mask.shape)}")
    if mask.is_complex():
        raise TypeError(f"{name}: expected 0/1 values (bool, integer or float), got {mask.dtype}")
    return mask


def _check_values(name: str, mask: torch.Tensor) -> torch.Tensor:
    if mask.dtype != torch.bool and mask.numel() and not _zeros_and_ones(mask):
        raise ValueError(f"{name}: expected 0/1 values, got {sorted(set(mask.unique().tolist()))[:5]}")
    return mask


@functools.cache
def _compiled_module() -> Any:
    """Import the compiled CPU paths (`_native`) once; None without numba or a writable cache folder."""
    try:
        from . import _native
    except (ImportError, RuntimeError):  # pragma: no cover - numba missing, or no writable cache folder
        return None
    return _native


def compiled_paths(tensor: torch.Tensor) -> Any:
    """The compiled CPU paths (the `_native` module) for a batch on the CPU, unless MITHRIDATE_NATIVE=0 or numba is
    missing; else None (the torch path runs)."""
    if tensor.device.type != "cpu" or not native_enabled():
        return None
    return _compiled_module()


def _scan_on_host(
    ids: torch.Tensor, attention: torch.Tensor | None, special_mask: torch.Tensor | None, vocab: TokenVocab
) -> tuple[torch.Tensor, torch.Tensor, bool] | None:
    """The masks and checks of a CPU batch in one compiled pass; None where that path does not apply (CUDA, float
    masks, no numba) or a check failed (the torch path then names the error)."""
    native = compiled_paths(ids)
    masks = [m for m in (attention, special_mask) if m is not None]
    if native is None or any(m.dtype.is_floating_point for m in masks):
        return None
    return native.scan_batch(ids, attention, special_mask, vocab.vocab_size, vocab.special_ids)


def _masks_checked(
    ids: torch.Tensor,
    attention: torch.Tensor | None,
    special_mask: torch.Tensor | None,
    lengths: Any,
    vocab: TokenVocab,
    padding_side: str | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The real and special masks (bool), every value checked with tensor ops; a clear error at the first bad one."""
    shape, device = tuple(ids.shape), ids.device
    if attention is not None:
        real = _check_values("attention_mask", attention).bool()
    elif lengths is not None:
        sizes = _as_tensor("lengths", lengths, device).reshape(-1) if not isinstance(lengths, int) else None
        if sizes is None or not _is_integral(sizes) or sizes.shape[0] != shape[0]:
            raise ValueError(f"lengths: expected {shape[0]} integer lengths (one per sample), got {lengths!r}")
        if sizes.numel() and bool(((sizes < 0) | (sizes > shape[1])).any()):
            raise ValueError(f"lengths: expected lengths in [0, L={shape[1]}], got {sizes.tolist()[:8]}")
        real = torch.arange(shape[1], device=device)[None, :] < sizes[:, None]
        if padding_side == "left":
            real = real.flip(1)
    else:
        real = torch.ones(shape, dtype=torch.bool, device=device)
    if real.numel() and _outside(ids, vocab.vocab_size):  # one min/max pass; the masked check only on a hit
        bad = real & ((ids < 0) | (ids >= vocab.vocab_size if vocab.vocab_size is not None else False))
        if bool(bad.any()):
            sample, position = (int(v) for v in bad.nonzero()[0])
            bound = f"[0, vocab_size={vocab.vocab_size})" if vocab.vocab_size is not None else ">= 0"
            raise ValueError(
                f"input_ids: expected token ids in {bound} at real (unpadded) positions, got "
                f"{int(ids[sample, position])} at sample {sample}, position {position}"
            )
    if special_mask is not None:
        special = _check_values("special_tokens_mask", special_mask).bool() & real
    elif vocab.special_ids:
        special = torch.isin(ids, torch.tensor(vocab.special_ids, device=device)) & real
    else:
        special = torch.zeros(shape, dtype=torch.bool, device=device)
    return real, special


def word_ids_from_offsets(offsets: torch.Tensor, special_tokens_mask: torch.Tensor) -> torch.Tensor:
    """Word ids (N, L) from a fast tokenizer's `offset_mapping` (N, L, 2), Hugging Face's whole-word rule: a token
    starts a new word unless it begins where the previous non-special token ends. Special tokens get -1."""
    special = special_tokens_mask.bool()
    starts, ends = offsets[..., 0], offsets[..., 1]
    previous_end = torch.cat([torch.full_like(ends[:, :1], -1), ends[:, :-1]], dim=1)
    previous_special = torch.cat([torch.zeros_like(special[:, :1]), special[:, :-1]], dim=1)
    new_word = ~special & ((starts != previous_end) | previous_special)
    words = new_word.to(torch.int64).cumsum(1) - 1
    return torch.where(special, torch.full_like(words, -1), words)


def _word_ids(value: Any, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        value = [[-1 if w is None else w for w in row] for row in value]
    words = _as_tensor("word_ids", value, device)
    if tuple(words.shape) != shape:
        raise ValueError(f"word_ids: expected the shape of input_ids {shape}, got {tuple(words.shape)}")
    if not _is_integral(words):
        raise TypeError(f"word_ids: expected integer word indices (-1 or None for no word), got {words.dtype}")
    return words.to(torch.int64)


@dataclass
class Tokens:
    """A validated batch, as the ops see it (int64 ids, bool masks), with what is needed to write the output back."""

    ids: torch.Tensor
    real: torch.Tensor
    special: torch.Tensor
    word_ids: torch.Tensor | None
    offsets: torch.Tensor | None
    extras: dict[str, torch.Tensor]
    left: bool
    source: Any
    ids_dtype: torch.dtype
    mask_dtype: torch.dtype | None
    special_dtype: torch.dtype | None

    @property
    def content(self) -> torch.Tensor:
        """Real tokens that may be noised: neither padding nor special."""
        return self.real & ~self.special

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.ids.shape[0]), int(self.ids.shape[1]))


_OWN_KEYS = ("input_ids", "attention_mask", "special_tokens_mask", "word_ids", "offset_mapping")


def read_tokens(
    batch: Any,
    vocab: TokenVocab,
    *,
    attention_mask: Any = None,
    lengths: Any = None,
    special_tokens_mask: Any = None,
    word_ids: Any = None,
    padding_side: str | None = None,
) -> Tokens:
    """Validate a batch: a (N, L) tensor, array or padded lists of ids, a TokenBatch, or a mapping (dict,
    BatchEncoding) with input_ids and optionally attention_mask, special_tokens_mask, word_ids, offset_mapping."""
    given = {"attention_mask": attention_mask, "special_tokens_mask": special_tokens_mask, "word_ids": word_ids}
    offsets = None
    extras: dict[str, Any] = {}
    if isinstance(batch, TokenBatch):
        values = {name: getattr(batch, name) for name in ("attention_mask", "special_tokens_mask", "word_ids")}
        ids_value = batch.input_ids
        extras = dict(batch.extras)
    elif isinstance(batch, Mapping) or (hasattr(batch, "keys") and hasattr(batch, "__getitem__")):
        if "input_ids" not in batch:
            raise ValueError(f"batch: expected a mapping with an 'input_ids' entry, got keys {sorted(batch.keys())}")
        ids_value = batch["input_ids"]
        values = {name: batch[name] for name in ("attention_mask", "special_tokens_mask", "word_ids") if name in batch}
        offsets = batch.get("offset_mapping") if hasattr(batch, "get") else None
        extras = {k: v for k, v in batch.items() if k not in _OWN_KEYS}
    else:
        ids_value, values = batch, {}
    for name, value in given.items():
        if value is not None:
            if values.get(name) is not None:
                raise ValueError(f"{name}: given both in the batch and as an argument; choose one")
            values[name] = value
    ids = _as_tensor("input_ids", ids_value)
    if not _is_integral(ids):
        raise TypeError(f"input_ids: expected integer token ids, got {ids.dtype}")
    if ids.dim() != 2:
        hint = " (use ids[None] for a single sequence)" if ids.dim() == 1 else ""
        raise ValueError(f"input_ids: expected a 2-D (N, L) batch of padded ids, got shape {tuple(ids.shape)}{hint}")
    shape, device = tuple(ids.shape), ids.device
    if values.get("attention_mask") is not None and lengths is not None:
        raise ValueError("lengths: expected an attention_mask or lengths, not both")
    attention = _mask_tensor("attention_mask", values.get("attention_mask"), shape, device)
    special_mask = _mask_tensor("special_tokens_mask", values.get("special_tokens_mask"), shape, device)
    mask_dtype = None if attention is None else attention.dtype
    special_dtype = None if special_mask is None else special_mask.dtype
    ids64 = ids.to(torch.int64)
    scanned = _scan_on_host(ids64, attention, special_mask, vocab) if lengths is None else None
    if scanned is not None:
        real, special, detected_left = scanned
    else:
        real, special = _masks_checked(ids64, attention, special_mask, lengths, vocab, padding_side)
        detected_left = bool(shape[1] and ((~real[:, 0]) & real[:, -1]).any())
    words = None
    if values.get("word_ids") is not None:
        words = _word_ids(values["word_ids"], shape, device)
    offset_tensor = None
    if offsets is not None:
        offset_tensor = _as_tensor("offset_mapping", offsets, device)
        if tuple(offset_tensor.shape) != (*shape, 2):
            raise ValueError(f"offset_mapping: expected shape {(*shape, 2)}, got {tuple(offset_tensor.shape)}")
    if padding_side is None:
        left = detected_left
    elif padding_side in ("left", "right"):
        left = padding_side == "left"
    else:
        raise ValueError(f"padding_side: expected 'left', 'right' or None (as the input), got {padding_side!r}")
    per_token = {k: v for k, v in extras.items() if isinstance(v, torch.Tensor) and tuple(v.shape[:2]) == shape}
    return Tokens(
        ids=ids64,
        real=real,
        special=special,
        word_ids=words,
        offsets=offset_tensor,
        extras=per_token,
        left=left,
        source=batch,
        ids_dtype=ids.dtype,
        mask_dtype=mask_dtype,
        special_dtype=special_dtype,
    )


def encoding_word_ids(batch: Any) -> list[list[int | None]] | None:
    """Word ids of a fast tokenizer's BatchEncoding (one list per sample), or None when it holds no encodings."""
    encodings = getattr(batch, "encodings", None)
    if not encodings:
        return None
    return [encoding.word_ids for encoding in encodings]


# Writing ------------------------------------------------------------------------------------------------------


def _gather(tensor: torch.Tensor, source: torch.Tensor, fill: int | float) -> torch.Tensor:
    """tensor[i, source[i, j], ...] (any trailing dims), `fill` where source is negative."""
    where = source.clamp(min=0)
    if tensor.shape[1] == 0:
        out = torch.full((*source.shape, *tensor.shape[2:]), fill, dtype=tensor.dtype, device=tensor.device)
        return out
    index = where.view(*where.shape, *([1] * (tensor.dim() - 2))).expand(*where.shape, *tensor.shape[2:])
    out = tensor.gather(1, index)
    missing = (source < 0).view(*source.shape, *([1] * (tensor.dim() - 2)))
    return torch.where(missing, torch.full_like(out, fill), out)


def write_tokens(
    tokens: Tokens,
    ids: torch.Tensor,
    real: torch.Tensor,
    special: torch.Tensor,
    labels: torch.Tensor | None,
    source: torch.Tensor | None,
    label_key: str | None,
) -> Any:
    """The output, of the input's kind: a TokenBatch for tensors and TokenBatches, a mapping of the input's type for
    mappings. `source` (N, L') names the input position each output position comes from (-1: none), to move the
    other per-token entries (token_type_ids, word_ids, offsets) along; None when positions did not change."""
    out_ids = ids.to(tokens.ids_dtype)
    mask_dtype = tokens.mask_dtype or torch.int64
    attention = real.to(mask_dtype)
    special_out = special.to(tokens.special_dtype) if tokens.special_dtype is not None else None
    moved: dict[str, torch.Tensor] = {}
    if source is None:
        moved = dict(tokens.extras)
        words, offsets = tokens.word_ids, tokens.offsets
    else:
        # Padding and new tokens: -100 for labels (no loss), 0 for the rest (token_type_ids, offsets).
        moved = {name: _gather(value, source, -100 if name == "labels" else 0) for name, value in tokens.extras.items()}
        words = None if tokens.word_ids is None else _gather(tokens.word_ids, source, -1)
        offsets = None if tokens.offsets is None else _gather(tokens.offsets, source, 0)
    batch = tokens.source
    if isinstance(batch, Mapping) or (hasattr(batch, "keys") and not isinstance(batch, TokenBatch)):
        out = dict(batch.items())
        out["input_ids"] = out_ids
        out["attention_mask"] = attention
        if special_out is not None:
            out["special_tokens_mask"] = special_out
        if "word_ids" in out and words is not None:
            out["word_ids"] = words.to(out["word_ids"].dtype) if isinstance(out["word_ids"], torch.Tensor) else words
        if offsets is not None:
            out["offset_mapping"] = offsets
        out.update(moved)
        if label_key is not None and labels is not None:
            out[label_key] = labels
        if type(batch) is dict:
            return out
        try:
            return type(batch)(out)
        except Exception:  # a mapping type that cannot be built from a dict
            return out
    if special_out is None:
        special_out = special.to(torch.int64)
    return TokenBatch(
        input_ids=out_ids,
        attention_mask=attention,
        special_tokens_mask=special_out,
        labels=labels if label_key is not None else None,
        word_ids=words,
        extras=moved,
    )
