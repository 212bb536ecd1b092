"""Plain JSON for what experiments store: canonical text for hashing and keys, numpy values as Python
numbers, and non-finite numbers as None (strict JSON)."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["canonical_json", "finite_or_none", "json_default"]


def json_default(value: Any) -> Any:
    """numpy scalars and arrays (anything with .tolist()/.item()) as plain Python values, for `json.dumps`."""
    for method in ("tolist", "item"):
        if callable(getattr(value, method, None)):
            return getattr(value, method)()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, no NaN: the same text for the same value, for hashes and store keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=json_default)


def finite_or_none(value: Any) -> Any:
    """`value` with every non-finite float (in dicts, lists and tuples too) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value
