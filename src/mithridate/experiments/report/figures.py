"""Figures of the reports: matplotlib figures drawn with the Agg renderer (no pyplot, no display, no global
backend state), saved as PNG at `DPI`, and a PNG as a data: URI for a self-contained page."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import PIL.Image

__all__ = ["DPI", "new_figure", "new_figure_grid", "png_data_uri", "save_figure"]

DPI = 150


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # the Agg renderer, explicitly
    return figure


def new_figure(width: float, height: float) -> tuple[Any, Any]:
    """A figure of `width` x `height` inches with one axes, its top and right spines hidden: (figure, axes)."""
    figure = _figure(width, height)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def new_figure_grid(rows: int, cols: int, width: float, height: float, **subplots: Any) -> tuple[Any, Any]:
    """A figure with a `rows` x `cols` array of axes (always 2-D; `subplots` go to `Figure.subplots`, such
    as sharey="row"), top and right spines hidden, light grid lines: (figure, axes array)."""
    figure = _figure(width, height)
    axes = figure.subplots(rows, cols, squeeze=False, **subplots)
    for ax in axes.flat:
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(color="0.92", lw=0.7)
    return figure, axes


def save_figure(figure: Any, path: str | Path) -> Path:
    """Write `figure` (a matplotlib Figure, or a PIL image such as a preview grid) to `path` as PNG."""
    path = Path(path)
    if isinstance(figure, PIL.Image.Image):
        image = figure if figure.mode in ("RGB", "RGBA", "L") else figure.convert("RGBA")
        image.save(path, format="PNG")
    else:
        figure.savefig(path, format="png", dpi=DPI, facecolor="white")
    return path


def png_data_uri(path: str | Path) -> tuple[str, int, int]:
    """The PNG file at `path` as (data: URI, width, height in pixels)."""
    data = Path(path).read_bytes()
    with PIL.Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii"), width, height
