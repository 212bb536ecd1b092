"""The reports of the experiments, built from Jinja2 templates (`templates/`).

- `tables`: the HTML table as data (`Table`, `Cell`, `Row`, `html_table`) and plain-text tables
  (`text_table`, `aligned_columns`);
- `figures`: matplotlib figures on the Agg renderer (`DPI`, `new_figure`, `new_figure_grid`, `save_figure`,
  `png_data_uri`);
- `page`: the templates' environment and the writer of a report folder (`write_report_folder`; for the
  grid experiments `write_grid_report` with `ReportFigure`/`GridFigure`, `Section`, `run_section`);
- `sweep`: the dose-response sweep's figures and report (`write_report`, `write_summary_json`).

The names are imported on first use: `summary` uses `tables`, and `sweep` uses `summary`, so importing the
package must not import `sweep` (no import cycle).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .figures import DPI, new_figure, new_figure_grid, png_data_uri, save_figure
    from .page import (
        REPORT_FILE,
        TEMPLATES,
        EmbeddedFigure,
        GridFigure,
        ReportFigure,
        Section,
        environment,
        json_text,
        render,
        run_section,
        write_grid_report,
        write_report_folder,
    )
    from .sweep import (
        FIGURE_FILES,
        affinity_diversity_figure,
        corruptions_figure,
        dose_response_figure,
        write_report,
        write_summary_json,
    )
    from .tables import Cell, Row, Table, aligned_columns, html_table, text_table

__all__ = [
    "DPI",
    "FIGURE_FILES",
    "REPORT_FILE",
    "TEMPLATES",
    "Cell",
    "EmbeddedFigure",
    "GridFigure",
    "ReportFigure",
    "Row",
    "Section",
    "Table",
    "affinity_diversity_figure",
    "aligned_columns",
    "corruptions_figure",
    "dose_response_figure",
    "environment",
    "html_table",
    "json_text",
    "new_figure",
    "new_figure_grid",
    "png_data_uri",
    "render",
    "run_section",
    "save_figure",
    "text_table",
    "write_grid_report",
    "write_report",
    "write_report_folder",
    "write_summary_json",
]

_MODULE_OF = {
    **dict.fromkeys(("Cell", "Row", "Table", "aligned_columns", "html_table", "text_table"), "tables"),
    **dict.fromkeys(("DPI", "new_figure", "new_figure_grid", "png_data_uri", "save_figure"), "figures"),
    **dict.fromkeys(
        (
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
        ),
        "page",
    ),
    **dict.fromkeys(
        (
            "FIGURE_FILES",
            "affinity_diversity_figure",
            "corruptions_figure",
            "dose_response_figure",
            "write_report",
            "write_summary_json",
        ),
        "sweep",
    ),
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # found once: the next look-up does not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
