"""The numbers of a dose-response sweep: per dose, the mean over seeds of clean accuracy, accuracy under
corruption, affinity and diversity with 95% confidence intervals, the accuracy per corruption, the best dose
and two verdicts (does the best dose beat dose 0 beyond noise, does the curve fall again at the overdose).

Definitions (Gontijo-Lopes et al., 2020, "Affinity and Diversity: Quantifying Mechanisms of Data
Augmentation", arXiv:2002.08973):

- affinity at a dose = accuracy of the dose-0 model on the test set augmented at that dose / its clean
  accuracy (same seed). It is measured by the sweep and stored in each `RunRecord`.
- diversity at a dose = final training loss of the run at that dose / final training loss of the dose-0
  run with the same seed. It is derived here, and only where a dose-0 run of that seed exists: without any
  dose-0 run, every diversity is None (there is nothing to divide by).

Intervals are Student t intervals of the mean over seeds: mean ± t(0.975, n-1) · sd / √n with the sample
standard deviation sd (n-1 in the denominator). One seed gives a mean and no interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..meters import diversity
from .records import RunRecord, SweepSpec

__all__ = ["DEFINITIONS", "DoseRow", "Estimate", "Summary", "summarize", "t_quantile_975"]

AFFINITY_DEFINITION = (
    "affinity = accuracy of the dose-0 model on the test set augmented at the dose / its clean accuracy (same seed)"
)
DIVERSITY_DEFINITION = (
    "diversity = final training loss of the run at the dose / final training loss of the dose-0 run (same seed)"
)
CITATION = "Gontijo-Lopes et al., 2020, Affinity and Diversity: Quantifying Mechanisms of Data Augmentation"
DEFINITIONS = f"{AFFINITY_DEFINITION}; {DIVERSITY_DEFINITION}. Source: {CITATION}."
INTERVAL_LEGEND = (
    "± = half-width of the 95% confidence interval of the mean over seeds (Student t, n-1 degrees of freedom); "
    "– = one seed, no interval"
)
NO_INTERVAL = "–"
NOT_AVAILABLE = "n/a"

# t quantiles at 0.975 for 1..30 degrees of freedom; beyond, the Cornish-Fisher expansion (error < 1e-7).
_T975 = (
    12.706204736, 4.302652730, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252, 2.306004135,
    2.262157163, 2.228138852, 2.200985160, 2.178812830, 2.160368656, 2.144786688, 2.131449546, 2.119905299,
    2.109815578, 2.100922040, 2.093024054, 2.085963447, 2.079613845, 2.073873068, 2.068657610, 2.063898562,
    2.059538553, 2.055529439, 2.051830516, 2.048407142, 2.045229642, 2.042272456,
)  # fmt: skip
_Z975 = 1.959963984540054
_TIE = 1e-12  # mean clean accuracies closer than this are a tie (the smaller dose wins)


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (the factor of a two-sided 95% interval)."""
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"df: expected a positive integer number of degrees of freedom, got {df!r}")
    if df <= len(_T975):
        return _T975[df - 1]
    z, v = _Z975, float(df)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )


@dataclass(frozen=True)
class Estimate:
    """The mean of a metric over the seeds that measured it, with the half-width of its 95% t interval.

    `mean` is None when no seed measured it (n = 0), `half_width` is None when n < 2 (or a value is not
    finite: a diverged run's loss makes the interval meaningless, and the mean shows nan).
    """

    values: tuple[float, ...]
    mean: float | None
    half_width: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> Estimate:
        values = tuple(float(v) for v in values)
        n = len(values)
        if n == 0:
            return cls(values, None, None)
        mean = math.fsum(values) / n  # fsum: the same numbers in any order give the same mean
        if n < 2 or not all(math.isfinite(v) for v in values):
            return cls(values, mean, None)
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
        return cls(values, mean, t_quantile_975(n - 1) * sd / math.sqrt(n))

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def low(self) -> float | None:
        return None if self.mean is None or self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        return None if self.mean is None or self.half_width is None else self.mean + self.half_width

    def format(self, *, percent: bool = False, digits: int | None = None) -> str:
        """ "mean ± half-width": percentages (no % sign) for accuracies, "–" for no interval, "n/a" for no value."""
        if self.mean is None:
            return NOT_AVAILABLE
        scale = 100.0 if percent else 1.0
        digits = (2 if percent else 3) if digits is None else digits
        half = NO_INTERVAL if self.half_width is None else f"{self.half_width * scale:.{digits}f}"
        return f"{self.mean * scale:.{digits}f} ± {half}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": _json_number(self.mean),
            "half_width": _json_number(self.half_width),
            "low": _json_number(self.low),
            "high": _json_number(self.high),
            "n": self.n,
            "values": [_json_number(v) for v in self.values],
        }


@dataclass(frozen=True)
class DoseRow:
    """Everything the summary says about one dose.

    `corruptions` maps a corruption name to its accuracy averaged over severities (per run) and then over
    the seeds that measured it, in the order the runs list them.
    """

    dose: float
    seeds: tuple[int, ...]
    clean: Estimate
    corrupted: Estimate
    affinity: Estimate
    diversity: Estimate
    corruptions: dict[str, float] = field(default_factory=dict)

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dose": self.dose,
            "seeds": list(self.seeds),
            "n_seeds": self.n_seeds,
            "clean_accuracy": self.clean.to_dict(),
            "corrupted_accuracy": self.corrupted.to_dict(),
            "affinity": self.affinity.to_dict(),
            "diversity": self.diversity.to_dict(),
            "corruption_accuracy": {name: _json_number(value) for name, value in self.corruptions.items()},
        }


@dataclass(frozen=True)
class Summary:
    """The summary of a sweep: one `DoseRow` per dose that has runs (sorted), and the verdicts.

    - `best_dose`: the dose with the highest mean clean accuracy (ties: the smaller dose).
    - `best_beats_zero`: the lower end of the best dose's 95% interval lies above the upper end of dose 0's;
      False when the best dose is dose 0; None when it cannot be told (no dose-0 runs, or either dose has a
      single seed).
    - `falls_at_overdose`: the largest dose's mean clean accuracy is below the best dose's.
    - `missing_doses`: doses of the spec without any run; `notes`: plain sentences about what is missing.
    """

    spec: SweepSpec
    rows: list[DoseRow]
    best_dose: float
    best_beats_zero: bool | None
    falls_at_overdose: bool
    missing_doses: tuple[float, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def axis(self) -> str:
        return self.spec.axis

    @property
    def best(self) -> DoseRow:
        return self.row(self.best_dose)

    @property
    def zero(self) -> DoseRow | None:
        """The dose-0 row, if the sweep ran dose 0."""
        return next((row for row in self.rows if row.dose == 0.0), None)

    def row(self, dose: float) -> DoseRow:
        for row in self.rows:
            if row.dose == dose:
                return row
        raise KeyError(f"dose {dose!r}: no runs at this dose; doses with runs: {[r.dose for r in self.rows]}")

    @property
    def corruption_names(self) -> list[str]:
        """Every corruption measured at any dose, in first-seen order."""
        names: dict[str, None] = {}
        for row in self.rows:
            names.update(dict.fromkeys(row.corruptions))
        return list(names)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (non-finite numbers become None)."""
        return {
            "spec": self.spec.to_dict(),
            "spec_hash": self.spec.spec_hash(),
            "axis": self.axis,
            "best_dose": self.best_dose,
            "best_beats_zero": self.best_beats_zero,
            "falls_at_overdose": self.falls_at_overdose,
            "missing_doses": list(self.missing_doses),
            "notes": list(self.notes),
            "definitions": {
                "affinity": AFFINITY_DEFINITION,
                "diversity": DIVERSITY_DEFINITION,
                "citation": CITATION,
                "interval": INTERVAL_LEGEND,
            },
            "rows": [row.to_dict() for row in self.rows],
        }

    def verdict(self) -> str:
        """Two sentences: the best dose and whether it beats dose 0; whether the curve falls at the overdose."""
        best = self.best
        text = f"Best dose: {self.axis} = {_dose(self.best_dose)} (clean accuracy {best.clean.format(percent=True)} %)."
        if self.best_beats_zero is None:
            reason = "no dose-0 runs" if self.zero is None else "a single seed gives no interval"
            text += f" Whether it beats dose 0 beyond both 95% intervals cannot be told ({reason})."
        elif self.best_dose == 0.0:
            text += " No dose beats dose 0."
        else:
            text += f" It {'beats' if self.best_beats_zero else 'does not beat'} dose 0 beyond both 95% intervals."
        largest = self.rows[-1]
        if largest.dose == self.best_dose:
            text += " The largest dose is the best: the curve does not fall again within the doses swept."
        else:
            fell = "falls again" if self.falls_at_overdose else "does not fall"
            text += (
                f" At the largest dose ({_dose(largest.dose)}) the curve {fell}"
                f" (clean accuracy {largest.clean.format(percent=True)} %)."
            )
        return text

    def format_table(self, *, corruptions: bool = True) -> str:
        """A plain-text table: per dose the four metrics as "mean ± half-width" (accuracies in %) and the
        seed count, the best dose marked "*", a legend, the verdict, the definitions of affinity and
        diversity and, with `corruptions`, the accuracy per corruption and dose."""
        header = ["", f"dose ({self.axis})", "clean acc. %", "corrupted acc. %", "affinity", "diversity", "seeds"]
        lines = [header]
        for row in self.rows:
            lines.append(
                [
                    "*" if row.dose == self.best_dose else "",
                    _dose(row.dose),
                    row.clean.format(percent=True),
                    row.corrupted.format(percent=True),
                    row.affinity.format(),
                    row.diversity.format(),
                    str(row.n_seeds),
                ]
            )
        out = _columns(lines, right=range(1, len(header)))
        out.append("")
        out.append(f"* best dose: highest mean clean accuracy (ties: the smaller dose). {INTERVAL_LEGEND}.")
        out.append(self.verdict())
        out.append(f"Definitions: {DEFINITIONS}")
        out.extend(self.notes)
        names = self.corruption_names
        if corruptions and names:
            out.append("")
            out.append("Accuracy % per corruption (mean over severities, then over seeds):")
            table = [["corruption", *(("*" if r.dose == self.best_dose else "") + _dose(r.dose) for r in self.rows)]]
            for name in names:
                cells = [
                    f"{r.corruptions[name] * 100:.2f}" if name in r.corruptions else NOT_AVAILABLE for r in self.rows
                ]
                table.append([name, *cells])
            out.extend(_columns(table, right=range(1, len(table[0]))))
        return "\n".join(out)


def _json_number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _dose(dose: float) -> str:
    """A dose as written on an axis: 0, 0.5, 1, 1.25 (no trailing zeros)."""
    return f"{dose:g}"


def _columns(rows: list[list[str]], right: Sequence[int] = ()) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = set(right)
    return [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def _match_dose(dose: float, spec: SweepSpec) -> float:
    for known in spec.doses:
        if math.isclose(dose, known, rel_tol=1e-9, abs_tol=1e-12):
            return known
    raise ValueError(f"run at dose {dose!r}: expected one of the spec's doses {list(spec.doses)}")


def _check_records(records: Sequence[RunRecord], spec: SweepSpec) -> dict[tuple[float, int], RunRecord]:
    """Records keyed by (spec dose, seed), after checking that they belong to `spec` and do not repeat."""
    if not isinstance(spec, SweepSpec):
        raise TypeError(f"spec: expected a SweepSpec, got {type(spec).__name__}")
    if not records:
        raise ValueError("records: expected at least one run to summarise, got none")
    expected = spec.spec_hash()
    runs: dict[tuple[float, int], RunRecord] = {}
    for record in records:
        if not isinstance(record, RunRecord):
            raise TypeError(f"records: expected RunRecord items, got {type(record).__name__}")
        if record.spec_hash != expected:
            raise ValueError(
                f"run (dose {record.dose}, seed {record.seed}): spec hash {record.spec_hash!r} differs from the "
                f"spec's {expected!r}; expected only runs of this sweep"
            )
        if record.axis != spec.axis:
            raise ValueError(
                f"run (dose {record.dose}, seed {record.seed}): axis {record.axis!r}, expected {spec.axis!r}"
            )
        if not math.isfinite(record.clean_accuracy):
            raise ValueError(
                f"run (dose {record.dose}, seed {record.seed}): clean accuracy {record.clean_accuracy!r}, "
                "expected a finite fraction"
            )
        key = (_match_dose(float(record.dose), spec), int(record.seed))
        if key in runs:
            raise ValueError(f"runs: dose {key[0]} and seed {key[1]} appear twice; expected one run per dose and seed")
        runs[key] = record
    return runs


def _corruption_means(record: RunRecord) -> dict[str, float]:
    """Per corruption name, the run's accuracy averaged over the severities it measured."""
    groups: dict[str, list[float]] = {}
    for key, accuracy in record.corruption_accuracy.items():
        name = key.rsplit("/", 1)[0] if "/" in key else key
        groups.setdefault(name, []).append(float(accuracy))
    return {name: math.fsum(values) / len(values) for name, values in groups.items()}


def _diversity(record: RunRecord, base: RunRecord | None) -> float | None:
    return None if base is None else diversity(record.final_train_loss, base.final_train_loss)


def summarize(records: list[RunRecord], spec: SweepSpec) -> Summary:
    """The `Summary` of the runs of one sweep (all with `spec`'s hash and one run per dose and seed).

    Diversity divides each run's final training loss by that of the dose-0 run with the same seed; a run
    whose seed has no dose-0 run (or whose dose-0 loss is not a positive number) has no diversity, and a
    sweep without dose 0 has none at all (said in `notes`). Affinity is taken from the records (None
    values are left out of its mean).
    """
    runs = _check_records(records, spec)
    zero_runs = {seed: record for (dose, seed), record in runs.items() if dose == 0.0}
    notes: list[str] = []
    if not zero_runs:
        notes.append("No dose-0 run: diversity (a ratio to the dose-0 run's training loss) is not available.")
    rows: list[DoseRow] = []
    for dose in spec.doses:
        at_dose = sorted(((seed, r) for (d, seed), r in runs.items() if d == dose), key=lambda item: item[0])
        if not at_dose:
            continue
        group = [r for _, r in at_dose]
        diversities = [_diversity(r, zero_runs.get(seed)) for seed, r in at_dose]
        per_run = [_corruption_means(r) for r in group]
        names = list(dict.fromkeys(name for means in per_run for name in means))
        corruptions = {
            name: math.fsum(m[name] for m in per_run if name in m) / sum(name in m for m in per_run) for name in names
        }
        rows.append(
            DoseRow(
                dose=dose,
                seeds=tuple(seed for seed, _ in at_dose),
                clean=Estimate.of([r.clean_accuracy for r in group]),
                corrupted=Estimate.of([r.corrupted_accuracy for r in group]),
                affinity=Estimate.of([r.affinity for r in group if r.affinity is not None]),
                diversity=Estimate.of([d for d in diversities if d is not None]),
                corruptions=corruptions,
            )
        )
    if zero_runs:
        lacking = sorted({seed for (_, seed) in runs} - set(zero_runs))
        if lacking:
            notes.append(f"Seeds without a dose-0 run (their runs have no diversity): {lacking}.")
    missing = tuple(dose for dose in spec.doses if all(row.dose != dose for row in rows))
    if missing:
        notes.append(f"Doses of the spec without any run: {[_dose(d) for d in missing]}.")

    best = rows[0]
    for row in rows[1:]:
        if row.clean.mean > best.clean.mean + _TIE:  # rows are sorted: a tie keeps the smaller dose
            best = row
    zero = next((row for row in rows if row.dose == 0.0), None)
    if best.dose == 0.0:
        beats: bool | None = False
    elif zero is None or zero.clean.high is None or best.clean.low is None:
        beats = None
    else:
        beats = best.clean.low > zero.clean.high
    return Summary(
        spec=spec,
        rows=rows,
        best_dose=best.dose,
        best_beats_zero=beats,
        falls_at_overdose=rows[-1].clean.mean < best.clean.mean - _TIE,
        missing_doses=missing,
        notes=tuple(notes),
    )
