"""mithridate: the string policies (one call per list of sentences, per-sample draws keyed by the index),
MaskedLM and the other token policies on the padded batches, TokenCollator on the tokenized examples."""

from __future__ import annotations

from typing import Any

import torch

from .... import __version__
from ....text.strings import POLICIES
from ....text.tokens import MaskedLM, TokenCollator, TokenVocab, parse_token_policy
from ..cases import TextCase
from ..inputs import TextInputs
from . import Prepared

NAME = "mithridate"
MODE = "batch"
PACKAGE = "mithridate"

EPOCHS = 3
"""Epochs over the sentences from which the mean number of edits per sentence is counted (untimed)."""


def unavailable() -> str | None:
    return None


def version() -> str:
    return __version__


def vocab(inputs: TextInputs) -> TokenVocab:
    """The TokenVocab of the benchmark's tokenizer (every special token is special; sentinels for T5)."""
    info = inputs.vocab
    return TokenVocab(
        vocab_size=info["vocab_size"],
        pad_token_id=info["pad_token_id"],
        mask_token_id=info["mask_token_id"],
        eos_token_id=info["eos_token_id"],
        special_ids=tuple(info["special_ids"]),
        sentinel_ids=tuple(info["sentinel_ids"]),
    )


def _string(name: str, inputs: TextInputs) -> Prepared:
    policy = POLICIES[name](seed=0)
    sentences = inputs.sentences
    index = torch.arange(len(sentences))  # dataset indices, as a sampler gives them
    edits = 0
    for epoch in range(EPOCHS):
        edits += sum(len(result.edits) for result in policy.augment(sentences, index=index, epoch=epoch))
    if name.endswith("swap"):
        edits //= 2  # a swap logs two edits, one per side
    op = policy.op  # type: ignore[attr-defined]
    info = {
        "policy": str(policy),
        "rate": op.reference_rate,
        "rate_unit": op.unit,
        "edits_per_sentence": round(edits / (EPOCHS * len(sentences)), 4),
        "edit": "swaps" if name.endswith("swap") else "edits",
    }
    return Prepared(lambda: policy(sentences, index=index), info)


def _masked_share(labels: list[torch.Tensor], batches: list) -> float:
    chosen = sum(int((label != -100).sum()) for label in labels)
    content = sum(int((b.attention_mask.bool() & ~b.special_tokens_mask.bool()).sum()) for b in batches)
    return round(chosen / max(content, 1), 4)


def _reproducible(policy: MaskedLM, inputs: TextInputs) -> bool:
    """Whether each sample's masking is the same in another batch: the first batch reversed, with 7 more columns
    of padding, against the batch as it is (same seed, epoch and dataset indices)."""
    batch = inputs.batches()[0]
    pad = inputs.vocab["pad_token_id"]
    first = policy(batch.input_ids, attention_mask=batch.attention_mask,
                   special_tokens_mask=batch.special_tokens_mask, index=batch.index)  # fmt: skip
    flipped = [t.flip(0) for t in (batch.input_ids, batch.attention_mask, batch.special_tokens_mask)]
    extra = [torch.nn.functional.pad(t, (0, 7), value=v) for t, v in zip(flipped, (pad, 0, 1), strict=True)]
    second = policy(extra[0], attention_mask=extra[1], special_tokens_mask=extra[2], index=batch.index.flip(0))
    width = batch.input_ids.shape[1]
    return bool(
        torch.equal(first.input_ids, second.input_ids.flip(0)[:, :width])
        and torch.equal(first.labels, second.labels.flip(0)[:, :width])
    )


def _tokens(case: TextCase, inputs: TextInputs) -> Prepared:
    batches = inputs.batches()
    if case.name == "mlm_collator":
        collator = TokenCollator(MaskedLM(vocab(inputs), mlm_probability=0.15, seed=0))
        examples = inputs.examples(with_index=True)
        labels = [collator(batch)["labels"] for batch in examples]
        call = "TokenCollator(MaskedLM(mlm_probability=0.15))(examples)"
        info = {"call": call, "masked": _masked_share(labels, batches)}
        return Prepared(lambda: [collator(batch) for batch in examples], info)
    policy = parse_token_policy(case.name, vocab=vocab(inputs), seed=0)

    def run() -> list[Any]:
        return [
            policy(b.input_ids, attention_mask=b.attention_mask, special_tokens_mask=b.special_tokens_mask,
                   index=b.index)
            for b in batches
        ]  # fmt: skip

    info: dict[str, Any] = {"policy": str(policy)}
    if case.name == "mlm":
        info["masked"] = _masked_share([out.labels for out in run()], batches)
        info["per_sample_reproducible"] = _reproducible(policy, inputs)  # type: ignore[arg-type]
    else:
        outputs = run()
        info["output_tokens"] = sum(int(out.attention_mask.sum()) for out in outputs)
    return Prepared(run, info)


def prepare(case: TextCase, inputs: TextInputs, targets: dict[str, Any]) -> Prepared | None:
    if case.group == "string":
        return _string(case.name, inputs)
    return _tokens(case, inputs)
