"""nlpaug: KeyboardAug, RandomCharAug (insert, swap, delete), OcrAug and RandomWordAug (delete, swap), each
`augment(list of sentences)` (its single-thread loop over the sentences), at the rate that makes it edit as
many units per sentence as mithridate's op does on the same sentences.

nlpaug draws a fixed count per sentence, not one draw per unit: ceil(aug_word_p x tokens) words (clamped by
aug_word_min/max) among its eligible words, then ceil(aug_char_p x letters) characters in each drawn word. So
aug_char_p is set to mithridate's per-character rate (5%; one character per word of up to 20 letters), the
clamps are lifted (min 0, max None), and aug_word_p is the value whose expected number of edits over the
sentences, computed from nlpaug's own tokenizer and eligibility rules, is nearest to mithridate's measured
count. Word ops take aug_p the same way. What cannot be matched: nlpaug edits at least one word in every
sentence with an eligible word once aug_p > 0 (ceil), and its count per sentence is fixed where mithridate's
varies (binomial); the table prints both means.
"""

from __future__ import annotations

import itertools
import random
import string
from typing import Any

import numpy as np

from ..cases import TextCase
from ..inputs import TextInputs
from . import Prepared, missing, package_version

__all__ = ["match_rate"]

NAME = "nlpaug"
MODE = "per sentence"
PACKAGE = "nlpaug"

CHAR_RATE = 0.05
"""mithridate's reference rate of the character ops (its policies' `reference_rate`)."""

_PUNCTUATION = frozenset(string.punctuation)
"""Tokens nlpaug's character augmenters skip (as mithridate edits letters and digits only)."""

_TOLERANCE = 0.05
"""Relative difference in edits per sentence under which the rates count as matched."""


def unavailable() -> str | None:
    return missing("nlpaug")


def version() -> str:
    return package_version("nlpaug")


def _char_augmenter(name: str, word_p: float) -> Any:
    import nlpaug.augmenter.char as nac

    rates = {"aug_char_p": CHAR_RATE, "aug_char_min": 0, "aug_char_max": None,
             "aug_word_p": word_p, "aug_word_min": 0, "aug_word_max": None}  # fmt: skip
    if name == "typo":
        return nac.KeyboardAug(**rates, min_char=1, include_special_char=False, include_upper_case=False)
    if name == "ocr":
        return nac.OcrAug(**rates, min_char=1, stopwords=_PUNCTUATION)
    action = name.removeprefix("char_")
    return nac.RandomCharAug(
        action=action, **rates, min_char=2 if action == "swap" else 1, spec_char="", stopwords=_PUNCTUATION
    )


def _word_augmenter(name: str, p: float) -> Any:
    import nlpaug.augmenter.word as naw

    return naw.RandomWordAug(action=name.removeprefix("word_").replace("drop", "delete"), aug_p=p, aug_min=0,
                             aug_max=None)  # fmt: skip


def _profile(name: str, augmenter: Any, sentences: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per sentence, from nlpaug's own rules: tokens T, eligible words E, and the edits S that drawing every
    eligible word would make (for word ops, E, as each drawn word is one edit)."""
    tokens_, eligible_, edits_ = [], [], []
    for sentence in sentences:
        tokens = augmenter.tokenizer(sentence.strip())
        if name.startswith("word_"):
            eligible = augmenter.pre_skip_aug(tokens)
            edits = len(eligible) if len(tokens) >= 2 else 0  # nlpaug leaves one-token sentences alone
        else:
            eligible = augmenter.pre_skip_aug(tokens)
            edits = 0
            for i in eligible:
                chars = augmenter.token2char(tokens[i])
                candidates = augmenter.skip_aug(list(range(len(chars))), chars)
                count = augmenter._generate_aug_cnt(
                    len(chars), augmenter.aug_char_min, augmenter.aug_char_max, augmenter.aug_char_p
                )
                edits += min(count, len(candidates))
        tokens_.append(len(tokens))
        eligible_.append(len(eligible))
        edits_.append(edits)
    return np.array(tokens_), np.array(eligible_), np.array(edits_, dtype=np.float64)


def _expected(p: float, tokens: np.ndarray, eligible: np.ndarray, edits: np.ndarray) -> float:
    """nlpaug's expected edits per sentence at word rate p: ceil(p x T) of the E eligible words drawn
    uniformly, each making its share of S."""
    drawn = np.minimum(np.ceil(p * tokens), eligible)
    return float(np.where(eligible > 0, drawn / np.maximum(eligible, 1) * edits, 0.0).mean())


def match_rate(tokens: np.ndarray, eligible: np.ndarray, edits: np.ndarray, target: float) -> tuple[float, float]:
    """The word rate p in (0, 1] whose expected edits per sentence are nearest to `target`, and that count.
    The count is a step function of p, changing at j / T; the midpoints between its steps are tried."""
    steps = sorted({j / t for t in set(tokens.tolist()) if t > 0 for j in range(1, t + 1)})
    candidates = [steps[0] / 2] + [(a + b) / 2 for a, b in itertools.pairwise(steps)] + [1.0]
    best = min(candidates, key=lambda p: (abs(_expected(p, tokens, eligible, edits) - target), p))
    return best, _expected(best, tokens, eligible, edits)


def prepare(case: TextCase, inputs: TextInputs, targets: dict[str, Any]) -> Prepared | None:
    if case.group != "string" or case.key not in targets:
        return None
    random.seed(0)
    np.random.seed(0)
    name, sentences = case.name, inputs.sentences
    build = _word_augmenter if name.startswith("word_") else _char_augmenter
    target = float(targets[case.key])
    profile = _profile(name, build(name, 0.5), sentences)
    p, expected = match_rate(*profile, target)
    augmenter = build(name, p)
    floor = _expected(1e-9, *profile)
    info = {
        "augmenter": type(augmenter).__name__,
        "params": {"aug_p" if name.startswith("word_") else "aug_word_p": round(p, 6)}
        | ({} if name.startswith("word_") else {"aug_char_p": CHAR_RATE}),
        "edits_per_sentence": round(expected, 4),
        "least_edits_per_sentence": round(floor, 4),
        "matched": abs(expected - target) <= _TOLERANCE * max(target, 1e-9),
    }
    note = None
    if not info["matched"]:
        note = (
            f"nlpaug edits at least {floor:.2f} per sentence (one word or more when aug_p > 0); nearest "
            f"{expected:.2f} against mithridate's {target:.2f}"
        )
    return Prepared(lambda: augmenter.augment(sentences), info, note)
