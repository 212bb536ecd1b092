"""A collator that pads tokenized examples and noises the batch: `collate_fn` of a torch DataLoader and
`data_collator` of the Hugging Face Trainer.

    collate = TokenCollator(MaskedLM(tokenizer, seed=0), tokenizer)
    loader = DataLoader(IndexedDataset(dataset), sampler=EpochSampler(dataset, shuffle=True, seed=0),
                        batch_size=32, collate_fn=collate)

Each example is a mapping (input_ids and optionally attention_mask, special_tokens_mask, token_type_ids, word_ids,
labels, index), a sequence of ids, or an `Indexed` item of `mithridate.integrations.torch` wrapping one. A sample's
noise is keyed by its dataset index (the `index` entry, or the Indexed item's) and its epoch (the Indexed item's,
drawn by EpochSampler in the main process, else the collator's `epoch`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from ...integrations.torch import Indexed
from .policies import TokenPolicy

__all__ = ["TokenCollator"]

# Per-token entries and their padding values (input_ids: the pad id).
_PADS = {"attention_mask": 0, "special_tokens_mask": 1, "token_type_ids": 0, "word_ids": -1, "labels": -100}
# Entries used for noising and dropped from the output (models do not take them).
_BOOKKEEPING = ("special_tokens_mask", "word_ids", "offset_mapping", "index")


def _check_epoch(epoch: Any) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch: expected a non-negative integer, got {epoch!r}")
    return int(epoch)


def _sequence(name: str, value: Any) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        if isinstance(value, (list, tuple)) and name == "word_ids":
            value = [-1 if w is None else w for w in value]
        tensor = torch.as_tensor(np.asarray(value))
    if tensor.dim() == 0:
        raise ValueError(f"{name}: expected one sequence per example, got a scalar")
    return tensor


class TokenCollator:
    """Pad a list of tokenized examples into a batch and noise it with a token policy (None: only pad).

    `tokenizer` (optional) gives the pad id and padding side; else the policy's vocab pad id and right padding.
    `pad_to_multiple_of` rounds the padded length up. `epoch` (or `set_epoch`) keys the noise of examples that carry
    no epoch. The output is a dict of tensors: input_ids, attention_mask, labels (the policy's label_key), and the
    examples' other entries (token_type_ids moved along with the tokens); special_tokens_mask, word_ids,
    offset_mapping and index are used and dropped unless `keep_bookkeeping`.
    """

    def __init__(
        self,
        policy: TokenPolicy | None,
        tokenizer: Any = None,
        *,
        pad_to_multiple_of: int | None = None,
        epoch: int = 0,
        keep_bookkeeping: bool = False,
    ) -> None:
        if policy is not None and not isinstance(policy, TokenPolicy):
            raise TypeError(f"policy: expected a mithridate token policy or None, got {type(policy).__name__}")
        if pad_to_multiple_of is not None and (
            isinstance(pad_to_multiple_of, bool) or not isinstance(pad_to_multiple_of, int) or pad_to_multiple_of < 1
        ):
            raise ValueError(f"pad_to_multiple_of: expected a positive integer or None, got {pad_to_multiple_of!r}")
        self.policy = policy
        self.tokenizer = tokenizer
        self.pad_to_multiple_of = pad_to_multiple_of
        self.epoch = _check_epoch(epoch)
        self.keep_bookkeeping = bool(keep_bookkeeping)
        self._warned = False

    def set_epoch(self, epoch: int) -> None:
        """The epoch of examples that carry none (DataLoader workers keep the copy they started with: with
        persistent workers, draw the epoch with the indices through EpochSampler and IndexedDataset instead)."""
        self.epoch = _check_epoch(epoch)

    def _pad_id(self) -> int | None:
        pad = getattr(self.tokenizer, "pad_token_id", None)
        if pad is None and self.policy is not None:
            pad = self.policy.vocab.pad_token_id
        return pad

    def _padding_side(self) -> str:
        side = getattr(self.tokenizer, "padding_side", "right")
        return side if side in ("left", "right") else "right"

    def _keys(self, items: list[Indexed]) -> tuple[int, torch.Tensor | None]:
        epochs = {item.epoch for item in items}
        if len(epochs) > 1:
            shown = sorted(epochs, key=lambda e: (e is None, e or 0))
            raise ValueError(
                f"TokenCollator: one batch holds examples of epochs {shown}; "
                "a batch's keys must come from one epoch's sampler iterator (EpochSampler draws them so)"
            )
        carried = epochs.pop()
        epoch = self.epoch if carried is None else int(carried)
        has_progress = [item.progress is not None for item in items]
        if all(has_progress):
            return epoch, torch.tensor([item.progress for item in items], dtype=torch.float64)
        if any(has_progress):
            raise ValueError("TokenCollator: some examples of the batch carry a training progress and some do not")
        return epoch, None

    def collate(self, examples: Sequence[Any]) -> dict[str, Any]:
        """Pad examples (mappings or sequences of ids) into a dict of tensors, without noise."""
        rows = [dict(example) if isinstance(example, Mapping) else {"input_ids": example} for example in examples]
        if not rows:
            return {"input_ids": torch.zeros((0, 0), dtype=torch.int64), "attention_mask": torch.zeros((0, 0))}
        if any("input_ids" not in row for row in rows):
            raise ValueError("examples: expected each example to hold 'input_ids' (or to be a sequence of ids)")
        ids = [_sequence("input_ids", row["input_ids"]) for row in rows]
        lengths = [len(sequence) for sequence in ids]
        longest = max(lengths)
        if self.pad_to_multiple_of:
            longest = -(-longest // self.pad_to_multiple_of) * self.pad_to_multiple_of
        side = self._padding_side()
        pad_id = self._pad_id()
        if pad_id is None and (len(set(lengths)) > 1 or longest != lengths[0]):
            raise ValueError(
                "TokenCollator: examples of different lengths need a pad id: give tokenizer= or a policy whose vocab "
                "has pad_token_id"
            )
        batch: dict[str, Any] = {}
        for key in rows[0]:
            values = [row.get(key) for row in rows]
            if any(value is None for value in values):
                if key == "word_ids":
                    raise ValueError("word_ids: expected every example or none to hold word_ids")
                batch[key] = values
                continue
            sequences = None
            per_token = key in ("input_ids", "attention_mask", "special_tokens_mask", "word_ids", "offset_mapping")
            if per_token:
                sequences = [_sequence(key, value) for value in values]
            elif not isinstance(values[0], (str, bytes)) and isinstance(
                values[0], (Sequence, np.ndarray, torch.Tensor)
            ):
                candidate = [_sequence(key, value) if np.ndim(value) else None for value in values]
                if all(c is not None and len(c) == n for c, n in zip(candidate, lengths, strict=True)):
                    sequences = candidate  # type: ignore[assignment]
            if sequences is not None:
                if [len(s) for s in sequences] != lengths:
                    raise ValueError(f"{key}: expected one value per token of each example's input_ids")
                fill = pad_id if key == "input_ids" else _PADS.get(key, 0)
                padded = pad_sequence(sequences, batch_first=True, padding_value=fill, padding_side=side)
                if padded.shape[1] < longest:
                    extra = torch.full(
                        (len(rows), longest - padded.shape[1], *padded.shape[2:]), fill, dtype=padded.dtype
                    )
                    padded = torch.cat([extra, padded] if side == "left" else [padded, extra], dim=1)
                batch[key] = padded
            else:
                try:
                    batch[key] = torch.as_tensor(np.asarray(values))
                except (TypeError, ValueError):
                    batch[key] = values
        if "attention_mask" not in batch:
            position = torch.arange(longest)[None, :]
            size = torch.tensor(lengths)[:, None]
            batch["attention_mask"] = (position >= longest - size if side == "left" else position < size).long()
        batch["input_ids"] = batch["input_ids"].to(torch.int64)
        return batch

    def __call__(self, examples: Sequence[Any]) -> dict[str, Any]:
        items = list(examples)
        indexed = bool(items) and all(isinstance(item, Indexed) for item in items)
        epoch, progress = self._keys(items) if indexed else (self.epoch, None)
        samples = [item.sample for item in items] if indexed else items
        batch = self.collate(samples)
        if indexed:
            index: Any = torch.tensor([item.index for item in items], dtype=torch.int64)
        elif "index" in batch:
            index = batch["index"]
            if not isinstance(index, torch.Tensor) or index.dim() != 1:
                raise ValueError("index: expected one integer dataset index per example")
        else:
            index = None
        if self.policy is not None:
            if index is None and not self._warned and items:
                warnings.warn(
                    "TokenCollator: examples carry no dataset index (an 'index' entry, or IndexedDataset items); the "
                    "noise then depends on the batch order and on the number of DataLoader workers",
                    UserWarning,
                    stacklevel=2,
                )
                self._warned = True
            batch = self.policy(batch, index=index, epoch=epoch, progress=progress)
        if not self.keep_bookkeeping:
            batch = {key: value for key, value in batch.items() if key not in _BOOKKEEPING}
        return batch
