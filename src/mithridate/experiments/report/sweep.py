"""The report of a dose-response sweep: its figures (drawn with matplotlib's Agg renderer, no display) and
its page (`templates/sweep.html.j2`, written by `write_report_folder`: one self-contained HTML file).

`write_report(out_dir, summary, records, preview=...)` writes into `out_dir`:

- `dose_response.png`: clean and corrupted accuracy against the dose (means, 95% bands, seeds as dots),
  the best dose marked;
- `affinity_diversity.png`: affinity against diversity, a point per dose coloured by clean accuracy;
- `corruptions.png`: accuracy per corruption at the best dose against dose 0;
- `preview.png`: the preview grid it is given (draws of the policy at the best dose), if any;
- `report.html`: all of it on one page, with the spec, the summary table, the paired comparison of each dose
  with dose 0 (per-seed differences, their 95% interval, P(improvement)), the definitions, the per-run table
  and the software versions.

`write_summary_json(out_dir, summary)` writes `summary.json` (`Summary.to_dict`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import PIL.Image

from ..records import RunRecord
from ..summary import (
    AFFINITY_DEFINITION,
    CITATION,
    DIVERSITY_DEFINITION,
    INTERVAL_LEGEND,
    NOT_AVAILABLE,
    P_IMPROVEMENT_CITATION,
    P_IMPROVEMENT_DEFINITION,
    PAIRED_DEFINITION,
    DoseRow,
    Summary,
    check_records,
    format_dose,
    format_measure,
    run_diversity,
)
from ..variance import SPREAD_DEFINITION, spread_table_rows
from .figures import new_figure
from .page import ReportFigure, write_report_folder
from .tables import Cell, Row, Table, html_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FIGURE_FILES",
    "affinity_diversity_figure",
    "corruptions_figure",
    "dose_response_figure",
    "write_report",
    "write_summary_json",
]

FIGURE_FILES = ("dose_response.png", "affinity_diversity.png", "corruptions.png", "preview.png")

_CLEAN = "#1f6fb4"
_CORRUPTED = "#d9730d"
_BASELINE = "#9aa0a6"
_BEST = "#c62828"
_AXIS_LABELS = {
    "strength": "dose: strength (scale of the magnitude range; 1 = the policy's standard range)",
    "p": "dose: p (probability that a sample is augmented)",
    "synthetic-ratio": "dose: share of synthetic images in the training set (its size fixed)",
}


# Figures ----------------------------------------------------------------------------------------------


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _placeholder(axes: Any, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", wrap=True, fontsize=11, color="0.35", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)


def _what(summary: Summary) -> str:
    return f"{summary.spec.policy} on {summary.spec.data}"


def dose_response_figure(summary: Summary, records: Sequence[RunRecord]) -> Figure:
    """Clean and corrupted accuracy (%) against the dose: mean lines, shaded 95% intervals, each seed as a
    faint dot, and the best dose marked by a dashed line and a note."""
    figure, axes = new_figure(8.0, 4.8)
    rows = summary.rows
    doses = np.array([row.dose for row in rows])
    span = float(doses.max() - doses.min()) or 1.0
    seeds = sorted({int(r.seed) for r in records})
    jitter = {seed: (k - (len(seeds) - 1) / 2) * 0.008 * span for k, seed in enumerate(seeds)}
    for name, colour, label, metric in (
        ("clean", _CLEAN, "clean accuracy (test set)", "clean_accuracy"),
        ("corrupted", _CORRUPTED, "corrupted accuracy (mean over corruptions and severities)", "corrupted_accuracy"),
    ):
        estimates = [getattr(row, name) for row in rows]
        means = np.array([_nan(e.mean) * 100 for e in estimates])
        low = np.array([_nan(e.low) * 100 for e in estimates])
        high = np.array([_nan(e.high) * 100 for e in estimates])
        axes.fill_between(doses, low, high, color=colour, alpha=0.16, linewidth=0)
        axes.plot(doses, means, "-o", color=colour, lw=2, ms=5, label=label, zorder=3)
        xs = [r.dose + jitter[int(r.seed)] for r in records]
        ys = [getattr(r, metric) * 100 for r in records]
        axes.scatter(xs, ys, s=14, color=colour, alpha=0.35, linewidths=0, zorder=2)
    axes.fill_between([], [], [], color="0.5", alpha=0.2, label="95% interval of the mean")
    axes.scatter([], [], s=14, color="0.4", alpha=0.5, linewidths=0, label=f"single seeds ({len(seeds)})")

    best = summary.best
    axes.axvline(best.dose, color=_BEST, ls="--", lw=1.2, zorder=1)
    axes.plot([best.dose], [best.clean.mean * 100], "*", color=_BEST, ms=14, zorder=4, label="best dose")
    low, high = axes.get_ylim()
    axes.set_ylim(low, high + 0.14 * (high - low))  # headroom for the note on the best dose
    right_half = (best.dose - doses.min()) > 0.6 * span
    axes.annotate(
        f"best: {summary.axis} = {format_dose(best.dose)}, clean accuracy {best.clean.mean * 100:.1f} %",
        xy=(best.dose, 0.985),
        xycoords=("data", "axes fraction"),
        xytext=(-6 if right_half else 6, 0),
        textcoords="offset points",
        ha="right" if right_half else "left",
        va="top",
        fontsize=9,
        color=_BEST,
        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": _BEST, "lw": 0.8, "alpha": 0.9},
    )
    axes.set_xticks(doses, [format_dose(d) for d in doses])
    axes.set_xlabel(_AXIS_LABELS[summary.axis])
    axes.set_ylabel("accuracy (%)")
    axes.set_title(f"Dose-response: {_what(summary)}", loc="left", fontsize=12)
    axes.grid(axis="y", color="0.9", lw=0.8)
    figure.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    return figure


def affinity_diversity_figure(summary: Summary) -> Figure:
    """Affinity (x) against diversity (y), a point per dose at the means (with 95% intervals as thin bars),
    coloured by mean clean accuracy, each labelled with its dose; the best dose ringed."""
    figure, axes = new_figure(7.2, 5.4)
    points = [
        row
        for row in summary.rows
        if row.affinity.mean is not None
        and row.diversity.mean is not None
        and math.isfinite(row.affinity.mean)
        and math.isfinite(row.diversity.mean)
    ]
    axes.set_title(f"Affinity and diversity per dose: {_what(summary)}", loc="left", fontsize=12)
    if not points:
        reason = (
            "no dose-0 run, so no diversity" if summary.zero is None else "no dose has both an affinity and a diversity"
        )
        _placeholder(axes, f"Affinity against diversity is not available:\n{reason}.")
        return figure
    x = np.array([row.affinity.mean for row in points])
    y = np.array([row.diversity.mean for row in points])
    xerr = np.array([row.affinity.half_width or 0.0 for row in points])
    yerr = np.array([row.diversity.half_width or 0.0 for row in points])
    clean = np.array([row.clean.mean * 100 for row in points])
    axes.axvline(1.0, color="0.8", lw=0.8, ls=":", zorder=0)
    axes.axhline(1.0, color="0.8", lw=0.8, ls=":", zorder=0)
    axes.plot(x, y, "-", color="0.75", lw=1, zorder=1)
    axes.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="none", ecolor="0.6", elinewidth=0.8, capsize=2, zorder=1)
    vmin, vmax = float(clean.min()), float(clean.max())
    if vmax - vmin < 1e-9:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    dots = axes.scatter(x, y, c=clean, cmap="viridis", vmin=vmin, vmax=vmax, s=90, edgecolors="0.15", zorder=3)
    colorbar = figure.colorbar(dots, ax=axes)
    colorbar.set_label("mean clean accuracy (%)")
    for row, xi, yi in zip(points, x, y, strict=True):
        axes.annotate(
            f"{summary.axis}={format_dose(row.dose)}", (xi, yi), xytext=(7, 6), textcoords="offset points", fontsize=9
        )
        if row.dose == summary.best_dose:
            axes.scatter([xi], [yi], s=320, facecolors="none", edgecolors=_BEST, linewidths=1.6, zorder=4)
            axes.scatter([], [], s=120, facecolors="none", edgecolors=_BEST, linewidths=1.6, label="best dose")
            axes.legend(loc="best", fontsize=8)
    axes.margins(0.15)
    axes.set_xlabel("affinity (dose-0 model: accuracy on augmented test set / clean accuracy)")
    axes.set_ylabel("diversity (final training loss / dose-0's)")
    axes.grid(color="0.93", lw=0.8)
    return figure


def _comparison(summary: Summary) -> tuple[DoseRow, DoseRow]:
    """(baseline, best): dose 0 if the sweep ran it, else the smallest dose."""
    return summary.zero or summary.rows[0], summary.best


def corruptions_figure(summary: Summary) -> Figure:
    """Accuracy (%) per corruption (mean over severities and seeds), best dose against dose 0 (or the
    smallest dose without one), as grouped horizontal bars sorted by the gain, the gain written beside."""
    base, best = _comparison(summary)
    names = [n for n in summary.corruption_names if n in base.corruptions or n in best.corruptions]
    figure, axes = new_figure(8.0, max(3.6, 0.42 * len(names) + 1.6))
    same = base.dose == best.dose
    base_label = f"{summary.axis} = {format_dose(base.dose)}" + (
        " (dose 0)" if base.dose == 0.0 else " (smallest dose)"
    )
    best_label = f"{summary.axis} = {format_dose(best.dose)} (best dose)"
    title = "Accuracy per corruption: " + (
        best_label if same else f"best dose vs {'dose 0' if base.dose == 0 else 'the smallest dose'}"
    )
    axes.set_title(title, loc="left", fontsize=12)
    if not names:
        _placeholder(axes, "No accuracy per corruption was recorded.")
        return figure

    def value(row: DoseRow, name: str) -> float:
        return row.corruptions.get(name, math.nan) * 100

    gains = {name: value(best, name) - value(base, name) for name in names}
    names.sort(key=lambda n: (-gains[n] if math.isfinite(gains[n]) else math.inf, n))
    ys = np.arange(len(names))
    height = 0.8 if same else 0.38
    top = 0.0
    if same:
        values = [value(best, n) for n in names]
        axes.barh(ys, values, height=height, color=_CLEAN, label=best_label)
        top = np.nanmax(values)
    else:
        base_values = [value(base, n) for n in names]
        best_values = [value(best, n) for n in names]
        axes.barh(ys - height / 2, base_values, height=height, color=_BASELINE, label=base_label)
        axes.barh(ys + height / 2, best_values, height=height, color=_CLEAN, label=best_label)
        top = float(np.nanmax(base_values + best_values))
        for y, name, a, b in zip(ys, names, base_values, best_values, strict=True):
            if math.isfinite(gains[name]):
                colour = "#2e7d32" if gains[name] > 0 else (_BEST if gains[name] < 0 else "0.4")
                axes.text(np.nanmax([a, b]) + 1, y, f"{gains[name]:+.1f} pp", va="center", fontsize=8, color=colour)
    axes.set_yticks(ys, names)
    axes.invert_yaxis()
    axes.set_xlim(0, min(112.0, top * 1.15 + 4))
    axes.set_xlabel("accuracy (%) under the corruption, mean over severities and seeds")
    axes.grid(axis="x", color="0.92", lw=0.8)
    axes.set_axisbelow(True)
    figure.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return figure


# The page's content -----------------------------------------------------------------------------------


def _percent(value: float | None, digits: int = 2) -> str:
    return NOT_AVAILABLE if value is None or not math.isfinite(value) else f"{value * 100:.{digits}f}"


def _number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return NOT_AVAILABLE
    return f"{value:.{digits}f}" if math.isfinite(value) else str(value)


def _spec_value(value: Any) -> str:
    if value is None:
        return "default"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_dose(v) if isinstance(v, float) else str(v) for v in value)
    return str(value)


def _dose_cell(dose: float, best: bool) -> Cell:
    return Cell(format_dose(dose), tag="best" if best else "")


def _summary_table(summary: Summary) -> Table:
    rows = []
    for row in summary.rows:
        best = row.dose == summary.best_dose
        cells = [
            _dose_cell(row.dose, best),
            row.clean.format(percent=True),
            row.corrupted.format(percent=True),
            row.affinity.format(),
            row.diversity.format(),
            str(row.n_seeds),
        ]
        rows.append(Row(tuple(Cell(c) if isinstance(c, str) else c for c in cells), "best" if best else ""))
    header = [f"dose ({summary.axis})", "clean accuracy %", "corrupted accuracy %", "affinity", "diversity", "seeds"]
    return html_table(header, rows)


def _paired(summary: Summary) -> dict[str, Any]:
    """The comparison with dose 0 paired by seed: a sentence on the best dose, a table of every dose (mean
    difference, its 95% interval, P(improvement), pairs, verdict) and the best dose's per-seed differences.
    `state` says which: "no dose 0", "dose 0 only" or "compared"."""
    if summary.zero is None:
        return {"state": "no dose 0"}
    compared = [row for row in summary.rows if row.paired is not None]
    if not compared:
        return {"state": "dose 0 only"}
    best = summary.paired_vs_dose0
    if best is None:
        lead = "The best dose is dose 0: no dose beats it on mean clean accuracy."
    else:
        lead = f"Best dose: {summary.axis} = {format_dose(best.dose)}. " + best.sentence(summary.axis)
    rows = []
    for row in compared:
        paired = row.paired
        verdict = {True: "better", False: "not shown better", None: "cannot be told"}[paired.better]
        is_best = row.dose == summary.best_dose
        interval = (
            NOT_AVAILABLE
            if paired.ci95_low is None
            else f"{paired.ci95_low * 100:+.2f} to {paired.ci95_high * 100:+.2f}"
        )
        cells = (
            _dose_cell(row.dose, is_best),
            Cell(str(paired.pairs)),
            Cell(NOT_AVAILABLE if paired.mean_difference is None else f"{paired.mean_difference * 100:+.2f}"),
            Cell(interval),
            Cell(paired.format_p()),
            Cell(verdict),
        )
        rows.append(Row(cells, "best" if is_best else ""))
    header = [
        f"dose ({summary.axis})",
        "seed pairs",
        "mean difference pp",
        "95% interval pp",
        "P(improvement)",
        "vs dose 0",
    ]
    per_seed = ""
    if best is not None and best.pairs:
        per_seed = ", ".join(
            f"seed {seed}: {d * 100:+.2f}" for seed, d in zip(best.seeds, best.difference.values, strict=True)
        )
    return {"state": "compared", "lead": lead, "table": html_table(header, rows), "per_seed": per_seed}


def _corruption_table(summary: Summary) -> Table | None:
    """Accuracy % per corruption (rows) and dose (columns), shaded by the change from the baseline dose;
    None when no accuracy per corruption was recorded."""
    names = summary.corruption_names
    if not names:
        return None
    base = summary.zero or summary.rows[0]
    header = [Cell(f"corruption (rows) / {summary.axis} (columns)")]
    header += [
        Cell(format_dose(r.dose), tag="best", classes=("best",))
        if r.dose == summary.best_dose
        else Cell(format_dose(r.dose))
        for r in summary.rows
    ]
    rows = []
    for name in names:
        cells = [Cell(name)]
        for row in summary.rows:
            value = row.corruptions.get(name)
            style = ""
            reference = base.corruptions.get(name)
            if value is not None and reference is not None and row.dose != base.dose:
                delta = value - reference
                alpha = min(abs(delta) / 0.10, 1.0) * 0.45
                colour = "46,160,67" if delta > 0 else "218,54,51"
                style = f"background: rgba({colour},{alpha:.3f})" if alpha > 0.005 else ""
            cells.append(Cell(_percent(value), style=style))
        rows.append(Row(tuple(cells)))
    return html_table(header, rows)


def _measures_table(summary: Summary) -> Table | None:
    """The task's own measures (columns) per dose (rows), "mean ± half-width"; None when the task has none."""
    names = summary.measure_names
    if not names:
        return None
    header = [f"dose ({summary.axis})", *(f"{name} %" if name.endswith("accuracy") else name for name in names)]
    rows = []
    for row in summary.rows:
        cells = [format_dose(row.dose)]
        cells += [format_measure(name, row.measures[name]) if name in row.measures else NOT_AVAILABLE for name in names]
        rows.append(Row(tuple(Cell(c) for c in cells), "best" if row.dose == summary.best_dose else ""))
    return html_table(header, rows)


def _spread_table(summary: Summary) -> Table | None:
    """The spread over seeds of each seed series at each dose (None with a single series)."""
    if not summary.spread:
        return None
    header, rows = spread_table_rows(summary.spread)
    return html_table(header, rows)


def _runs_table(summary: Summary, records: Sequence[RunRecord]) -> Table:
    zero = {int(r.seed): r for r in records if float(r.dose) == 0.0}
    header = [
        f"dose ({summary.axis})",
        "seed",
        "clean %",
        "corrupted %",
        "affinity",
        "diversity",
        "final train loss",
        "train s",
        "eval s",
        "augment images/s",
        "peak memory MB",
    ]
    rows = []
    for r in sorted(records, key=lambda r: (float(r.dose), int(r.seed))):
        cells = [
            format_dose(float(r.dose)),
            str(r.seed),
            _percent(r.clean_accuracy),
            _percent(r.corrupted_accuracy),
            _number(r.affinity),
            _number(run_diversity(r, zero.get(int(r.seed)))),
            _number(r.final_train_loss, 4),
            _number(r.train_seconds, 1),
            _number(r.eval_seconds, 1),
            f"{r.augment_images_per_second:,.0f}" if math.isfinite(r.augment_images_per_second) else NOT_AVAILABLE,
            _number(r.peak_memory_mb, 0),
        ]
        best = math.isclose(float(r.dose), summary.best_dose)
        rows.append(Row(tuple(Cell(c) for c in cells), "best" if best else ""))
    return html_table(header, rows)


def _versions_table(records: Sequence[RunRecord]) -> Table | None:
    """Each package's versions over the runs (noted when they differ); None when no run recorded any."""
    seen: dict[str, dict[str, None]] = {}
    for record in records:
        for name, version in (record.versions or {}).items():
            seen.setdefault(str(name), {})[str(version)] = None
    if not seen:
        return None
    rows = []
    for name in sorted(seen, key=str.lower):
        versions = list(seen[name])
        note = "(differs between runs)" if len(versions) > 1 else ""
        rows.append([Cell(name), Cell(", ".join(versions), note=note)])
    return html_table(["software", "version"], rows, left=(0, 1))


def _spec_table(summary: Summary, records: Sequence[RunRecord]) -> Table:
    rows: list[list[Cell | str]] = [[key, _spec_value(value)] for key, value in summary.spec.to_dict().items()]
    rows.append(["spec hash", Cell(summary.spec.spec_hash(), code=True)])
    sweep_ids = sorted({r.sweep_id for r in records})
    if sweep_ids:
        rows.append(["sweep id", ", ".join(sweep_ids)])
    started = sorted(r.started_at for r in records if r.started_at)
    finished = sorted(r.finished_at for r in records if r.finished_at)
    if started and finished:
        rows.append(["runs", f"{len(records)} runs, from {started[0]} to {finished[-1]}"])
    return html_table(["setting", "value"], rows, left=(0, 1))


def _figures(summary: Summary, records: Sequence[RunRecord], preview: PIL.Image.Image | None) -> list[ReportFigure]:
    axis = summary.axis
    base, best = _comparison(summary)
    base_name = "dose 0" if base.dose == 0.0 else f"the smallest dose ({axis} = {format_dose(base.dose)})"
    figures = [
        ReportFigure(
            FIGURE_FILES[0],
            dose_response_figure(summary, records),
            "Clean and corrupted accuracy against the dose",
            f"Clean accuracy (blue) and accuracy under corruption (orange, mean over corruptions and severities) "
            f"against the dose {axis}: lines join the means over seeds, bands are their 95% confidence intervals "
            f"and faint dots are the single seeds. The dashed line marks the best dose ({axis} = "
            f"{format_dose(summary.best_dose)}).",
            key="dose-response",
        ),
        ReportFigure(
            FIGURE_FILES[1],
            affinity_diversity_figure(summary),
            "Affinity against diversity, one point per dose",
            "Affinity against diversity, one point per dose (mean over seeds; thin bars are 95% intervals), "
            "coloured by the mean clean accuracy and joined in dose order; the best dose is ringed. Dose 0 sits at "
            "(1, 1) by definition. Augmentations that help tend to combine high affinity with high diversity.",
            key="affinity-diversity",
        ),
        ReportFigure(
            FIGURE_FILES[2],
            corruptions_figure(summary),
            "Accuracy per corruption at the best dose and at dose 0",
            f"Accuracy under each corruption (mean over severities and seeds) at the best dose ({axis} = "
            f"{format_dose(best.dose)}) against {base_name}, sorted by the gain, written in percentage points.",
            key="corruptions",
        ),
    ]
    if preview is not None:
        figures.append(
            ReportFigure(
                FIGURE_FILES[3],
                preview,
                "Draws of the policy at the best dose",
                f"What the policy does at the best dose ({axis} = {format_dose(summary.best_dose)}): each row an "
                "image, the original first, then independent draws captioned with the ops and magnitudes drawn.",
                key="preview",
            )
        )
    return figures


def _context(summary: Summary, records: Sequence[RunRecord]) -> dict[str, Any]:
    """What templates/sweep.html.j2 shows, as text and tables."""
    base = summary.zero or summary.rows[0]
    return {
        "spec": summary.spec,
        "doses": _spec_value(list(summary.spec.doses)),
        "runs": len(records),
        "verdict": summary.verdict(),
        "notes": list(summary.notes),
        "summary_table": _summary_table(summary),
        "paired": _paired(summary),
        "corruption_table": _corruption_table(summary),
        "measures_table": _measures_table(summary),
        "spread_table": _spread_table(summary),
        "spread_definition": SPREAD_DEFINITION,
        "severities": _spec_value(list(summary.spec.severities)),
        "axis": summary.axis,
        "best_dose": format_dose(summary.best_dose),
        "baseline": "dose 0" if base.dose == 0 else "the smallest dose",
        "spec_table": _spec_table(summary, records),
        "runs_table": _runs_table(summary, records),
        "versions_table": _versions_table(records),
        "definitions": {
            "affinity": AFFINITY_DEFINITION.removeprefix("affinity = "),
            "diversity": DIVERSITY_DEFINITION.removeprefix("diversity = "),
            "interval": INTERVAL_LEGEND,
            "paired": PAIRED_DEFINITION.removeprefix("paired difference = "),
            "paired_full": PAIRED_DEFINITION,
            "p_improvement": P_IMPROVEMENT_DEFINITION.removeprefix("P(improvement) = "),
            "p_improvement_full": P_IMPROVEMENT_DEFINITION,
            "p_improvement_citation": P_IMPROVEMENT_CITATION,
            "citation": CITATION,
        },
    }


# Writing ----------------------------------------------------------------------------------------------


def write_report(
    out_dir: Path,
    summary: Summary,
    records: list[RunRecord],
    *,
    preview: PIL.Image.Image | None = None,
    title: str | None = None,
) -> Path:
    """Write the figures (PNG) and `report.html` of a sweep into `out_dir` (created if missing); return the
    path of report.html. `records` are the runs that `summary` summarises; `preview` (a preview grid of the
    policy at the best dose, `mithridate.image.preview.preview_grid`) becomes preview.png and a figure.
    The page is one self-contained file: no network, no external file. Files are drawn in a private folder
    and moved into place one by one (atomically): see `write_report_folder`."""
    if not isinstance(summary, Summary):
        raise TypeError(f"summary: expected a Summary (see summarize), got {type(summary).__name__}")
    if preview is not None and not isinstance(preview, PIL.Image.Image):
        raise TypeError(f"preview: expected a PIL image (e.g. from preview_grid) or None, got {type(preview).__name__}")
    records = list(check_records(records, summary.spec).values())
    if title is None:
        title = f"Dose-response sweep: {summary.spec.policy} on {summary.spec.data} ({summary.axis} axis)"
    return write_report_folder(
        out_dir,
        template="sweep.html.j2",
        title=title,
        figures=_figures(summary, records, preview),
        context=_context(summary, records),
    )


def write_summary_json(out_dir: Path, summary: Summary) -> Path:
    """Write `summary.to_dict()` as `out_dir`/summary.json (strict JSON: no NaN) and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "summary.json"
    handle, name = tempfile.mkstemp(dir=out, prefix=".summary-", suffix=".json")
    os.close(handle)
    partial = Path(name)
    partial.write_text(json.dumps(summary.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path
