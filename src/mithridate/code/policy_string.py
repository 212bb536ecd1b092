"""Code policy strings, in the image and text policies' grammar: a name, then `-` and a key letter with a value.

    rename                        DOBF renaming at the reference rate (half the definitions)
    rename-s0.4-yplausible        a fifth of the definitions, renamed to plausible names
    faulty-s0.5                   TransCoder's noise at half its rates (shuffle 1.5, dropout 0.05, blank 0.15)
    faulty-b0.5-mMASK             blanking half the tokens with the mask token MASK
    for_while-p0.3                `for` loops rewritten as `while` loops in 30% of the samples
    code_ta                       TrivialAugment for code: renaming and the preserving rewrites
    code_ta-orename+faulty        TrivialAugment over renaming and faulty code
    lexed_rename-gjavascript      renaming of a JavaScript file's declared names

Every policy takes p<prob> and s<strength> (the Dose); `str(policy)` (`CodePolicy.__str__`) writes the same
grammar, omitting defaults, so `parse_code_policy(str(policy))` rebuilds it (a scheduled dose is an argument, not
part of the string).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..dose import Dose
from .catalog import CODE_OPS, CODE_TA_OPS
from .ops import CodeOp
from .policies import KEY_LETTERS, CodePolicy, CodeTrivialAugment, OpPolicy

__all__ = ["POLICY_NAMES", "parse_code_policy"]


def _flag(value: str) -> bool:
    if value not in ("0", "1"):
        raise ValueError("expected 0 or 1")
    return value == "1"


# Op parameter -> parser of its value.
_PARSERS: dict[str, Callable[[str], Any]] = {
    "style": str,
    "rename_parameters": _flag,
    "word_shuffle": float,
    "word_dropout": float,
    "word_blank": float,
    "mask": str,
    "noise_density": float,
    "mean_span_length": float,
    "mode": str,
    "language": str,
}
# Op parameter -> (key letter, parser); the letters are the policies' (`KEY_LETTERS`), which write the strings.
_KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    name: (letter, _PARSERS[name]) for name, letter in KEY_LETTERS.items()
}
_LETTERS = {letter: name for name, (letter, _) in _KEYS.items()}
_COMMON = {"p": "dose probability", "s": "dose strength"}
POLICY_NAMES = (*CODE_OPS, "code_ta")


def _op_keys(op: type[CodeOp]) -> dict[str, str]:
    """The key letters an op takes: those of its constructor's parameters."""
    names = list(inspect.signature(op).parameters)
    return {_KEYS[name][0]: name for name in names if name in _KEYS}


def parse_code_policy(text: str, *, seed: int | None = None, **kwargs: Any) -> CodePolicy:
    """A code policy from its string (`rename-s0.4`, `faulty`, `code_ta-orename+for_while`); keyword arguments
    (dose, on_error) go to the policy."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"policy: expected a code policy string such as 'rename' or 'code_ta', got {text!r}")
    head, *tokens = text.strip().split("-")
    if head not in POLICY_NAMES:
        raise ValueError(f"policy: unknown code policy {head!r} in {text!r}; expected one of {', '.join(POLICY_NAMES)}")
    own = {"o": "ops"} if head == "code_ta" else _op_keys(CODE_OPS[head])
    args: dict[str, Any] = {}
    dose: dict[str, float] = {}
    for token in tokens:
        key, value = token[:1], token[1:]
        if key not in own and key not in _COMMON:
            valid = ", ".join([f"{k} ({v})" for k, v in own.items()] + [f"{k} ({v})" for k, v in _COMMON.items()])
            raise ValueError(f"policy: unknown key {token!r} in {text!r}; valid keys for {head}: {valid}")
        name = own.get(key, "p" if key == "p" else "strength")
        if name in args or name in dose:
            raise ValueError(f"policy: key {key!r} given twice in {text!r}")
        try:
            if key in _COMMON:
                dose[name] = float(value)
            elif name == "ops":
                args[name] = tuple(value.split("+"))
            else:
                args[name] = _KEYS[name][1](value)
        except ValueError as error:
            raise ValueError(f"policy: bad value {value!r} for key {key!r} in {text!r}: {error}") from None
    if dose:
        if "dose" in kwargs:
            raise ValueError(f"policy: {text!r} sets the dose (p/s) and a dose argument was given too; choose one")
        kwargs["dose"] = Dose(**dose)
    if head == "code_ta":
        names = args.get("ops", CODE_TA_OPS)
        unknown = [name for name in names if name not in CODE_OPS]
        if unknown:
            raise ValueError(f"policy: unknown code ops {unknown} in {text!r}; expected some of {', '.join(CODE_OPS)}")
        return CodeTrivialAugment([CODE_OPS[name]() for name in names], seed=seed, **kwargs)
    return OpPolicy(CODE_OPS[head](**args), seed=seed, **kwargs)
