"""The experiment engine: a recipe run over cells and seeds, each run stored by the driver as it lands, on
local processes or on Ray (see `runner` and `executors`); what a run gets and returns (`cells`)."""

from ..store.records import Failure, Recipe, Record, cell_key, run_label
from .aggregate import CellSummary, load_grid, summarize_grid
from .cells import Outcome, Run
from .executors import BACKENDS, Backend
from .runner import Compute, GridResult, run_grid, versions

__all__ = [
    "BACKENDS",
    "Backend",
    "CellSummary",
    "Compute",
    "Failure",
    "GridResult",
    "Outcome",
    "Recipe",
    "Record",
    "Run",
    "cell_key",
    "load_grid",
    "run_grid",
    "run_label",
    "summarize_grid",
    "versions",
]
