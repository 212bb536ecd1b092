"""Text policy strings, in the image policies' grammar: a name, then `-` and a key letter with a value.

    text_ta                      TrivialAugment for text, the reference dose
    text_ta-p0.5-s2              half the samples touched, rates up to twice the reference
    typo-p0.5-s0.3               keyboard typos at 0.3 x 5% of the letters, on half the samples
    typo-lazerty                 typos on an AZERTY keyboard
    misspell-s2                  natural misspellings at twice the reference rate
    text_ta-b11-otypo+ocr        11 strength bins, drawing only typo and ocr

Every policy takes p<prob> and s<strength> (the Dose); `str(policy)` (`TextPolicy.__str__`) writes the same
grammar, omitting defaults, so `parse_text_policy(str(p))` rebuilds p (a scheduled dose, a custom layout object,
OCR table or protected patterns are arguments, not part of the string).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...dose import Dose
from .policies import POLICIES, TextPolicy

__all__ = ["parse_text_policy"]


def _ops(value: str) -> tuple[str, ...]:
    return tuple(value.split("+"))


_LAYOUT = ("layout", str, "keyboard layout qwerty|azerty|qwertz")
# Policy-specific keys: letter -> (constructor argument, parser, meaning).
_OWN_KEYS: dict[str, dict[str, tuple[str, Callable[[str], Any], str]]] = {
    "typo": {"l": _LAYOUT},
    "text_ta": {
        "b": ("num_magnitude_bins", int, "number of strength bins"),
        "o": ("ops", _ops, "ops joined by '+'"),
        "l": _LAYOUT,
    },
}
_COMMON_KEYS = {"p": "dose probability", "s": "dose strength"}


def _valid_keys(head: str) -> str:
    keys = {**{k: v[2] for k, v in _OWN_KEYS.get(head, {}).items()}, **_COMMON_KEYS}
    return ", ".join(f"{k} ({meaning})" for k, meaning in keys.items())


def parse_text_policy(text: str, *, seed: int | None = None, **kwargs: Any) -> TextPolicy:
    """Build a text policy from its string (`typo-p0.5-s0.3`, `text_ta`); keyword arguments (dose,
    protect, layout, ...) are passed to the policy."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"policy: expected a text policy string such as 'text_ta' or 'typo-p0.5', got {text!r}")
    head, *tokens = text.strip().split("-")
    if head not in POLICIES:
        raise ValueError(f"policy: unknown text policy {head!r} in {text!r}; expected one of {', '.join(POLICIES)}")
    own = _OWN_KEYS.get(head, {})
    args: dict[str, Any] = {}
    dose: dict[str, float] = {}
    seen: set[str] = set()
    for token in tokens:
        if not token or (token[0] not in own and token[0] not in _COMMON_KEYS):
            raise ValueError(f"policy: unknown key {token!r} in {text!r}; valid keys for {head}: {_valid_keys(head)}")
        key, value = token[0], token[1:]
        if key in seen:
            raise ValueError(f"policy: key {key!r} given twice in {text!r}")
        seen.add(key)
        try:
            if key in own:
                name, parser, _ = own[key]
                args[name] = parser(value)
            else:
                dose["p" if key == "p" else "strength"] = float(value)
        except ValueError as error:
            raise ValueError(f"policy: bad value {value!r} for key {key!r} in {text!r}: {error}") from None
    if dose:
        if "dose" in kwargs:
            raise ValueError(f"policy: {text!r} sets the dose (p/s) and a dose argument was given too; choose one")
        args["dose"] = Dose(**dose)
    for name in args:
        if name in kwargs:
            raise ValueError(f"policy: {name} is set both in {text!r} and as an argument; choose one")
    return POLICIES[head](**args, **kwargs, seed=seed)
