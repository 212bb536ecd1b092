"""Compact policy strings that a command line or a config file can carry, in the spirit of timm's.

    ta_wide                     TrivialAugmentWide, the published dose
    ta_wide-p0.5-s1.5           half the samples touched, magnitudes 1.5x the published range
    rand-n2-m9                  RandAugment, 2 ops at magnitude bin 9 (of b31)
    auto-imagenet               AutoAugment with the ImageNet sub-policies (cifar10, svhn)
    augmix-m3-w3                AugMix, severity 3, width 3 (d: depth, a: alpha, o: all|partial ops)

Every policy also takes p<prob> and s<strength> (the Dose), i<nearest|bilinear> and f<fill>, a number or
one per channel joined by '_' (f128, f124_116_104). `str(policy)` (`Policy.__str__`) writes the same grammar,
omitting defaults, so `policy(str(p))` rebuilds p.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..dose import Dose
from .policies import AUTOAUGMENT_POLICIES, AugMix, AutoAugment, Policy, RandAugment, TrivialAugmentWide

__all__ = ["POLICY_CLASSES", "parse_policy"]

POLICY_CLASSES: dict[str, type[Policy]] = {
    cls.name: cls for cls in (TrivialAugmentWide, RandAugment, AutoAugment, AugMix)
}


def _ops_choice(value: str) -> bool:
    if value not in ("all", "partial"):
        raise ValueError("expected 'all' or 'partial'")
    return value == "all"


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("expected a positive integer")
    return number


# Policy-specific keys: letter -> (constructor argument, parser, meaning).
_OWN_KEYS: dict[str, dict[str, tuple[str, Callable[[str], Any], str]]] = {
    "ta_wide": {"b": ("num_magnitude_bins", int, "number of magnitude bins")},
    "rand": {
        "n": ("num_ops", int, "ops per sample"),
        "m": ("magnitude", int, "magnitude bin"),
        "b": ("num_magnitude_bins", int, "number of magnitude bins"),
    },
    "auto": {},
    "augmix": {
        "m": ("severity", int, "severity 1-10"),
        "w": ("mixture_width", int, "chains"),
        "d": ("chain_depth", _positive_int, "ops per chain (omit for random 1-3)"),
        "a": ("alpha", float, "Dirichlet/Beta concentration"),
        "o": ("all_ops", _ops_choice, "all|partial ops"),
    },
}
_COMMON_KEYS = {
    "p": "dose probability",
    "s": "dose strength",
    "i": "interpolation nearest|bilinear",
    "f": "fill value(s)",
}


def _valid_keys(head: str) -> str:
    keys = {**{k: v[2] for k, v in _OWN_KEYS[head].items()}, **_COMMON_KEYS}
    listed = ", ".join(f"{k} ({meaning})" for k, meaning in keys.items())
    if head == "auto":
        listed = f"{' | '.join(AUTOAUGMENT_POLICIES)}, {listed}"
    return listed


def _parse_fill(value: str) -> float | tuple[float, ...]:
    parts = [float(v) for v in value.split("_")]
    return parts[0] if len(parts) == 1 else tuple(parts)


def parse_policy(text: str, **kwargs: Any) -> Policy:
    """Build a policy from its string; keyword arguments (seed, fill, dose, ...) are passed through."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"policy: expected a policy string such as 'ta_wide' or 'rand-n2-m9', got {text!r}")
    head, *tokens = text.strip().split("-")
    if head not in POLICY_CLASSES:
        raise ValueError(f"policy: unknown policy {head!r} in {text!r}; expected one of {', '.join(POLICY_CLASSES)}")
    own = _OWN_KEYS[head]
    args: dict[str, Any] = {}
    dose: dict[str, float] = {}
    seen: set[str] = set()
    for token in tokens:
        if head == "auto" and token in AUTOAUGMENT_POLICIES:
            key, value = "", token
        elif token and (token[0] in own or token[0] in _COMMON_KEYS):
            key, value = token[0], token[1:]
        else:
            raise ValueError(f"policy: unknown key {token!r} in {text!r}; valid keys for {head}: {_valid_keys(head)}")
        if key in seen:
            raise ValueError(f"policy: key {key or 'policy'!r} given twice in {text!r}")
        seen.add(key)
        try:
            if key == "":
                args["policy"] = value
            elif key in own:
                name, parser, _ = own[key]
                args[name] = parser(value)
            elif key in ("p", "s"):
                dose["p" if key == "p" else "strength"] = float(value)
            elif key == "i":
                args["interpolation"] = value
            else:
                args["fill"] = _parse_fill(value)
        except ValueError as error:
            raise ValueError(f"policy: bad value {value!r} for key {key!r} in {text!r}: {error}") from None
    if dose:
        if "dose" in kwargs:
            raise ValueError(f"policy: {text!r} sets the dose (p/s) and a dose argument was given too; choose one")
        args["dose"] = Dose(**dose)
    for name in args:
        if name in kwargs:
            raise ValueError(f"policy: {name} is set both in {text!r} and as an argument; choose one")
    return POLICY_CLASSES[head](**args, **kwargs)
