"""The sweep summary (means, t intervals, diversity, best dose, the paired comparison with dose 0, verdicts,
text table) and the report (PNG figures, one self-contained HTML page, checked in headless Chromium)."""

from __future__ import annotations

import base64
import io
import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from mithridate.experiments.records import RunRecord, SweepSpec
from mithridate.experiments.report import FIGURE_FILES, write_report, write_summary_json
from mithridate.experiments.summary import Estimate, PairedComparison, summarize, t_quantile_975

T2 = 4.302652729749464  # t_{0.975, 2}, for n = 3 seeds
CORRUPTIONS = ("gaussian_noise", "shot_noise", "defocus_blur", "motion_blur", "contrast", "fog", "jpeg", "pixelate")


def record(
    spec: SweepSpec,
    dose: float,
    seed: int,
    clean: float,
    *,
    corrupted: float | None = None,
    loss: float = 0.5,
    affinity: float | None = 1.0,
    corruption_accuracy: dict[str, float] | None = None,
) -> RunRecord:
    corruption_accuracy = corruption_accuracy if corruption_accuracy is not None else {"noise/1": clean - 0.1}
    return RunRecord(
        sweep_id="test-sweep",
        spec_hash=spec.spec_hash(),
        data=spec.data,
        policy=spec.policy,
        axis=spec.axis,
        dose=dose,
        seed=seed,
        clean_accuracy=clean,
        corrupted_accuracy=clean - 0.2 if corrupted is None else corrupted,
        corruption_accuracy=corruption_accuracy,
        affinity=affinity,
        final_train_loss=loss,
        train_seconds=12.5,
        eval_seconds=1.5,
        augment_images_per_second=25_000.0,
        peak_memory_mb=512.0,
        versions={"mithridate": "0.1.0", "torch": "2.14.1", "python": "3.11.7"},
        started_at="2025-01-01T10:00:00+00:00",
        finished_at="2025-01-01T10:00:14+00:00",
    )


def sweep(spec: SweepSpec, clean: dict[float, list[float]], **kwargs) -> list[RunRecord]:
    return [record(spec, dose, seed, c, **kwargs) for dose, values in clean.items() for seed, c in enumerate(values)]


# summarize --------------------------------------------------------------------------------------------


def test_t_quantiles_known_values():
    # published t_{0.975, df} (the values of the table this replaced), and df = 1000 near the normal 1.959964
    known = {1: 12.706204736, 2: 4.302652730, 10: 2.228138852, 29: 2.045229642, 30: 2.042272456, 1000: 1.962339081}
    for df, value in known.items():
        assert t_quantile_975(df) == pytest.approx(value, abs=1e-7), df
    assert isinstance(t_quantile_975(5), float)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="degrees of freedom"):
            t_quantile_975(bad)


def test_means_and_t_intervals_by_hand():
    spec = SweepSpec(doses=(0.0, 1.0), seeds=3)
    records = [
        record(spec, 0.0, 0, 0.80, corrupted=0.60, affinity=1.0),
        record(spec, 0.0, 1, 0.82, corrupted=0.61, affinity=1.0),
        record(spec, 0.0, 2, 0.84, corrupted=0.65, affinity=1.0),
        record(spec, 1.0, 2, 0.94, corrupted=0.70, affinity=0.7),  # order of records does not matter
        record(spec, 1.0, 0, 0.90, corrupted=0.72, affinity=0.8),
        record(spec, 1.0, 1, 0.92, corrupted=0.71, affinity=0.9),
    ]
    summary = summarize(records, spec)
    assert [row.dose for row in summary.rows] == [0.0, 1.0]
    zero, one = summary.rows
    assert one.seeds == (0, 1, 2) and one.n_seeds == 3
    # clean at dose 1: mean 0.92, sd 0.02, half-width t_{0.975,2} * 0.02 / sqrt(3) = 0.049683
    assert one.clean.mean == pytest.approx(0.92)
    assert one.clean.half_width == pytest.approx(4.3027 * 0.02 / math.sqrt(3), rel=1e-4)
    assert one.clean.half_width == pytest.approx(0.0496837, abs=1e-6)
    assert (one.clean.low, one.clean.high) == pytest.approx((0.92 - 0.0496837, 0.92 + 0.0496837), abs=1e-6)
    # corrupted at dose 0: 0.60, 0.61, 0.65 -> mean 0.62, sd sqrt(((-.02)^2 + (-.01)^2 + .03^2) / 2)
    sd = math.sqrt((0.02**2 + 0.01**2 + 0.03**2) / 2)
    assert zero.corrupted.mean == pytest.approx(0.62)
    assert zero.corrupted.half_width == pytest.approx(T2 * sd / math.sqrt(3))
    assert one.affinity.mean == pytest.approx(0.8)
    assert one.affinity.half_width == pytest.approx(T2 * 0.1 / math.sqrt(3))
    assert zero.affinity.half_width == pytest.approx(0.0)


def test_corruption_means_average_severities_then_seeds():
    spec = SweepSpec(doses=(0.0,), seeds=2)
    records = [
        record(spec, 0.0, 0, 0.9, corruption_accuracy={"fog/1": 0.8, "fog/3": 0.6, "jpeg/2": 0.5}),
        record(spec, 0.0, 1, 0.9, corruption_accuracy={"fog/1": 0.9, "fog/3": 0.7, "jpeg/2": 0.3}),
    ]
    row = summarize(records, spec).rows[0]
    assert row.corruptions == pytest.approx({"fog": 0.75, "jpeg": 0.4})


def test_diversity_divides_by_the_dose_zero_run_of_the_same_seed():
    spec = SweepSpec(doses=(0.0, 1.0, 2.0), seeds=2)
    losses = {(0.0, 0): 0.5, (0.0, 1): 0.25, (1.0, 0): 1.0, (1.0, 1): 0.75, (2.0, 0): 2.0, (2.0, 1): 0.5}
    records = [record(spec, dose, seed, 0.9, loss=loss) for (dose, seed), loss in losses.items()]
    rows = summarize(records, spec).rows
    assert rows[0].diversity.values == (1.0, 1.0)
    assert rows[1].diversity.values == pytest.approx((2.0, 3.0))  # 1.0/0.5, 0.75/0.25 (not 0.75/0.5)
    assert rows[1].diversity.mean == pytest.approx(2.5)
    assert rows[2].diversity.values == pytest.approx((4.0, 2.0))


def test_without_dose_zero_there_is_no_diversity():
    spec = SweepSpec(doses=(0.5, 1.0), seeds=2)
    summary = summarize(sweep(spec, {0.5: [0.9, 0.91], 1.0: [0.92, 0.93]}), spec)
    assert all(row.diversity.mean is None and row.diversity.n == 0 for row in summary.rows)
    assert summary.zero is None and summary.best_beats_zero is None and summary.paired_vs_dose0 is None
    assert all(row.paired is None for row in summary.rows)
    assert any("No dose-0 run" in note for note in summary.notes)
    assert "n/a" in summary.format_table() and "P(> dose 0)" not in summary.format_table()
    assert "no dose-0 runs" in summary.verdict()
    assert summary.to_dict()["rows"][0]["diversity"]["mean"] is None
    assert summary.to_dict()["paired_vs_dose0"] is None


def test_a_seed_without_dose_zero_run_has_no_diversity():
    spec = SweepSpec(doses=(0.0, 1.0), seeds=2)
    records = [
        record(spec, 0.0, 0, 0.9, loss=0.5),
        record(spec, 1.0, 0, 0.9, loss=1.0),
        record(spec, 1.0, 1, 0.9, loss=3.0),
    ]
    summary = summarize(records, spec)
    assert summary.rows[1].diversity.values == (2.0,)
    assert summary.rows[1].n_seeds == 2
    assert any("[1]" in note for note in summary.notes)


def test_best_dose_and_tie_break():
    spec = SweepSpec(doses=(0.0, 0.5, 1.0, 2.0), seeds=2)
    summary = summarize(sweep(spec, {0.0: [0.8, 0.8], 0.5: [0.85, 0.87], 1.0: [0.9, 0.88], 2.0: [0.7, 0.7]}), spec)
    assert summary.best_dose == 1.0
    # 0.5 and 1.0 tie (the same values in another order): the smaller dose wins
    tie = summarize(sweep(spec, {0.0: [0.8, 0.8], 0.5: [0.91, 0.89, 0.93], 1.0: [0.93, 0.91, 0.89]}), spec)
    assert tie.best_dose == 0.5


def test_best_beats_zero_paired_by_seed():
    spec = SweepSpec(doses=(0.0, 1.0, 2.0), seeds=3)
    clear = summarize(sweep(spec, {0.0: [0.80, 0.81, 0.82], 1.0: [0.90, 0.91, 0.92], 2.0: [0.85, 0.86, 0.87]}), spec)
    assert clear.best_dose == 1.0
    assert clear.best_beats_zero is True and clear.paired_vs_dose0.better is True
    assert clear.paired_vs_dose0.mean_difference == pytest.approx(0.10)
    # the best dose is dose 0 itself: nothing to pair, and no dose beats it
    zero = summarize(sweep(spec, {0.0: [0.9, 0.9, 0.9], 1.0: [0.8, 0.8, 0.8]}), spec)
    assert zero.best_dose == 0.0 and zero.best_beats_zero is False and zero.paired_vs_dose0 is None
    assert "No dose beats dose 0" in zero.verdict()
    assert zero.rows[1].paired.mean_difference == pytest.approx(-0.10)  # the other doses are still compared
    assert zero.to_dict()["paired_vs_dose0"] is None


def test_shared_seed_effects_overlapping_intervals_but_paired_better():
    """The motivating case: the seed moves both doses alike; each dose's interval is wide, the gain is not."""
    spec = SweepSpec(doses=(0.0, 1.0), seeds=5)
    base = [0.80, 0.84, 0.88, 0.82, 0.86]
    gain = [0.010, 0.012, 0.008, 0.011, 0.009]
    summary = summarize(sweep(spec, {0.0: base, 1.0: [b + g for b, g in zip(base, gain, strict=True)]}), spec)
    assert summary.best_dose == 1.0
    assert summary.best.clean.low < summary.zero.clean.high  # the unpaired intervals overlap
    paired = summary.paired_vs_dose0
    assert paired is summary.best.paired and paired.dose == 1.0
    assert paired.seeds == (0, 1, 2, 3, 4) and paired.pairs == 5 and paired.unpaired_seeds == ()
    assert paired.difference.values == pytest.approx(gain)
    assert paired.mean_difference == pytest.approx(0.010)
    assert paired.ci95_low > 0 and paired.better is True and summary.best_beats_zero is True
    assert paired.p_improvement == 1.0
    verdict = summary.verdict()
    assert "It beats dose 0, paired by seed" in verdict and "P(improvement) = 1.00" in verdict
    assert "+1.00 pp" in verdict and "beyond both" not in verdict
    table = summary.format_table()
    assert "Δ clean vs 0 (paired) pp" in table and "P(> dose 0)" in table
    best_line = next(line for line in table.splitlines() if line.startswith("*"))
    half = t_quantile_975(4) * float(np.std(gain, ddof=1)) / math.sqrt(5)
    assert f"+1.00 ± {half * 100:.2f}" in best_line and best_line.endswith("1.00")
    assert "Bouthillier et al., 2021" in table and "ties count half" in table


def test_paired_interval_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(7)
    for n in (2, 3, 5, 12):
        spec = SweepSpec(doses=(0.0, 0.5), seeds=n)
        zero = rng.uniform(0.7, 0.9, n)
        dose = zero + rng.normal(0.005, 0.01, n)
        paired = summarize(sweep(spec, {0.0: list(zero), 0.5: list(dose)}), spec).rows[1].paired
        differences = dose - zero
        low, high = stats.t.interval(0.95, n - 1, loc=differences.mean(), scale=stats.sem(differences))
        assert paired.mean_difference == pytest.approx(differences.mean(), abs=1e-12)
        assert (paired.ci95_low, paired.ci95_high) == pytest.approx((low, high), abs=1e-9), n
        test = stats.ttest_rel(dose, zero)  # the interval excludes 0 exactly when the paired t test rejects at 5%
        assert paired.better == (test.pvalue < 0.05 and test.statistic > 0), n
        assert paired.p_improvement == pytest.approx(np.mean(differences > 0))


def test_mixed_sign_differences_are_not_better():
    spec = SweepSpec(doses=(0.0, 1.0), seeds=4)
    summary = summarize(sweep(spec, {0.0: [0.80, 0.80, 0.80, 0.80], 1.0: [0.83, 0.79, 0.82, 0.78]}), spec)
    assert summary.best_dose == 1.0  # mean +0.5 points
    paired = summary.paired_vs_dose0
    assert paired.mean_difference == pytest.approx(0.005)
    assert paired.ci95_low < 0 < paired.ci95_high
    assert paired.better is False and summary.best_beats_zero is False
    assert paired.p_improvement == 0.5
    assert "It does not beat dose 0 beyond noise, paired by seed" in summary.verdict()
    assert "higher in 2 of 4" in summary.verdict()


def test_p_improvement_counts_ties_half():
    spec = SweepSpec(doses=(0.0, 1.0), seeds=5)
    # differences +1, 0, 0 (0.1 + 0.2 against 0.3: float noise is a tie), -1, +2 points: (1 + .5 + .5 + 0 + 1) / 5
    summary = summarize(
        sweep(spec, {0.0: [0.80, 0.80, 0.3, 0.80, 0.80], 1.0: [0.81, 0.80, 0.1 + 0.2, 0.79, 0.82]}), spec
    )
    paired = summary.rows[1].paired
    assert paired.difference.values[1:3] == (0.0, 0.0)
    assert paired.wins == 3.0 and paired.p_improvement == pytest.approx(0.6)
    comparison = PairedComparison.of(1.0, {0: 0.9, 1: 0.9}, {0: 0.9, 1: 0.9})
    assert comparison.p_improvement == 0.5 and comparison.mean_difference == 0.0
    assert comparison.better is False  # an interval [0, 0] does not lie above 0


def test_one_seed_pair_has_no_paired_interval():
    spec = SweepSpec(doses=(0.0, 1.0), seeds=1)
    summary = summarize(sweep(spec, {0.0: [0.8], 1.0: [0.9]}), spec)
    paired = summary.paired_vs_dose0
    assert paired.pairs == 1 and paired.mean_difference == pytest.approx(0.1)
    assert paired.ci95_low is None and paired.ci95_high is None and paired.better is None
    assert paired.p_improvement == 1.0 and summary.best_beats_zero is None
    assert "one seed pair gives no interval" in summary.verdict()
    assert "+10.00 ± –" in summary.format_table()
    data = summary.to_dict()["paired_vs_dose0"]
    assert data["pairs"] == 1 and data["ci95_low"] is None and data["better"] is None


def test_only_seeds_at_both_doses_are_paired():
    spec = SweepSpec(doses=(0.0, 1.0), seeds=4)
    records = [
        record(spec, 0.0, 0, 0.80),
        record(spec, 0.0, 1, 0.70),
        record(spec, 0.0, 2, 0.75),
        record(spec, 1.0, 1, 0.74),
        record(spec, 1.0, 2, 0.78),
        record(spec, 1.0, 3, 0.99),  # no dose-0 run of seed 3: left out of the pairs
    ]
    summary = summarize(records, spec)
    paired = summary.paired_vs_dose0
    assert paired.seeds == (1, 2) and paired.unpaired_seeds == (0, 3)
    assert paired.difference.values == pytest.approx((0.04, 0.03))
    half = t_quantile_975(1) * float(np.std([0.04, 0.03], ddof=1)) / math.sqrt(2)
    assert (paired.ci95_low, paired.ci95_high) == pytest.approx((0.035 - half, 0.035 + half))
    assert paired.better is False  # df = 1: t = 12.7, the interval reaches below 0
    assert any("seeds [0, 3] ran at only one of the two doses" in note for note in summary.notes)
    # no seed at both doses: no pair, nothing told
    lonely = summarize([record(spec, 0.0, 0, 0.8), record(spec, 1.0, 1, 0.9), record(spec, 1.0, 2, 0.9)], spec)
    paired = lonely.paired_vs_dose0
    assert paired.pairs == 0 and paired.mean_difference is None and paired.p_improvement is None
    assert paired.better is None and lonely.best_beats_zero is None
    assert "no seed ran at both" in lonely.verdict()


def test_falls_at_overdose():
    spec = SweepSpec(doses=(0.0, 1.0, 3.0), seeds=2)
    falls = summarize(sweep(spec, {0.0: [0.8, 0.8], 1.0: [0.9, 0.9], 3.0: [0.85, 0.84]}), spec)
    assert falls.falls_at_overdose is True
    rises = summarize(sweep(spec, {0.0: [0.8, 0.8], 1.0: [0.9, 0.9], 3.0: [0.95, 0.94]}), spec)
    assert rises.best_dose == 3.0 and rises.falls_at_overdose is False
    flat = summarize(sweep(spec, {0.0: [0.8, 0.8], 1.0: [0.9, 0.9], 3.0: [0.9, 0.9]}), spec)
    assert flat.best_dose == 1.0 and flat.falls_at_overdose is False


def test_one_seed_gives_no_interval():
    spec = SweepSpec(doses=(0.0, 1.0), seeds=1)
    summary = summarize(sweep(spec, {0.0: [0.8], 1.0: [0.9]}), spec)
    row = summary.best
    assert row.clean.mean == pytest.approx(0.9) and row.clean.half_width is None and row.clean.low is None
    assert summary.best_beats_zero is None
    assert row.clean.format(percent=True) == "90.00 ± –"
    assert "90.00 ± –" in summary.format_table()
    assert Estimate.of([]).format() == "n/a"


def test_format_table_marks_the_best_dose_and_defines_the_metrics():
    spec = SweepSpec(doses=(0.0, 0.5, 1.0), seeds=3)
    summary = summarize(sweep(spec, {0.0: [0.80, 0.81, 0.82], 0.5: [0.90, 0.91, 0.92], 1.0: [0.85, 0.86, 0.86]}), spec)
    table = summary.format_table()
    lines = table.splitlines()
    header = lines[0]
    for column in ("dose (strength)", "clean acc. %", "corrupted acc. %", "affinity", "diversity", "seeds"):
        assert column in header
    best_line = next(line for line in lines[1:4] if line.startswith("*"))
    assert best_line.split()[1] == "0.5" and "91.00 ± " in best_line
    assert sum(line.startswith("*") for line in lines[1:4]) == 1
    assert "* best dose: highest mean clean accuracy" in table
    assert "Gontijo-Lopes et al., 2020" in table
    assert "affinity = accuracy of the dose-0 model on the test set augmented at the dose / its clean accuracy" in table
    assert "diversity = final training loss of the run at the dose / final training loss of the dose-0 run" in table
    assert "noise" in table  # the per-corruption block


def test_summary_checks_its_input():
    spec = SweepSpec(doses=(0.0, 1.0), seeds=2)
    with pytest.raises(ValueError, match="at least one run"):
        summarize([], spec)
    other = SweepSpec(doses=(0.0, 1.0), seeds=2, learning_rate=0.1)  # another recipe
    with pytest.raises(ValueError, match="spec hash"):
        summarize([record(other, 0.0, 0, 0.9)], spec)
    with pytest.raises(ValueError, match="appear twice"):
        summarize([record(spec, 0.0, 0, 0.9), record(spec, 0.0, 0, 0.8)], spec)
    with pytest.raises(ValueError, match="spec's doses"):
        summarize([record(spec, 0.7, 0, 0.9)], spec)


def test_summary_json(tmp_path):
    spec = SweepSpec(doses=(0.0, 1.0), seeds=2)
    records = sweep(spec, {0.0: [0.8, 0.82], 1.0: [0.9, 0.91]})
    records[3].final_train_loss = math.nan  # a diverged run: JSON must stay strict
    summary = summarize(records, spec)
    path = write_summary_json(tmp_path, summary)
    data = json.loads(path.read_text())
    assert data["best_dose"] == 1.0 and data["spec"] == spec.to_dict() and data["spec_hash"] == spec.spec_hash()
    assert data["rows"][1]["clean_accuracy"]["mean"] == pytest.approx(0.905)
    assert data["rows"][1]["diversity"]["mean"] is None
    paired = data["paired_vs_dose0"]
    assert set(paired) == {
        "dose", "baseline_dose", "pairs", "seeds", "differences", "mean_difference", "ci95_low", "ci95_high",
        "p_improvement", "better", "unpaired_seeds",
    }  # fmt: skip
    assert paired["dose"] == 1.0 and paired["baseline_dose"] == 0.0 and paired["pairs"] == 2
    assert paired["seeds"] == [0, 1] and paired["differences"] == pytest.approx([0.1, 0.09])
    half = t_quantile_975(1) * 0.005 * math.sqrt(2) / math.sqrt(2)  # sd of (0.10, 0.09) = 0.005 * sqrt(2)
    assert paired["mean_difference"] == pytest.approx(0.095)
    assert (paired["ci95_low"], paired["ci95_high"]) == pytest.approx((0.095 - half, 0.095 + half))
    assert paired["p_improvement"] == 1.0 and paired["better"] is True and data["best_beats_zero"] is True
    assert data["rows"][1]["paired_vs_dose0"] == paired and data["rows"][0]["paired_vs_dose0"] is None
    assert "ties count half" in data["definitions"]["p_improvement"]
    assert "Bouthillier" in data["definitions"]["p_improvement_citation"]


# report -----------------------------------------------------------------------------------------------


def realistic_sweep(seeds: int = 3, doses=(0.0, 0.5, 1.0, 1.5, 2.0, 3.0)) -> tuple[SweepSpec, list[RunRecord]]:
    """A sweep whose clean accuracy rises to a best dose and falls at the overdose."""
    spec = SweepSpec(doses=doses, seeds=seeds, epochs=30, train_size=100, model="small_cnn")
    rng = np.random.default_rng(0)
    records = []
    for dose in spec.doses:
        for seed in range(seeds):
            clean = 0.90 + 0.05 * dose * math.exp(1 - dose) - 0.015 * max(0.0, dose - 2) + rng.normal(0, 0.004)
            accuracies = {
                f"{name}/{severity}": clean - 0.04 * severity * (1 + k / 8) + 0.03 * min(dose, 1.5) * (k % 3)
                for k, name in enumerate(CORRUPTIONS)
                for severity in spec.severities
            }
            r = record(
                spec,
                dose,
                seed,
                clean,
                corrupted=float(np.mean(list(accuracies.values()))),
                loss=0.20 * (1 + 0.8 * dose + 0.1 * dose**2) * (1 + rng.normal(0, 0.02)),
                affinity=1.0 if dose == 0 else 1.0 - 0.12 * dose + rng.normal(0, 0.01),
                corruption_accuracy=accuracies,
            )
            records.append(r)
    return spec, records


def preview_image() -> PIL.Image.Image:
    import mithridate as mt
    from mithridate.data import load_digits
    from mithridate.image.preview import preview_grid

    policy = mt.image.TrivialAugmentWide(dose=mt.Dose(p=1.0, strength=1.0), seed=0)
    return preview_grid(policy, load_digits().images[:3], cols=5)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _check_png(path: Path, min_size=(500, 300)) -> PIL.Image.Image:
    assert path.is_file() and path.stat().st_size > 2000, path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with PIL.Image.open(path) as image:
        image.verify()
    image = PIL.Image.open(path)
    image.load()
    assert image.format == "PNG"
    assert image.width >= min_size[0] and image.height >= min_size[1], (path.name, image.size)
    assert image.width <= 4000 and image.height <= 4000
    assert np.asarray(image.convert("L"), dtype=np.float64).std() > 5, f"{path.name} looks blank"
    return image


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, int]:
    spec, records = realistic_sweep()
    out = tmp_path_factory.mktemp("report")
    path = write_report(out, summarize(records, spec), records, preview=preview_image())
    return path, len(records)


def test_report_writes_the_four_figures(report):
    path, _ = report
    assert path.name == "report.html"
    for name in FIGURE_FILES:
        _check_png(path.parent / name, min_size=(300, 200) if name == "preview.png" else (900, 500))


def test_report_html_is_self_contained(report):
    path, runs = report
    text = path.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    parser = _Tags()
    parser.feed(text)
    for tag, attrs in parser.tags:
        for name in ("src", "href", "srcset", "action", "poster", "data"):
            value = attrs.get(name)
            assert value is None or value.startswith("data:") or value.startswith("#"), (tag, name, value[:80])
        assert tag not in ("link", "iframe", "object", "embed", "base"), tag
    assert not re.search(r"url\(\s*['\"]?(?!data:)", text), "CSS must not load external resources"
    assert "@import" not in text
    images = [attrs for tag, attrs in parser.tags if tag == "img"]
    assert len(images) == 4
    ids = [attrs.get("id") for attrs in images]
    assert all(ids) and len(set(ids)) == 4
    for attrs in images:
        assert attrs["src"].startswith("data:image/png;base64,")
        data = base64.b64decode(attrs["src"].split(",", 1)[1])
        assert PIL.Image.open(io.BytesIO(data)).size == (int(attrs["width"]), int(attrs["height"]))
    # content: the spec, the summary with the best dose highlighted, definitions, runs, versions
    # the summary row, the paired row and the three runs at the best dose
    assert text.count('<tr class="best">') == 1 + 1 + 3
    assert "small_cnn" in text and "Gontijo-Lopes" in text and "2.14.1" in text
    assert text.count("<figcaption>") == 4
    runs_table = text.split("<h2>Runs</h2>", 1)[1].split("</table>", 1)[0]
    assert runs_table.count("<tr") == runs + 1


def test_report_shows_the_paired_comparison(report):
    path, _ = report
    text = path.read_text(encoding="utf-8")
    spec, records = realistic_sweep()
    summary = summarize(records, spec)
    paired = summary.paired_vs_dose0
    assert paired is not None and paired.better is True and paired.pairs == 3
    section = text.split("<h2>Against dose 0, paired by seed</h2>", 1)[1].split("<h2>", 1)[0]
    verdict = re.search(r'<p id="paired-verdict">(.*?)</p>', section).group(1)
    assert "It beats dose 0, paired by seed" in verdict
    assert (
        f"{paired.mean_difference * 100:+.2f} pp" in verdict
        and f"P(improvement) = {paired.p_improvement:.2f}" in verdict
    )
    table = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert table.count("<tr") == len(spec.doses) - 1  # every dose but dose 0
    best_row = re.search(r'<tr class="best">(.*?)</tr>', table).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", best_row)
    assert cells[1:] == [
        "3",
        f"{paired.mean_difference * 100:+.2f}",
        f"{paired.ci95_low * 100:+.2f} to {paired.ci95_high * 100:+.2f}",
        f"{paired.p_improvement:.2f}",
        "better",
    ]
    assert "Per-seed differences at the best dose" in section
    assert "ties count half" in section and "Bouthillier et al., 2021" in section
    assert "<dt>P(improvement)</dt>" in text and "<dt>paired difference</dt>" in text


def test_report_without_preview_and_with_degenerate_sweeps(tmp_path):
    spec, records = realistic_sweep(seeds=1, doses=(0.5, 1.0))  # one seed, no dose 0
    path = write_report(tmp_path / "a", summarize(records, spec), records, title="Small <sweep>")
    assert not (path.parent / "preview.png").exists()
    text = path.read_text()
    assert text.count("<img ") == 3 and "Small &lt;sweep&gt;" in text
    assert "No dose-0 run: there is nothing to pair the doses with." in text
    for name in FIGURE_FILES[:3]:
        _check_png(path.parent / name)
    spec = SweepSpec(doses=(0.0,), seeds=2, axis="p")
    records = sweep(spec, {0.0: [0.8, 0.82]}, corruption_accuracy={})  # one dose, no corruption measured
    path = write_report(tmp_path / "b", summarize(records, spec), records)
    assert "dose (p)" in path.read_text()
    for name in FIGURE_FILES[:3]:
        _check_png(path.parent / name)


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    command = [
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not on PATH (CI installs it in .ci/run)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    path, _ = report
    url = path.resolve().as_uri()
    images = path.read_text().count("<img ")
    dump = _chromium("--dump-dom", "--virtual-time-budget=5000", url, profile=tmp_path / "profile-dom")
    assert dump.returncode == 0, dump.stderr[-2000:]
    match = re.search(r'<body[^>]*data-images-loaded="(\d+)"', dump.stdout)
    assert match, f"the page script did not count the images: {dump.stdout[:300]!r} {dump.stderr[-1000:]}"
    assert int(match.group(1)) == images == 4

    shot = tmp_path / "report.png"
    run = _chromium(f"--screenshot={shot}", "--window-size=1280,2000", url, profile=tmp_path / "profile-shot")
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    pixels = np.asarray(PIL.Image.open(shot).convert("L"), dtype=np.float64)
    assert pixels.shape == (2000, 1280)
    assert pixels.std() > 20, "the screenshot of the report is blank"


def test_task_measures_are_summarised_tabled_and_reported(tmp_path):
    spec = SweepSpec(doses=(0.0, 1.0), seeds=3)
    records = sweep(spec, {0.0: [0.8, 0.8, 0.8], 1.0: [0.7, 0.7, 0.7]})
    for r in records:  # the code task's ReCode metrics: headline means and per-corruption values
        r.measures.update({"robust_accuracy": 0.5 + 0.1 * r.dose + 0.01 * r.seed, "robust_drop": 0.25})
        r.measures["recode/rename/robust_drop"] = 1.0
    summary = summarize(records, spec)
    zero, one = summary.row(0.0), summary.row(1.0)
    assert summary.measure_names == ["robust_accuracy", "robust_drop"]  # names with "/" stay per run
    assert zero.measures["robust_accuracy"].mean == pytest.approx(0.51)
    assert one.measures["robust_accuracy"].half_width == pytest.approx(T2 * 0.01 / math.sqrt(3))
    table = summary.format_table()
    assert "The task's measures" in table and "61.00 ±" in table and "0.250 ±" in table
    assert summary.to_dict()["rows"][1]["measures"]["robust_accuracy"]["mean"] == pytest.approx(0.61)
    write_report(tmp_path, summary, records)
    page = (tmp_path / "report.html").read_text()
    assert "The task&#39;s measures" in page or "The task's measures" in page
    assert "robust_accuracy %" in page and "61.00 ±" in page
    plain = summarize(sweep(spec, {0.0: [0.8, 0.8, 0.8], 1.0: [0.7, 0.7, 0.7]}), spec)
    assert plain.measure_names == [] and "The task's measures" not in plain.format_table()
