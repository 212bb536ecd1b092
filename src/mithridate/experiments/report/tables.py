"""Tables of the reports, as data: `Table` (header, rows of `Cell`s, the left-aligned columns) is what the
`table` macro of `templates/macros.html.j2` renders, escaping every text; `text_table` and `aligned_columns`
lay out the same kind of rows as plain text for the terminal.

A leaf module: it imports nothing from mithridate, so that `summary` can use it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Cell", "Row", "Table", "aligned_columns", "html_table", "text_table"]


@dataclass(frozen=True)
class Cell:
    """One cell of an HTML table. Everything in it is plain text; the template escapes it.

    `tag`: a small badge after the text (such as "best"); `note`: a muted remark after the text; `code`:
    show the text as code; `classes`: CSS classes of the cell ("best" highlights it; the table adds "l" to
    its left-aligned columns); `style`: inline CSS of the cell (such as a background colour).
    """

    text: str
    tag: str = ""
    note: str = ""
    code: bool = False
    classes: tuple[str, ...] = ()
    style: str = ""


@dataclass(frozen=True)
class Row:
    """A row of cells and its CSS class ("best" highlights it; "" for none)."""

    cells: tuple[Cell, ...]
    css: str = ""


@dataclass(frozen=True)
class Table:
    """An HTML table in the reports' style: header cells, rows, and which columns are left-aligned (the
    others are right-aligned, as numbers)."""

    header: tuple[Cell, ...]
    rows: tuple[Row, ...]
    left: frozenset[int] = frozenset({0})

    def classes(self, column: int, cell: Cell) -> str:
        """The class attribute of `cell` in `column` ("" for none)."""
        return " ".join((("l",) if column in self.left else ()) + tuple(cell.classes))


def _cell(value: Cell | str) -> Cell:
    return value if isinstance(value, Cell) else Cell(str(value))


def html_table(
    header: Sequence[Cell | str],
    rows: Iterable[Row | Sequence[Cell | str]],
    *,
    left: Iterable[int] = (0,),
) -> Table:
    """A `Table` from plain-text cells (or `Cell`s) and rows (or `Row`s, which carry a class)."""
    built = []
    for row in rows:
        if isinstance(row, Row):
            built.append(Row(tuple(_cell(c) for c in row.cells), row.css))
        else:
            built.append(Row(tuple(_cell(c) for c in row)))
    return Table(tuple(_cell(h) for h in header), tuple(built), frozenset(left))


def aligned_columns(rows: Sequence[Sequence[str]], right: Iterable[int] = ()) -> list[str]:
    """Lines of text with the columns of `rows` aligned: the `right` columns right-aligned, the others
    left-aligned, two spaces between columns, no trailing space."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = set(right)
    return [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: Iterable[int] = (0,)) -> str:
    """A plain-text table with aligned columns (numbers right-aligned, the `left` columns left-aligned)."""
    left = set(left)
    lines = [list(header), *[list(row) for row in rows]]
    return "\n".join(aligned_columns(lines, right=[i for i in range(len(header)) if i not in left]))
