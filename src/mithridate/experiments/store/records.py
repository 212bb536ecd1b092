"""What the store keeps: a recipe (an experiment's name and the settings that change a result), cells
(dicts of factor values, such as `{"dose": 0.5}` or `{"dataset": "wine", "k": 26}`) and seeds; a finished
run (`Record`) and a failed one (`Failure`).

A recipe's hash covers the recipe only, never the grid's extent (which cells, how many seeds): widening a
grid with new cells or seeds reuses every run already stored.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .jsonable import canonical_json, finite_or_none

__all__ = ["Failure", "Recipe", "Record", "cell_key", "run_label"]


def cell_key(cell: Mapping[str, Any]) -> str:
    """The canonical JSON text of a cell (sorted keys, no spaces): how the store names it."""
    if not isinstance(cell, Mapping) or not cell:
        raise ValueError(f"cell: expected a non-empty dict of factor values, got {cell!r}")
    for name, value in cell.items():
        if not isinstance(name, str):
            raise ValueError(f"cell {dict(cell)!r}: factor names must be strings, got {name!r}")
        if not (value is None or isinstance(value, (str, int, float, bool))):
            raise ValueError(f"cell {dict(cell)!r}: factor {name!r} must be a string, number or bool, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cell {dict(cell)!r}: factor {name!r} must be finite, got {value!r}")
    return canonical_json(dict(cell))


def run_label(cell: Mapping[str, Any], seed: int) -> str:
    """`name=value ... seed=N`, for progress bars and messages."""
    return " ".join(f"{name}={value}" for name, value in cell.items()) + f" seed={seed}"


@dataclass(frozen=True)
class Recipe:
    """An experiment's name and recipe. `params` must be JSON-able; it is hashed (`spec_hash`), stored, and
    handed to every run."""

    experiment: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.experiment, str) or not self.experiment:
            raise ValueError(f"experiment: expected a non-empty name, got {self.experiment!r}")
        try:
            canonical = canonical_json(dict(self.params))
        except (TypeError, ValueError) as error:
            raise ValueError(f"params: expected JSON-able values: {error}") from None
        object.__setattr__(self, "params", json.loads(canonical))  # plain lists and dicts, as stored

    def spec_hash(self) -> str:
        """A short stable hash of the experiment's name and params."""
        text = canonical_json({"experiment": self.experiment, "params": self.params})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "params": dict(self.params), "spec_hash": self.spec_hash()}


@dataclass(frozen=True)
class Record:
    """One finished run as stored: the metrics (NaN for non-finite), its info, and when, where and with what
    it ran."""

    experiment: str
    spec_hash: str
    cell: dict[str, Any]
    seed: int
    metrics: dict[str, float]
    seconds: float
    versions: dict[str, str]
    started_at: str
    finished_at: str
    info: dict[str, Any] = field(default_factory=dict)
    host: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return cell_key(self.cell), self.seed

    def to_dict(self) -> dict[str, Any]:
        return finite_or_none(
            {
                "experiment": self.experiment,
                "spec_hash": self.spec_hash,
                "cell": dict(self.cell),
                "seed": self.seed,
                "metrics": dict(self.metrics),
                "info": dict(self.info),
                "seconds": self.seconds,
                "host": self.host,
                "versions": dict(self.versions),
                "started_at": self.started_at,
                "finished_at": self.finished_at,
            }
        )


@dataclass(frozen=True)
class Failure:
    """A run that raised (or whose worker died more often than retried): its error and traceback, where and
    when. Failures are kept apart from results: a later successful attempt adds the result and the failure
    stays on record."""

    experiment: str
    spec_hash: str
    cell: dict[str, Any]
    seed: int
    error: str
    traceback: str
    host: str
    at: str

    @property
    def key(self) -> tuple[str, int]:
        return cell_key(self.cell), self.seed

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "spec_hash": self.spec_hash,
            "cell": dict(self.cell),
            "seed": self.seed,
            "error": self.error,
            "traceback": self.traceback,
            "host": self.host,
            "at": self.at,
        }
