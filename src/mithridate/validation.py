"""Argument checks shared by the package: one rule and one wording for integer arguments.

`check_int` accepts Python and numpy integers (never a bool) within [low, high] and returns a Python int; a
value of another type raises `type_error` (TypeError unless a caller's contract says otherwise), one out of range
raises `error` (ValueError, or a module's own error class such as `DatasetError`).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["check_int", "integer_words"]


def integer_words(low: int | None = None, high: float | None = None) -> str:
    """How an error names the integers it expected: "a non-negative integer", "a positive integer",
    "an integer >= 2", "an integer in [0, 30]", "an integer"."""
    if high is not None and math.isinf(high):
        high = None
    if low is None and high is None:
        return "an integer"
    if high is None:
        return {0: "a non-negative integer", 1: "a positive integer"}.get(low, f"an integer >= {low}")
    if low is None:
        return f"an integer <= {high:g}"
    return f"an integer in [{low}, {high:g}]"


def check_int(
    name: str,
    value: Any,
    low: int | None = None,
    high: float | None = None,
    *,
    error: type[Exception] = ValueError,
    type_error: type[Exception] = TypeError,
) -> int:
    """`value` as an int, checked: an integer (not a bool) with low <= value <= high (None, inf: unbounded)."""
    words = integer_words(low, high)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise type_error(f"{name}: expected {words}, got {type(value).__name__} {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise error(f"{name}: expected {words}, got {value!r}")
    return int(value)
