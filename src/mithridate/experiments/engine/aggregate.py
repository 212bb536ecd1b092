"""A grid's results per cell: every metric's mean and 95% t interval over the seeds (`Estimate`), and the
stored results of an experiment read back from a run folder."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..store import ExperimentStore, folder_store
from ..store.records import Recipe, Record, cell_key
from ..summary import Estimate

__all__ = ["CellSummary", "load_grid", "summarize_grid"]


@dataclass(frozen=True)
class CellSummary:
    """One cell over its seeds: per metric, the mean and 95% t interval (`Estimate`)."""

    cell: dict[str, Any]
    seeds: tuple[int, ...]
    metrics: dict[str, Estimate]

    def __getitem__(self, metric: str) -> Estimate:
        return self.metrics.get(metric, Estimate.of([]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "cell": dict(self.cell),
            "seeds": list(self.seeds),
            "metrics": {name: estimate.to_dict() for name, estimate in self.metrics.items()},
        }


def summarize_grid(records: Sequence[Record]) -> list[CellSummary]:
    """Per cell (in first-seen order), every metric's mean and 95% interval over the seeds that measured
    it (NaN values are left out). Records must not repeat a cell-seed."""
    groups: dict[str, list[Record]] = {}
    seen: set[tuple[str, str, int]] = set()
    for record in records:
        key = cell_key(record.cell)
        if (record.spec_hash, key, record.seed) in seen:
            raise ValueError(f"records: cell {key} seed {record.seed} appears twice; expected one result per seed")
        seen.add((record.spec_hash, key, record.seed))
        groups.setdefault(key, []).append(record)
    summaries = []
    for group in groups.values():
        group = sorted(group, key=lambda record: record.seed)
        names = list(dict.fromkeys(name for record in group for name in record.metrics))
        metrics = {
            name: Estimate.of([r.metrics[name] for r in group if name in r.metrics and not math.isnan(r.metrics[name])])
            for name in names
        }
        summaries.append(CellSummary(dict(group[0].cell), tuple(r.seed for r in group), metrics))
    return summaries


def load_grid(folder: str | os.PathLike[str], experiment: str) -> list[tuple[Recipe, list[Record]]]:
    """The recipes of `experiment` stored in `folder` with their results (recipes without any result left
    out), oldest first; for showing a finished or interrupted run again."""
    with ExperimentStore(folder_store(folder, experiment)) as store:
        found = [(recipe, records) for recipe in store.recipes(experiment) if (records := store.records(recipe))]
    if not found:
        raise ValueError(f"{folder}: the store holds no finished {experiment} result yet")
    return found
