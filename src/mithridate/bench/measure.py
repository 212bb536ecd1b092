"""Timing one runner: a warm-up, then several repetitions; median images/s and the spread."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["measure"]


def _seconds(run: Callable[[], Any], synchronize: Callable[[], None], calls: int = 1) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        run()
    synchronize()
    return time.perf_counter() - start


def measure(
    runner: Callable[[int], Any],
    n: int,
    *,
    per_image: bool,
    repeats: int,
    target_seconds: float,
    min_calls: int = 1,
    synchronize: Callable[[], None] = lambda: None,
) -> dict:
    """Median images/s of `runner` over `repeats` timed repetitions after a warm-up, with min and max.

    A repetition lasts about `target_seconds`. A per-image runner costs the same per image whatever the
    batch, so a repetition is one call on the first `count` images (at most n): slow per-image peers are
    measured on fewer images instead of for minutes. A batch runner processes all n images per call, and
    a repetition is `calls` calls; all repetitions together make at least `min_calls` calls (a library
    that draws one op per call needs many calls for its mean cost, not the cost of whichever op it drew).
    """
    count, calls = n, 1
    _seconds(lambda: runner(1 if per_image else n), synchronize)  # warm-up: imports, caches, lazy set-up
    if per_image:
        one = max(_seconds(lambda: runner(1), synchronize), 1e-7)
        count = max(1, min(n, math.ceil(target_seconds / one)))
    else:
        one = max(_seconds(lambda: runner(n), synchronize), 1e-7)
        calls = max(math.ceil(min_calls / repeats), math.ceil(target_seconds / one))
    rates = [count * calls / max(_seconds(lambda: runner(count), synchronize, calls), 1e-9) for _ in range(repeats)]
    return {
        "img_per_s": statistics.median(rates),
        "min_img_per_s": min(rates),
        "max_img_per_s": max(rates),
        "images_per_call": count,
        "calls_per_repetition": calls,
        "repeats": repeats,
    }
