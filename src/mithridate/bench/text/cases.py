"""What the text benchmark measures: one `TextCase` per row, and the peer each row is compared with."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PEERS", "STRING_OPS", "TEXT_GROUPS", "TOKEN_OPS", "TextCase", "build_text_cases"]

STRING_OPS: tuple[str, ...] = ("typo", "char_insert", "char_swap", "char_delete", "ocr", "word_drop", "word_swap")
"""The string ops with an nlpaug counterpart (mithridate.text.strings policies at their reference rates)."""

MASK_CASES: tuple[str, ...] = ("mlm", "mlm_collator")
"""BERT masking: on the padded batch (the masking alone), and from tokenized examples to a batch (the collator)."""

TOKEN_OPS: tuple[str, ...] = ("xlm", "transcoder", "t5", "bart", "electra")
"""The token-level noise with no peer in the run, timed for the record (policy-string presets)."""

TEXT_GROUPS: tuple[str, ...] = ("string", "mask", "token")

PEERS: dict[str, tuple[str, str]] = {
    "string:typo": ("nlpaug", "KeyboardAug"),
    "string:char_insert": ("nlpaug", "RandomCharAug(insert)"),
    "string:char_swap": ("nlpaug", "RandomCharAug(swap)"),
    "string:char_delete": ("nlpaug", "RandomCharAug(delete)"),
    "string:ocr": ("nlpaug", "OcrAug"),
    "string:word_drop": ("nlpaug", "RandomWordAug(delete)"),
    "string:word_swap": ("nlpaug", "RandomWordAug(swap)"),
    "mask:mlm": ("transformers", "DataCollatorForLanguageModeling.torch_mask_tokens"),
    "mask:mlm_collator": ("transformers", "DataCollatorForLanguageModeling"),
}
"""Case key -> (peer library, the peer's class or call)."""

_OURS = {
    "mask:mlm": "MaskedLM (padded batch)",
    "mask:mlm_collator": "TokenCollator(MaskedLM) (examples to batch)",
}


@dataclass(frozen=True)
class TextCase:
    """One row: `group` (string, mask or token) and `name` within it."""

    group: str
    name: str

    @property
    def key(self) -> str:
        """A stable identifier, `group:name`."""
        return f"{self.group}:{self.name}"

    @property
    def unit(self) -> str:
        """What the row counts per second: sentences for string noise, tokens (real, not padding) otherwise."""
        return "sentences" if self.group == "string" else "tokens"

    @property
    def label(self) -> str:
        """The row's label: mithridate's side, and the peer's when there is one."""
        ours = _OURS.get(self.key, self.name)
        peer = PEERS.get(self.key)
        return f"{ours} vs {peer[1]}" if peer else ours


def build_text_cases(groups: tuple[str, ...] = TEXT_GROUPS) -> list[TextCase]:
    """The cases of the chosen groups, in table order."""
    unknown = [group for group in groups if group not in TEXT_GROUPS]
    if unknown:
        raise ValueError(f"groups: expected some of {', '.join(TEXT_GROUPS)}, got {', '.join(unknown)}")
    names = {"string": STRING_OPS, "mask": MASK_CASES, "token": TOKEN_OPS}
    return [TextCase(group, name) for group in TEXT_GROUPS if group in groups for name in names[group]]
