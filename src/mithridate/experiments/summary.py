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
standard deviation sd (n-1 in the denominator), the quantile from `scipy.stats.t`. One seed gives a mean
and no interval.

Each dose is compared with dose 0 seed by seed (`PairedComparison`): runs with the same seed share weight
initialisation and data order, so the per-seed difference in clean accuracy removes what the seed adds to
both doses. The best dose beats dose 0 when the 95% t interval of the mean difference lies above 0; the
probability of improvement P(dose > dose 0) (Bouthillier et al., 2021, "Accounting for Variance in Machine
Learning Benchmarks") is the share of seed pairs where the dose is higher, ties counting half.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import stats

from ..meters import diversity
from .records import RunRecord, SweepSpec
from .report.tables import aligned_columns
from .variance import SPREAD_DEFINITION, SourceSpread, spread_table_rows

__all__ = [
    "DEFINITIONS",
    "DoseRow",
    "Estimate",
    "PairedComparison",
    "Summary",
    "check_records",
    "format_dose",
    "run_diversity",
    "summarize",
    "t_quantile_975",
]

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
PAIRED_DEFINITION = (
    "paired difference = clean accuracy at the dose minus clean accuracy at dose 0 with the same seed (same weight "
    "initialisation and data order); its mean over the seeds that ran at both doses with the 95% interval of that "
    "mean (Student t, n-1 degrees of freedom; one pair: no interval). A dose beats dose 0 when the interval lies "
    "above 0"
)
P_IMPROVEMENT_DEFINITION = (
    "P(improvement) = P(dose > dose 0) = share of the seed pairs where the dose's clean accuracy is higher than "
    "dose 0's (ties count half)"
)
P_IMPROVEMENT_CITATION = "Bouthillier et al., 2021, Accounting for Variance in Machine Learning Benchmarks"
NO_INTERVAL = "–"
NOT_AVAILABLE = "n/a"

_TIE = 1e-12  # mean clean accuracies (or paired differences) closer than this are a tie


def t_quantile_975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (the factor of a two-sided 95% interval),
    from `scipy.stats.t.ppf`."""
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"df: expected a positive integer number of degrees of freedom, got {df!r}")
    return float(stats.t.ppf(0.975, df))


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
class PairedComparison:
    """A dose against dose 0, paired by seed: clean accuracy at the dose minus clean accuracy at dose 0, per seed.

    Runs with the same seed share weight initialisation and data order, so a seed that is lucky at one dose
    tends to be lucky at the other; the per-seed difference cancels that shared part, and the interval of its
    mean is the one that says whether the dose helps (two per-dose intervals side by side keep the seed's
    spread in both and can overlap when every seed gains).

    - `seeds`: the pairs, seeds with a run at both doses (sorted); `unpaired_seeds`: seeds that ran at only
      one of the two doses, left out.
    - `difference`: the per-seed differences and the Student t 95% interval of their mean (n-1 degrees of
      freedom); one pair gives a mean and no interval, no pair gives neither.
    - `p_improvement`: the share of pairs where the dose's clean accuracy is higher than dose 0's (ties count
      half): the probability of improvement P(dose > dose 0) of Bouthillier et al. (2021), estimated over seeds.
    - `better`: the interval lies above 0 (its lower end > 0); None without an interval.
    """

    dose: float
    seeds: tuple[int, ...]
    difference: Estimate
    unpaired_seeds: tuple[int, ...] = ()

    @classmethod
    def of(cls, dose: float, clean: dict[int, float], zero: dict[int, float]) -> PairedComparison:
        """Pair `clean` (seed -> clean accuracy at `dose`) with `zero` (the same at dose 0) by seed."""
        seeds = tuple(sorted(set(clean) & set(zero)))
        differences = []
        for seed in seeds:
            difference = clean[seed] - zero[seed]
            differences.append(0.0 if abs(difference) <= _TIE else difference)  # float noise is a tie
        return cls(dose, seeds, Estimate.of(differences), tuple(sorted(set(clean) ^ set(zero))))

    @property
    def pairs(self) -> int:
        return len(self.seeds)

    @property
    def mean_difference(self) -> float | None:
        return self.difference.mean

    @property
    def ci95_low(self) -> float | None:
        return self.difference.low

    @property
    def ci95_high(self) -> float | None:
        return self.difference.high

    @property
    def wins(self) -> float:
        """Pairs where the dose beats dose 0, a tie counting half."""
        return sum(1.0 if d > 0 else 0.5 if d == 0 else 0.0 for d in self.difference.values)

    @property
    def p_improvement(self) -> float | None:
        return self.wins / self.pairs if self.pairs else None

    @property
    def better(self) -> bool | None:
        return None if self.ci95_low is None else self.ci95_low > 0

    def format_difference(self) -> str:
        """The mean difference in percentage points with a sign, "± half-width" ("–" for one pair, "n/a" for none)."""
        if self.mean_difference is None:
            return NOT_AVAILABLE
        half = self.difference.half_width
        return f"{self.mean_difference * 100:+.2f} ± {NO_INTERVAL if half is None else f'{half * 100:.2f}'}"

    def format_p(self) -> str:
        return NOT_AVAILABLE if self.p_improvement is None else f"{self.p_improvement:.2f}"

    def sentence(self, axis: str) -> str:
        """What the comparison says, in one or two sentences with the numbers (percentage points)."""
        if not self.pairs:
            return (
                f"Whether it beats dose 0 cannot be told: no seed ran at both {axis} = {format_dose(self.dose)} and"
                f" dose 0, so there is no pair (seeds at only one of them: {list(self.unpaired_seeds)})."
            )
        numbers = (
            f"clean accuracy {self.mean_difference * 100:+.2f} pp against dose 0, mean of the differences of"
            f" {self.pairs} seed pair{'s' if self.pairs > 1 else ''}; P(improvement) = {self.format_p()}"
            f" (higher in {self.wins:g} of {self.pairs})"
        )
        if self.better is None:
            return f"Whether it beats dose 0 cannot be told (one seed pair gives no interval): {numbers}."
        interval = f"95% interval {self.ci95_low * 100:+.2f} to {self.ci95_high * 100:+.2f} pp"
        if self.better:
            return f"It beats dose 0, paired by seed: {numbers}; the {interval} lies above 0."
        return f"It does not beat dose 0 beyond noise, paired by seed: {numbers}; the {interval} does not lie above 0."

    def to_dict(self) -> dict[str, Any]:
        return {
            "dose": self.dose,
            "baseline_dose": 0.0,
            "pairs": self.pairs,
            "seeds": list(self.seeds),
            "differences": [_json_number(v) for v in self.difference.values],
            "mean_difference": _json_number(self.mean_difference),
            "ci95_low": _json_number(self.ci95_low),
            "ci95_high": _json_number(self.ci95_high),
            "p_improvement": self.p_improvement,
            "better": self.better,
            "unpaired_seeds": list(self.unpaired_seeds),
        }


@dataclass(frozen=True)
class DoseRow:
    """Everything the summary says about one dose.

    `corruptions` maps a corruption name to its accuracy averaged over severities (per run) and then over
    the seeds that measured it, in the order the runs list them. `paired` compares the dose with dose 0 seed
    by seed (None at dose 0 itself and in a sweep without dose 0). `measures`: the task's own headline
    measures (`RunRecord.measures` whose names hold no "/", e.g. ReCode's `robust_accuracy`), over the seeds.
    """

    dose: float
    seeds: tuple[int, ...]
    clean: Estimate
    corrupted: Estimate
    affinity: Estimate
    diversity: Estimate
    corruptions: dict[str, float] = field(default_factory=dict)
    paired: PairedComparison | None = None
    measures: dict[str, Estimate] = field(default_factory=dict)

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
            "paired_vs_dose0": None if self.paired is None else self.paired.to_dict(),
            "measures": {name: estimate.to_dict() for name, estimate in self.measures.items()},
        }


@dataclass(frozen=True)
class Summary:
    """The summary of a sweep: one `DoseRow` per dose that has runs (sorted), and the verdicts.

    - `best_dose`: the dose with the highest mean clean accuracy (ties: the smaller dose).
    - `paired_vs_dose0`: the best dose against dose 0, paired by seed (`PairedComparison`); None when the
      best dose is dose 0 or there is no dose-0 run.
    - `best_beats_zero`: the paired verdict, `paired_vs_dose0.better`: the 95% interval of the mean per-seed
      difference in clean accuracy lies above 0; False when the best dose is dose 0; None when it cannot be
      told (no dose-0 runs, fewer than two seeds at both doses). The best dose is picked on the same runs, so
      with many doses this test is somewhat optimistic.
    - `falls_at_overdose`: the largest dose's mean clean accuracy is below the best dose's.
    - `missing_doses`: doses of the spec without any run; `notes`: plain sentences about what is missing.
    - `spread`: with more than one seed series (`SweepSpec.vary`), the spread over seeds of each series at
      each dose (`mithridate.experiments.variance`); empty otherwise.
    """

    spec: SweepSpec
    rows: list[DoseRow]
    best_dose: float
    best_beats_zero: bool | None
    falls_at_overdose: bool
    missing_doses: tuple[float, ...] = ()
    notes: tuple[str, ...] = ()
    spread: tuple[SourceSpread, ...] = ()

    @property
    def axis(self) -> str:
        return self.spec.axis

    @property
    def paired_vs_dose0(self) -> PairedComparison | None:
        """The best dose against dose 0, paired by seed (None when the best dose is dose 0 or without dose 0)."""
        return self.best.paired

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
    def measure_names(self) -> list[str]:
        """The task's headline measures over all doses, in the order the runs list them."""
        return list(dict.fromkeys(name for row in self.rows for name in row.measures))

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
            "paired_vs_dose0": None if self.paired_vs_dose0 is None else self.paired_vs_dose0.to_dict(),
            "falls_at_overdose": self.falls_at_overdose,
            "missing_doses": list(self.missing_doses),
            "notes": list(self.notes),
            "definitions": {
                "affinity": AFFINITY_DEFINITION,
                "diversity": DIVERSITY_DEFINITION,
                "citation": CITATION,
                "interval": INTERVAL_LEGEND,
                "paired": PAIRED_DEFINITION,
                "p_improvement": P_IMPROVEMENT_DEFINITION,
                "p_improvement_citation": P_IMPROVEMENT_CITATION,
            },
            "rows": [row.to_dict() for row in self.rows],
            "variance_by_source": [spread.to_dict() for spread in self.spread],
        }

    def verdict(self) -> str:
        """The best dose and whether it beats dose 0 (paired by seed, with the numbers); whether the curve falls
        again at the overdose."""
        best = self.best
        text = (
            f"Best dose: {self.axis} = {format_dose(self.best_dose)}"
            f" (clean accuracy {best.clean.format(percent=True)} %)."
        )
        paired = self.paired_vs_dose0
        if self.zero is None:
            text += " Whether it beats dose 0 cannot be told (no dose-0 runs, so no paired comparison)."
        elif paired is None:
            text += " No dose beats dose 0 on mean clean accuracy."
        else:
            text += " " + paired.sentence(self.axis)
        largest = self.rows[-1]
        if largest.dose == self.best_dose:
            text += " The largest dose is the best: the curve does not fall again within the doses swept."
        else:
            fell = "falls again" if self.falls_at_overdose else "does not fall"
            text += (
                f" At the largest dose ({format_dose(largest.dose)}) the curve {fell}"
                f" (clean accuracy {largest.clean.format(percent=True)} %)."
            )
        return text

    def format_table(self, *, corruptions: bool = True) -> str:
        """A plain-text table: per dose the four metrics as "mean ± half-width" (accuracies in %), the seed
        count and, where the sweep ran dose 0, the paired difference in clean accuracy against dose 0 and
        P(improvement); the best dose marked "*", a legend, the verdict, the definitions and, with
        `corruptions`, the accuracy per corruption and dose."""
        header = ["", f"dose ({self.axis})", "clean acc. %", "corrupted acc. %", "affinity", "diversity", "seeds"]
        paired = self.zero is not None
        if paired:
            header += ["Δ clean vs 0 (paired) pp", "P(> dose 0)"]
        lines = [header]
        for row in self.rows:
            cells = [
                "*" if row.dose == self.best_dose else "",
                format_dose(row.dose),
                row.clean.format(percent=True),
                row.corrupted.format(percent=True),
                row.affinity.format(),
                row.diversity.format(),
                str(row.n_seeds),
            ]
            if paired:
                cells += ["ref", ""] if row.paired is None else [row.paired.format_difference(), row.paired.format_p()]
            lines.append(cells)
        out = aligned_columns(lines, right=range(1, len(header)))
        out.append("")
        out.append(f"* best dose: highest mean clean accuracy (ties: the smaller dose). {INTERVAL_LEGEND}.")
        if paired:
            out.append(
                f"Δ clean vs 0: {PAIRED_DEFINITION}. {P_IMPROVEMENT_DEFINITION}, after {P_IMPROVEMENT_CITATION}."
            )
        out.append(self.verdict())
        out.append(f"Definitions: {DEFINITIONS}")
        out.extend(self.notes)
        if self.spread:
            header, rows = spread_table_rows(self.spread)
            out.append("")
            out.append("Spread of clean accuracy over seeds, by source of randomness:")
            out.extend(aligned_columns([header, *rows], right=range(1, len(header))))
            out.append(f"{SPREAD_DEFINITION}.")
        measure_names = self.measure_names
        if measure_names:
            out.append("")
            out.append("The task's measures (mean ± half-width over seeds; accuracies in %):")
            table = [[f"dose ({self.axis})", *measure_names]]
            for r in self.rows:
                cells = [format_measure(name, r.measures[name]) if name in r.measures else NOT_AVAILABLE
                         for name in measure_names]  # fmt: skip
                table.append([("*" if r.dose == self.best_dose else "") + format_dose(r.dose), *cells])
            out.extend(aligned_columns(table, right=range(1, len(table[0]))))
        names = self.corruption_names
        if corruptions and names:
            out.append("")
            out.append("Accuracy % per corruption (mean over severities, then over seeds):")
            table = [
                ["corruption", *(("*" if r.dose == self.best_dose else "") + format_dose(r.dose) for r in self.rows)]
            ]
            for name in names:
                cells = [
                    f"{r.corruptions[name] * 100:.2f}" if name in r.corruptions else NOT_AVAILABLE for r in self.rows
                ]
                table.append([name, *cells])
            out.extend(aligned_columns(table, right=range(1, len(table[0]))))
        return "\n".join(out)


def _json_number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def format_measure(name: str, estimate: Estimate) -> str:
    """A task measure as "mean ± half-width": in % when its name ends with "accuracy"."""
    return estimate.format(percent=name.endswith("accuracy"))


def format_dose(dose: float) -> str:
    """A dose as written on an axis: 0, 0.5, 1, 1.25 (no trailing zeros)."""
    return f"{dose:g}"


def _match_dose(dose: float, spec: SweepSpec) -> float:
    for known in spec.doses:
        if math.isclose(dose, known, rel_tol=1e-9, abs_tol=1e-12):
            return known
    raise ValueError(f"run at dose {dose!r}: expected one of the spec's doses {list(spec.doses)}")


def check_records(records: Sequence[RunRecord], spec: SweepSpec) -> dict[tuple[float, int], RunRecord]:
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


def run_diversity(record: RunRecord, base: RunRecord | None) -> float | None:
    return None if base is None else diversity(record.final_train_loss, base.final_train_loss)


def summarize(records: list[RunRecord], spec: SweepSpec) -> Summary:
    """The `Summary` of the runs of one sweep (all with `spec`'s hash and one run per dose and seed).

    Diversity divides each run's final training loss by that of the dose-0 run with the same seed; a run
    whose seed has no dose-0 run (or whose dose-0 loss is not a positive number) has no diversity, and a
    sweep without dose 0 has none at all (said in `notes`). Affinity is taken from the records (None
    values are left out of its mean). Each dose is compared with dose 0 seed by seed (`PairedComparison`,
    only seeds that ran at both doses count); the best dose's comparison is the verdict `best_beats_zero`.
    """
    runs = check_records(records, spec)
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
        diversities = [run_diversity(r, zero_runs.get(seed)) for seed, r in at_dose]
        per_run = [_corruption_means(r) for r in group]
        names = list(dict.fromkeys(name for means in per_run for name in means))
        corruptions = {
            name: math.fsum(m[name] for m in per_run if name in m) / sum(name in m for m in per_run) for name in names
        }
        measure_names = dict.fromkeys(name for r in group for name in r.measures if "/" not in name)
        measures = {
            name: Estimate.of([r.measures[name] for r in group if math.isfinite(r.measures.get(name, math.nan))])
            for name in measure_names
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
                measures=measures,
                paired=None
                if dose == 0.0 or not zero_runs
                else PairedComparison.of(
                    dose,
                    {seed: r.clean_accuracy for seed, r in at_dose},
                    {seed: r.clean_accuracy for seed, r in zero_runs.items()},
                ),
            )
        )
    if zero_runs:
        lacking = sorted({seed for (_, seed) in runs} - set(zero_runs))
        if lacking:
            notes.append(f"Seeds without a dose-0 run (their runs have no diversity): {lacking}.")
    missing = tuple(dose for dose in spec.doses if all(row.dose != dose for row in rows))
    if missing:
        notes.append(f"Doses of the spec without any run: {[format_dose(d) for d in missing]}.")

    best = rows[0]
    for row in rows[1:]:
        if row.clean.mean > best.clean.mean + _TIE:  # rows are sorted: a tie keeps the smaller dose
            best = row
    if best.paired is not None and best.paired.unpaired_seeds:
        notes.append(
            f"Paired comparison of the best dose with dose 0: seeds {list(best.paired.unpaired_seeds)} ran at only"
            " one of the two doses and are left out."
        )
    return Summary(
        spec=spec,
        rows=rows,
        best_dose=best.dose,
        best_beats_zero=(best.paired.better if best.paired is not None else False if zero_runs else None),
        falls_at_overdose=rows[-1].clean.mean < best.clean.mean - _TIE,
        missing_doses=missing,
        notes=tuple(notes),
    )
