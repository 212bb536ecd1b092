"""transformers: `DataCollatorForLanguageModeling` (mlm_probability 0.15) with the benchmark's WordPiece tokenizer
wrapped as a fast tokenizer (from the trained tokenizer.json: no hub download). Its masking alone
(`torch_mask_tokens`) on the same padded batches as mithridate's MaskedLM, and the whole collator (`__call__`)
on the same tokenized examples as mithridate's TokenCollator; the examples carry their special_tokens_mask, the
collator's fast path."""

from __future__ import annotations

from typing import Any

import torch

from ..cases import TextCase
from ..inputs import TextInputs
from . import Prepared, missing, package_version

NAME = "transformers"
MODE = "batch"
PACKAGE = "transformers"


def unavailable() -> str | None:
    return missing("transformers", "tokenizers")


def version() -> str:
    return package_version("transformers")


def _masked_share(labels: list[torch.Tensor], inputs: TextInputs) -> float:
    chosen = sum(int((label != -100).sum()) for label in labels)
    content = sum(len(row) - sum(mask) for row, mask in zip(inputs.input_ids, inputs.special_tokens_mask, strict=True))
    return round(chosen / max(content, 1), 4)


def prepare(case: TextCase, inputs: TextInputs, targets: dict[str, Any]) -> Prepared | None:
    if case.group != "mask" or inputs.tokenizer_file is None:
        return None
    from transformers import DataCollatorForLanguageModeling, PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(inputs.tokenizer_file),
        pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
    )  # fmt: skip
    torch.manual_seed(0)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=True, mlm_probability=0.15, return_tensors="pt")
    note = "random replacements drawn from the whole vocabulary, special tokens included (as transformers does)"
    if case.name == "mlm":
        batches = inputs.batches()

        def run() -> list[Any]:
            return [collator.torch_mask_tokens(b.input_ids.clone(), b.special_tokens_mask) for b in batches]

        info = {"call": "collator.torch_mask_tokens(ids.clone(), special_tokens_mask)",
                "masked": _masked_share([labels for _, labels in run()], inputs)}  # fmt: skip
        return Prepared(run, info, note)
    examples = inputs.examples(with_index=False)
    labels = [collator(batch)["labels"] for batch in examples]
    info = {"call": "collator(examples)", "masked": _masked_share(labels, inputs)}
    return Prepared(lambda: [collator(batch) for batch in examples], info, note)
