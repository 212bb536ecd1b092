"""Policy strings for token noise, in the grammar of the image policies (`name-key value-...`):

    mlm                         BERT masking, 15% of tokens, 80% mask / 10% random / 10% kept
    mlm-s0.5-w1                 half the rate (7.5%), whole words
    xlm                         XLM's noise: shuffle k3, dropout d0.1, blank b0.1
    transcoder                  TransCoder's: the same with blank b0.3
    t5                          T5 span corruption, density d0.15, mean span l3
    bart                        BART text infilling, m0.3 of tokens in Poisson(l3.5) spans, x0.1 random masks
    bart-ps1-o0.5               with sentence permutation (needs sentence_end_id) and rotation half the time
    electra                     ELECTRA's uniform replacement of 15% of tokens

Every policy takes p<prob> and s<strength> (the Dose). `str(policy)` (`TokenPolicy.__str__`) writes the preset
nearest to the policy and its differences from it, so parsing the string rebuilds the policy; ids (vocab,
sentence_end_id) and the seed are arguments, not part of the string. The presets (`TOKEN_POLICIES`) live with the
policies, which write them.
"""

from __future__ import annotations

from typing import Any

from ...dose import Dose
from .policies import TOKEN_POLICIES, TokenPolicy

__all__ = ["TOKEN_POLICIES", "parse_token_policy"]

_DOSE_KEYS = {"p": "dose probability", "s": "dose strength"}
_REPLACE_LENGTH = {"1": 1, "0": 0, "all": -1}


def _parse_value(cls: type[TokenPolicy], attribute: str, value: str) -> Any:
    default = cls._default(attribute)
    if attribute == "replace_length":
        if value not in _REPLACE_LENGTH:
            raise ValueError("expected 1 (one mask per span), 0 (spans removed) or 'all' (one mask per token)")
        return _REPLACE_LENGTH[value]
    if isinstance(default, bool):
        if value not in ("", "1", "0"):
            raise ValueError("expected 1 or 0 (or nothing, for 1)")
        return value != "0"
    return float(value)


def parse_token_policy(text: str, **kwargs: Any) -> TokenPolicy:
    """Build a token policy from its string; keyword arguments (vocab, seed, dose, sentence_end_id, ...) pass
    through to the class."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"policy: expected a policy string such as 'mlm' or 'xlm-d0.2', got {text!r}")
    head, *tokens = text.strip().split("-")
    if head not in TOKEN_POLICIES:
        raise ValueError(
            f"policy: unknown token policy {head!r} in {text!r}; expected one of {', '.join(TOKEN_POLICIES)}"
        )
    cls, preset = TOKEN_POLICIES[head]
    keys = {**{k: a for k, a in cls._KEYS.items()}, **{k: k for k in _DOSE_KEYS}}
    by_length = sorted(keys, key=len, reverse=True)
    args: dict[str, Any] = dict(preset)
    dose: dict[str, float] = {}
    seen: set[str] = set()
    for token in tokens:
        key = next((k for k in by_length if token.startswith(k)), None)
        if key is None:
            valid = ", ".join(f"{k} ({a})" for k, a in cls._KEYS.items())
            raise ValueError(
                f"policy: unknown key {token!r} in {text!r}; valid keys for {head}: {valid}, p (dose probability), "
                "s (dose strength)"
            )
        if key in seen:
            raise ValueError(f"policy: key {key!r} given twice in {text!r}")
        seen.add(key)
        value = token[len(key) :]
        try:
            if key in _DOSE_KEYS:
                dose["p" if key == "p" else "strength"] = float(value)
            else:
                args[keys[key]] = _parse_value(cls, keys[key], value)
        except ValueError as error:
            raise ValueError(f"policy: bad value {value!r} for key {key!r} in {text!r}: {error}") from None
    if dose:
        if "dose" in kwargs:
            raise ValueError(f"policy: {text!r} sets the dose (p/s) and a dose argument was given too; choose one")
        args["dose"] = Dose(**dose)
    for name in args:
        if name in kwargs and name not in preset:
            raise ValueError(f"policy: {name} is set both in {text!r} and as an argument; choose one")
    return cls(**{**args, **kwargs})
