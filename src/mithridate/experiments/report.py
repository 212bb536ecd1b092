"""The report of a dose-response sweep: figures (PNG, drawn with matplotlib's Agg renderer, no display)
and one self-contained HTML page (figures embedded as data: URIs, inline CSS, no external resource).

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

import base64
import html
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .records import RunRecord
from .summary import (
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
    run_diversity,
)

__all__ = [
    "FIGURE_FILES",
    "affinity_diversity_figure",
    "corruptions_figure",
    "dose_response_figure",
    "write_report",
    "write_summary_json",
]

FIGURE_FILES = ("dose_response.png", "affinity_diversity.png", "corruptions.png", "preview.png")
DPI = 150

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


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # the Agg renderer, explicitly: no pyplot, no display, no global backend state
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


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
    figure, axes = _figure(8.0, 4.8)
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
    figure, axes = _figure(7.2, 5.4)
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
    figure, axes = _figure(8.0, max(3.6, 0.42 * len(names) + 1.6))
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


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, format="png", dpi=DPI, facecolor="white")
    return path


# HTML -------------------------------------------------------------------------------------------------

_CSS = """
:root { --ink: #1d232a; --muted: #5f6b76; --line: #dfe3e8; --best: #fff4c2; --accent: #1f6fb4; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 32px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.sub { color: var(--muted); margin: 0 0 18px; }
.verdict { background: #eef5fc; border-left: 4px solid var(--accent); padding: 12px 16px; margin: 16px 0; }
.note { color: #8a4b00; }
table { border-collapse: collapse; margin: 8px 0 6px; font-size: 14px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: #f0f2f5; font-weight: 600; }
td.l, th.l { text-align: left; }
tbody tr:nth-child(even) { background: #fafbfc; }
tr.best td, td.best, th.best { background: var(--best); font-weight: 600; }
.tag { display: inline-block; font-size: 11px; font-weight: 700; color: #7a5900; background: #ffe27a;
  border-radius: 3px; padding: 0 5px; margin-left: 6px; vertical-align: 1px; }
.scroll { overflow-x: auto; }
.legend { color: var(--muted); font-size: 13px; margin: 4px 0 0; }
dl.defs dt { font-weight: 600; margin-top: 8px; }
dl.defs dd { margin: 2px 0 0 18px; }
figure { margin: 22px 0; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; max-width: 900px; }
code { background: #f0f2f5; padding: 0 4px; border-radius: 3px; font-size: 13px; }
"""

_SCRIPT = """
(function () {
  var images = Array.prototype.slice.call(document.images);
  var pending = images.length;
  function report() {
    var loaded = images.filter(function (img) { return img.complete && img.naturalWidth > 0; }).length;
    document.body.dataset.imagesLoaded = String(loaded);
  }
  function settled() { pending -= 1; if (pending === 0) { report(); } }
  if (pending === 0) { report(); return; }
  images.forEach(function (img) {
    if (img.complete) { settled(); return; }
    img.addEventListener("load", settled);
    img.addEventListener("error", settled);
  });
})();
"""


@dataclass(frozen=True)
class _Picture:
    key: str
    path: Path
    alt: str
    caption: str


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


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


_Cell = str | tuple[str, str]  # HTML, or (HTML, extra attributes of its <td>/<th>)


def _cell(tag: str, cell: _Cell, left: bool) -> str:
    content, attributes = (cell, "") if isinstance(cell, str) else cell
    align = ' class="l"' if left else ""
    return f"<{tag}{align}{' ' + attributes if attributes else ''}>{content}</{tag}>"


def _table(header: Sequence[_Cell], rows: Sequence[tuple[Sequence[_Cell], str]], left: Sequence[int] = (0,)) -> str:
    """An HTML table; cells are HTML already, each row comes with its class attribute ("" for none)."""
    heads = "".join(_cell("th", h, i in left) for i, h in enumerate(header))
    body = []
    for cells, css in rows:
        tds = "".join(_cell("td", c, i in left) for i, c in enumerate(cells))
        body.append(f'<tr class="{css}">{tds}</tr>' if css else f"<tr>{tds}</tr>")
    return f'<div class="scroll"><table><thead><tr>{heads}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _summary_table(summary: Summary) -> str:
    axis = _e(summary.axis)
    rows = []
    for row in summary.rows:
        best = row.dose == summary.best_dose
        dose = _e(format_dose(row.dose)) + ('<span class="tag">best</span>' if best else "")
        cells = [
            dose,
            _e(row.clean.format(percent=True)),
            _e(row.corrupted.format(percent=True)),
            _e(row.affinity.format()),
            _e(row.diversity.format()),
            _e(row.n_seeds),
        ]
        rows.append((cells, "best" if best else ""))
    header = [f"dose ({axis})", "clean accuracy %", "corrupted accuracy %", "affinity", "diversity", "seeds"]
    return _table(header, rows) + (
        f'<p class="legend">Highlighted: the best dose (highest mean clean accuracy; ties: the smaller dose). '
        f"{_e(INTERVAL_LEGEND)}.</p>"
    )


def _paired_section(summary: Summary) -> str:
    """The comparison with dose 0 paired by seed: a sentence on the best dose, a table of every dose (mean
    difference, its 95% interval, P(improvement), pairs, verdict) and the best dose's per-seed differences."""
    if summary.zero is None:
        return "<p>No dose-0 run: there is nothing to pair the doses with.</p>"
    compared = [row for row in summary.rows if row.paired is not None]
    if not compared:
        return "<p>The sweep ran dose 0 only: there is no other dose to compare.</p>"
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
        cells = [
            _e(format_dose(row.dose)) + ('<span class="tag">best</span>' if is_best else ""),
            _e(paired.pairs),
            _e(NOT_AVAILABLE if paired.mean_difference is None else f"{paired.mean_difference * 100:+.2f}"),
            _e(interval),
            _e(paired.format_p()),
            _e(verdict),
        ]
        rows.append((cells, "best" if is_best else ""))
    header = [
        f"dose ({_e(summary.axis)})",
        "seed pairs",
        "mean difference pp",
        "95% interval pp",
        "P(improvement)",
        "vs dose 0",
    ]
    per_seed = ""
    if best is not None and best.pairs:
        seeds = ", ".join(
            f"seed {seed}: {d * 100:+.2f}" for seed, d in zip(best.seeds, best.difference.values, strict=True)
        )
        per_seed = f'<p class="legend">Per-seed differences at the best dose (pp): {_e(seeds)}.</p>'
    return (
        f'<p id="paired-verdict">{_e(lead)}</p>'
        + _table(header, rows)
        + per_seed
        + f'<p class="legend">{_e(PAIRED_DEFINITION)}. {_e(P_IMPROVEMENT_DEFINITION)}, after '
        f"{_e(P_IMPROVEMENT_CITATION)}. Only seeds that ran at both doses count.</p>"
    )


def _corruption_table(summary: Summary) -> str:
    names = summary.corruption_names
    if not names:
        return "<p>No accuracy per corruption was recorded.</p>"
    base = summary.zero or summary.rows[0]
    header: list[_Cell] = [f"corruption (rows) / {_e(summary.axis)} (columns)"]
    header += [
        (_e(format_dose(r.dose)) + '<span class="tag">best</span>', 'class="best"')
        if r.dose == summary.best_dose
        else _e(format_dose(r.dose))
        for r in summary.rows
    ]
    rows = []
    for name in names:
        cells: list[_Cell] = [_e(name)]
        for row in summary.rows:
            value = row.corruptions.get(name)
            text = _percent(value)
            style = ""
            reference = base.corruptions.get(name)
            if value is not None and reference is not None and row.dose != base.dose:
                delta = value - reference
                alpha = min(abs(delta) / 0.10, 1.0) * 0.45
                colour = "46,160,67" if delta > 0 else "218,54,51"
                style = f'style="background: rgba({colour},{alpha:.3f})"' if alpha > 0.005 else ""
            cells.append((_e(text), style.strip()) if style else _e(text))
        rows.append((cells, ""))
    return _table(header, rows) + (
        f'<p class="legend">Accuracy % per corruption, mean over severities '
        f"({_e(_spec_value(list(summary.spec.severities)))}) and seeds; dose {_e(summary.axis)} = "
        f"{_e(format_dose(summary.best_dose))} is the best. Shading: change from "
        f"{'dose 0' if base.dose == 0 else 'the smallest dose'} (green better, red worse; full colour at 10 "
        "points).</p>"
    )


def _runs_table(summary: Summary, records: Sequence[RunRecord]) -> str:
    zero = {int(r.seed): r for r in records if float(r.dose) == 0.0}
    header = [
        f"dose ({_e(summary.axis)})",
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
            _e(format_dose(float(r.dose))),
            _e(r.seed),
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
        rows.append((cells, "best" if math.isclose(float(r.dose), summary.best_dose) else ""))
    return _table(header, rows)


def _versions_table(records: Sequence[RunRecord]) -> str:
    seen: dict[str, dict[str, None]] = {}
    for record in records:
        for name, version in (record.versions or {}).items():
            seen.setdefault(str(name), {})[str(version)] = None
    if not seen:
        return "<p>The runs recorded no software versions.</p>"
    rows = []
    for name in sorted(seen, key=str.lower):
        versions = list(seen[name])
        text = _e(", ".join(versions)) + (
            ' <span class="note">(differs between runs)</span>' if len(versions) > 1 else ""
        )
        rows.append(([_e(name), text], ""))
    return _table(["software", "version"], rows, left=(0, 1))


def _spec_table(summary: Summary, records: Sequence[RunRecord]) -> str:
    values = summary.spec.to_dict()
    rows = [([_e(key), _e(_spec_value(value))], "") for key, value in values.items()]
    rows.append((["spec hash", f"<code>{_e(summary.spec.spec_hash())}</code>"], ""))
    sweep_ids = sorted({r.sweep_id for r in records})
    if sweep_ids:
        rows.append((["sweep id", _e(", ".join(sweep_ids))], ""))
    started = sorted(r.started_at for r in records if r.started_at)
    finished = sorted(r.finished_at for r in records if r.finished_at)
    if started and finished:
        rows.append((["runs", _e(f"{len(records)} runs, from {started[0]} to {finished[-1]}")], ""))
    return _table(["setting", "value"], rows, left=(0, 1))


def _figure_html(number: int, picture: _Picture) -> str:
    data = picture.path.read_bytes()
    with PIL.Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return (
        f'<figure id="fig-{picture.key}"><img id="img-{picture.key}" src="{uri}" alt="{_e(picture.alt)}" '
        f'width="{width}" height="{height}"><figcaption><b>Figure {number}.</b> {picture.caption}</figcaption></figure>'
    )


def _pictures(out_dir: Path, summary: Summary, preview_path: Path | None) -> list[_Picture]:
    axis = _e(summary.axis)
    base, best = _comparison(summary)
    base_name = "dose 0" if base.dose == 0.0 else f"the smallest dose ({axis} = {_e(format_dose(base.dose))})"
    pictures = [
        _Picture(
            "dose-response",
            out_dir / FIGURE_FILES[0],
            "Clean and corrupted accuracy against the dose",
            f"Clean accuracy (blue) and accuracy under corruption (orange, mean over corruptions and severities) "
            f"against the dose {axis}: lines join the means over seeds, bands are their 95% confidence intervals "
            f"and faint dots are the single seeds. The dashed line marks the best dose ({axis} = "
            f"{_e(format_dose(summary.best_dose))}).",
        ),
        _Picture(
            "affinity-diversity",
            out_dir / FIGURE_FILES[1],
            "Affinity against diversity, one point per dose",
            "Affinity against diversity, one point per dose (mean over seeds; thin bars are 95% intervals), "
            "coloured by the mean clean accuracy and joined in dose order; the best dose is ringed. Dose 0 sits at "
            "(1, 1) by definition. Augmentations that help tend to combine high affinity with high diversity.",
        ),
        _Picture(
            "corruptions",
            out_dir / FIGURE_FILES[2],
            "Accuracy per corruption at the best dose and at dose 0",
            f"Accuracy under each corruption (mean over severities and seeds) at the best dose ({axis} = "
            f"{_e(format_dose(best.dose))}) against {base_name}, sorted by the gain, written in percentage points.",
        ),
    ]
    if preview_path is not None:
        pictures.append(
            _Picture(
                "preview",
                preview_path,
                "Draws of the policy at the best dose",
                f"What the policy does at the best dose ({axis} = {_e(format_dose(summary.best_dose))}): each row an "
                "image, the original first, then independent draws captioned with the ops and magnitudes drawn.",
            )
        )
    return pictures


def html_page(title: str, body: str) -> str:
    """A self-contained page around `body`: the reports' style sheet and script inline, `title` as its heading."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>{_e(title)}</h1>
{body}
</main>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def _html(summary: Summary, records: Sequence[RunRecord], pictures: list[_Picture], title: str) -> str:
    spec = summary.spec
    notes = "".join(f'<p class="note">{_e(note)}</p>' for note in summary.notes)
    figures = "\n".join(_figure_html(i + 1, p) for i, p in enumerate(pictures))
    return html_page(
        title,
        f"""<p class="sub">Policy <code>{_e(spec.policy)}</code> on <code>{_e(spec.data)}</code>, dose axis
<code>{_e(spec.axis)}</code>, doses {_e(_spec_value(list(spec.doses)))}, {_e(spec.seeds)} seed(s) per dose,
{len(records)} run(s).</p>
<div class="verdict">{_e(summary.verdict())}</div>
{notes}
<h2>Summary</h2>
{_summary_table(summary)}
<h2>Against dose 0, paired by seed</h2>
{_paired_section(summary)}
<h2>Definitions</h2>
<dl class="defs">
<dt>clean accuracy</dt><dd>accuracy on the untouched test set.</dd>
<dt>corrupted accuracy</dt><dd>accuracy on the test set under each corruption at each severity, averaged over
corruptions and severities.</dd>
<dt>affinity</dt><dd>{_e(AFFINITY_DEFINITION.removeprefix("affinity = "))}. How far the augmented data
lies from the clean data, as seen by a model trained without augmentation: 1 means no shift.</dd>
<dt>diversity</dt><dd>{_e(DIVERSITY_DEFINITION.removeprefix("diversity = "))}. How much harder the
augmented training data is to fit: 1 means no harder.</dd>
<dt>interval</dt><dd>{_e(INTERVAL_LEGEND)}.</dd>
<dt>paired difference</dt><dd>{_e(PAIRED_DEFINITION.removeprefix("paired difference = "))}.</dd>
<dt>P(improvement)</dt><dd>{_e(P_IMPROVEMENT_DEFINITION.removeprefix("P(improvement) = "))}, as in
{_e(P_IMPROVEMENT_CITATION)}.</dd>
</dl>
<p class="legend">Affinity and diversity as defined by {_e(CITATION)} (arXiv:2002.08973).</p>
<h2>Figures</h2>
{figures}
<h2>Accuracy per corruption</h2>
{_corruption_table(summary)}
<h2>Sweep</h2>
{_spec_table(summary, records)}
<h2>Runs</h2>
{_runs_table(summary, records)}
<p class="legend">Highlighted: runs at the best dose. Diversity per run: its final training loss / that of the
dose-0 run with the same seed. Augment images/s: throughput of the augmentation alone.</p>
<h2>Software</h2>
{_versions_table(records)}""",
    )


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
    The page is one self-contained file: no network, no external file."""
    if not isinstance(summary, Summary):
        raise TypeError(f"summary: expected a Summary (see summarize), got {type(summary).__name__}")
    if preview is not None and not isinstance(preview, PIL.Image.Image):
        raise TypeError(f"preview: expected a PIL image (e.g. from preview_grid) or None, got {type(preview).__name__}")
    records = list(check_records(records, summary.spec).values())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Everything is drawn into a private folder first, then moved into place file by file (os.replace is
    # atomic): a reader never sees half a file, and two sweeps reporting into one folder never mix figures.
    work = Path(tempfile.mkdtemp(dir=out, prefix=".report-"))
    try:
        _save(dose_response_figure(summary, records), work / FIGURE_FILES[0])
        _save(affinity_diversity_figure(summary), work / FIGURE_FILES[1])
        _save(corruptions_figure(summary), work / FIGURE_FILES[2])
        preview_path = None
        if preview is not None:
            preview_path = work / FIGURE_FILES[3]
            image = preview if preview.mode in ("RGB", "RGBA", "L") else preview.convert("RGBA")
            image.save(preview_path, format="PNG")
        if title is None:
            title = f"Dose-response sweep: {summary.spec.policy} on {summary.spec.data} ({summary.axis} axis)"
        html = _html(summary, records, _pictures(work, summary, preview_path), title)
        (work / "report.html").write_text(html, encoding="utf-8")
        for produced in sorted(work.iterdir()):
            os.replace(produced, out / produced.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out / "report.html"


def write_summary_json(out_dir: Path, summary: Summary) -> Path:
    """Write `summary.to_dict()` as `out_dir`/summary.json (strict JSON: no NaN) and return its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "summary.json"
    partial = Path(tempfile.mkstemp(dir=out, prefix=".summary-", suffix=".json")[1])
    partial.write_text(json.dumps(summary.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path
