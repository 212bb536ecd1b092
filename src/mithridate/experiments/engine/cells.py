"""What one run of the engine gets (`Run`) and returns (`Outcome`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Outcome", "Run"]


@dataclass(frozen=True)
class Run:
    """What one run gets: the recipe's params, its cell and seed, the experiment's shared data (what its
    `prepare` returned, loaded in the worker; None without one), and the artifacts of the run it waits for
    (name -> bytes; empty when it waits for none, or that run stored none or failed)."""

    params: dict[str, Any]
    cell: dict[str, Any]
    seed: int
    shared: Any = None
    inputs: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What one run returns: numeric metrics (NaN allowed), JSON-able `info` (facts about the run that are
    not metrics, e.g. the device) and `artifacts` (name -> bytes, e.g. a trained model that later runs of
    the grid need) stored with the result."""

    metrics: Mapping[str, float]
    info: Mapping[str, Any] = field(default_factory=dict)
    artifacts: Mapping[str, bytes] = field(default_factory=dict)
