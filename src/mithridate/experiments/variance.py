"""The spread over seeds, split by its source (Bouthillier et al., 2021, "Accounting for Variance in Machine
Learning Benchmarks"). A sweep run with `vary = ("all", "init", "order", "augment")` has one seed series per
entry: in "all" every source of randomness changes with the seed; in "init" only the weights'
initialisation does (the batch order and the augmentation's draws held at seed 0), and so on. The standard
deviation over the seeds of one series is the spread that source causes alone; set beside the "all"
series' it shows which source the spread of the headline table comes from.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .records import VARY_ALL, RunRecord, SweepSpec

__all__ = ["SPREAD_DEFINITION", "SourceSpread", "spread_by_source", "spread_table_rows"]

SPREAD_DEFINITION = (
    "sd = sample standard deviation over the seeds of one series, in percentage points of clean accuracy; in the "
    "'all' series every source changes with the seed, in a source's series only that source does (the others "
    "held at seed 0); share = the source's variance / the 'all' series' variance at the same dose"
)


@dataclass(frozen=True)
class SourceSpread:
    """One series at one dose: how many seeds, and the standard deviation of clean and corrupted accuracy
    over them (fractions; None with fewer than two seeds)."""

    series: str
    dose: float
    seeds: int
    clean_sd: float | None
    corrupted_sd: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "dose": self.dose,
            "seeds": self.seeds,
            "clean_sd": self.clean_sd,
            "corrupted_sd": self.corrupted_sd,
        }


def _sd(values: list[float]) -> float | None:
    finite = [v for v in values if math.isfinite(v)]
    return statistics.stdev(finite) if len(finite) >= 2 else None


def spread_by_source(runs: Sequence[RunRecord], spec: SweepSpec) -> list[SourceSpread]:
    """Per series of `spec.vary` and per dose, the spread over the seeds of `runs` (series in the spec's
    order, doses ascending); empty when the sweep has a single series."""
    if len(spec.vary) < 2:
        return []
    spreads = []
    for series in spec.vary:
        for dose in spec.doses:
            group = [r for r in runs if r.vary == series and math.isclose(r.dose, dose, rel_tol=1e-9, abs_tol=1e-12)]
            spreads.append(
                SourceSpread(
                    series,
                    float(dose),
                    len(group),
                    _sd([r.clean_accuracy for r in group]),
                    _sd([r.corrupted_accuracy for r in group]),
                )
            )
    return spreads


def spread_table_rows(spreads: Sequence[SourceSpread]) -> tuple[list[str], list[list[str]]]:
    """The spread as a table: one row per dose, per series its sd of clean accuracy in pp (with its share of
    the 'all' series' variance where there is one)."""
    series = list(dict.fromkeys(s.series for s in spreads))
    doses = list(dict.fromkeys(s.dose for s in spreads))
    by = {(s.series, s.dose): s for s in spreads}
    header = ["dose", *(f"sd {name} pp" for name in series)]
    rows = []
    for dose in doses:
        total = by.get((VARY_ALL, dose))
        cells = [f"{dose:g}"]
        for name in series:
            spread = by[(name, dose)]
            if spread.clean_sd is None:
                cells.append("n/a")
                continue
            text = f"{100 * spread.clean_sd:.2f}"
            if name != VARY_ALL and total is not None and total.clean_sd:
                text += f" ({spread.clean_sd**2 / total.clean_sd**2:.0%})"
            cells.append(text)
        rows.append(cells)
    return header, rows
