"""The text corruption suite: string noise at severities 1..5, fixed per (seed, sample index, corruption).

A sample's unit draws do not depend on the severity (common random numbers, as the image corruptions
share theirs): a unit edited at severity s is edited, the same way, at every higher severity, so the
damage grows with the severity and the edits of one severity hold those of the one below (swaps excepted:
a newly drawn swap can take the place of an overlapping one; their number still never falls).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ...rng import Key, as_index
from ._edits import EditedText
from ._engine import edit_batch
from ._units import Protection
from .ops import OPS, TextOp
from .policies import check_texts

__all__ = ["SEVERITY_RATES", "TEXT_CORRUPTIONS", "TEXT_SEVERITIES", "corrupt_text", "corrupt_text_with_edits"]

SEVERITY_RATES: dict[str, tuple[float, ...]] = {
    "typo": (0.02, 0.04, 0.07, 0.1, 0.15),
    "ocr": (0.02, 0.04, 0.07, 0.1, 0.15),
    "char_insert": (0.02, 0.04, 0.07, 0.1, 0.15),
    "char_delete": (0.02, 0.04, 0.07, 0.1, 0.15),
    "char_swap": (0.02, 0.04, 0.07, 0.1, 0.15),
    "misspell": (0.1, 0.2, 0.35, 0.5, 0.75),
    "word_drop": (0.05, 0.1, 0.15, 0.2, 0.3),
    "word_swap": (0.05, 0.1, 0.15, 0.2, 0.3),
    "case": (0.02, 0.05, 0.1, 0.2, 0.4),
}
"""Per corruption, the per-unit rate at severities 1..5 (the share of eligible units edited)."""
TEXT_CORRUPTIONS: tuple[str, ...] = tuple(SEVERITY_RATES)
TEXT_SEVERITIES: tuple[int, ...] = (1, 2, 3, 4, 5)

# Streams of the corruptions: apart from the policies' (so a corruption never repeats a policy's draws).
_STREAM_BASE = 0x7EC000
_STREAMS = {name: _STREAM_BASE + 16 * i for i, name in enumerate(TEXT_CORRUPTIONS)}
_OPS: dict[str, TextOp] = {}


def _op(name: str) -> TextOp:
    if name not in _OPS:
        _OPS[name] = OPS[name](Protection(None))
    return _OPS[name]


def corrupt_text_with_edits(
    texts: Sequence[str], name: str, severity: int, *, seed: int = 0, index: Any = None
) -> list[EditedText]:
    """`corrupt_text` with each output's edit log."""
    if not isinstance(name, str) or name not in SEVERITY_RATES:
        raise ValueError(f"name: unknown text corruption {name!r}; expected one of {', '.join(TEXT_CORRUPTIONS)}")
    if isinstance(severity, bool) or not isinstance(severity, (int, np.integer)) or severity not in TEXT_SEVERITIES:
        raise ValueError(f"severity: expected an integer in 1..5, got {severity!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed: expected a non-negative integer, got {seed!r}")
    texts = check_texts(texts)
    n = len(texts)
    index_tensor = torch.arange(n, dtype=torch.int64) if index is None else as_index(index, n, "cpu")
    if n == 0:
        return []
    rates = np.full(n, SEVERITY_RATES[name][int(severity) - 1])
    outputs, logs = edit_batch(_op(name), texts, Key(int(seed), 0, None), index_tensor, rates, _STREAMS[name])
    return [EditedText(*item) for item in zip(texts, outputs, logs, strict=True)]


def corrupt_text(texts: Sequence[str], name: str, severity: int, *, seed: int = 0, index: Any = None) -> list[str]:
    """Apply one text corruption (`TEXT_CORRUPTIONS`) at one severity (1..5) to every text of a batch.

    `index`: one non-negative integer per text (e.g. dataset positions), 0..N-1 when None; a sample's
    edits depend only on (seed, its index, corruption) and grow with the severity. URLs, e-mail
    addresses and numbers are never edited.
    """
    return [result.text for result in corrupt_text_with_edits(texts, name, severity, seed=seed, index=index)]
