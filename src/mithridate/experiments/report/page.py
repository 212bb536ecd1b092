"""The report pages: Jinja2 templates (`templates/`, autoescaped: every value given to a template is text
and is escaped, markup lives in the templates only) and the writer of a report folder.

`write_report_folder` writes the figures as PNG, optional JSON files and one self-contained report.html
(inline CSS, figures embedded as data: URIs: no network, no other file) into a folder: everything is drawn
into a private folder inside it first and then moved into place file by file (`os.replace`, atomic), so a
reader never sees half a file and two reports written into one folder never mix their figures.

`write_grid_report` is that writer with the grid reports' template (`grid.html.j2`: figures, then sections
of a heading, a table and a legend); `mithridate garbage` and `mithridate synthetic` extend that template.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ..store.jsonable import finite_or_none, json_default
from .figures import png_data_uri, save_figure
from .tables import Table, html_table

__all__ = [
    "REPORT_FILE",
    "TEMPLATES",
    "EmbeddedFigure",
    "GridFigure",
    "ReportFigure",
    "Section",
    "environment",
    "json_text",
    "render",
    "run_section",
    "write_grid_report",
    "write_report_folder",
]

REPORT_FILE = "report.html"
TEMPLATES = Path(__file__).with_name("templates")


@functools.cache
def environment() -> jinja2.Environment:
    """The reports' Jinja2 environment: templates from `templates/`, autoescaped, strict about undefined names."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(template: str, **context: Any) -> str:
    """Render the template named `template` (such as "sweep.html.j2") with `context`."""
    return environment().get_template(template).render(**context)


# Figures and sections ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFigure:
    """A figure of a report: written as `name` (a .png file name) and embedded in report.html.

    `figure` is a matplotlib Figure or a PIL image; `alt` and `caption` are plain text; `key` names the
    figure in the page (ids "fig-KEY" and "img-KEY"), by default the stem of `name`.
    """

    name: str
    figure: Any
    alt: str
    caption: str
    key: str = ""


GridFigure = ReportFigure  # the name the grid experiments know it by


@dataclass(frozen=True)
class EmbeddedFigure:
    """A figure as the page shows it (what the `figure` macro takes): its PNG as a data: URI and size."""

    key: str
    uri: str
    width: int
    height: int
    alt: str
    caption: str


@dataclass(frozen=True)
class Section:
    """A section of a grid report: a heading, then an optional paragraph, table and legend (plain text)."""

    heading: str
    table: Table | None = None
    legend: str = ""
    text: str = ""


def run_section(spec: Any, records: Sequence[Any]) -> Section:
    """The grid report's "Run" section: the spec's hash, how many cell-seeds, and the library versions
    (`spec` a Recipe, `records` its Records)."""
    versions = ", ".join(f"{k} {v}" for k, v in records[0].versions.items()) if records else ""
    rows = [["spec hash", spec.spec_hash()], ["results", f"{len(records)} cell-seeds"], ["versions", versions]]
    return Section("Run", html_table(["setting", "value"], rows, left=(0, 1)))


def _section(section: Section | tuple[str, Table]) -> Section:
    if isinstance(section, Section):
        return section
    heading, table = section
    if not isinstance(table, Table):
        raise TypeError(f"section {heading!r}: expected a Table (see html_table), got {type(table).__name__}")
    return Section(heading, table)


# JSON -------------------------------------------------------------------------------------------------


def json_text(payload: Any) -> str:
    """`payload` as strict JSON (non-finite floats as null, numpy values as plain ones), indented, with a
    final newline."""
    return json.dumps(finite_or_none(payload), indent=2, allow_nan=False, default=json_default) + "\n"


# Writing ----------------------------------------------------------------------------------------------


def write_report_folder(
    out: str | os.PathLike[str],
    *,
    template: str,
    title: str,
    figures: Sequence[ReportFigure] = (),
    json_files: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> Path:
    """Write `figures` (PNG), `json_files` (file name -> payload, as `json_text`) and report.html (the
    template `template` rendered with `title`, the figures embedded and `context`) into `out` (created if
    missing), atomically file by file; return the path of report.html."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out, prefix=".report-"))
    try:
        embedded = []
        for figure in figures:
            uri, width, height = png_data_uri(save_figure(figure.figure, work / figure.name))
            key = figure.key or Path(figure.name).stem
            embedded.append(EmbeddedFigure(key, uri, width, height, figure.alt, figure.caption))
        for name, payload in (json_files or {}).items():
            (work / name).write_text(json_text(payload), encoding="utf-8")
        page = render(template, **dict(context or {}), title=title, figures=embedded)
        (work / REPORT_FILE).write_text(page, encoding="utf-8")
        for produced in sorted(work.iterdir()):
            os.replace(produced, out / produced.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out / REPORT_FILE


def write_grid_report(
    out: str | os.PathLike[str],
    *,
    title: str,
    subtitle: str = "",
    sections: Sequence[Section | tuple[str, Table]] = (),
    figures: Sequence[ReportFigure] = (),
    payload: Mapping[str, Any],
    json_name: str = "results.json",
    run: Section | None = None,
    template: str = "grid.html.j2",
    context: Mapping[str, Any] | None = None,
) -> Path:
    """Write the figures (PNG), `json_name` (strict JSON of `payload`) and a self-contained report.html in
    the sweep report's style into `out`; return the path of report.html.

    The page (`template`, by default `grid.html.j2`) shows `subtitle` (text) under the title, the figures,
    then `sections` (`Section`s, or (heading, Table) pairs), the template's definitions if it has any, and
    `run` (such as `run_section(spec, records)`) last. `context` goes to the template as well (the
    templates that extend `grid.html.j2` read their own values from it)."""
    return write_report_folder(
        out,
        template=template,
        title=title,
        figures=figures,
        json_files={json_name: dict(payload)},
        context={
            **dict(context or {}),
            "subtitle": subtitle,
            "sections": [_section(s) for s in sections],
            "run": run,
        },
    )
