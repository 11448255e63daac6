"""Cells for the CSV and XLSX files county offices open in a spreadsheet.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
is a formula to Excel and WPS (OWASP "CSV injection"): a region, campaign or
household name like `=HYPERLINK(...)` would run when the file is opened. Such
text gets a leading apostrophe, in CSV and XLSX alike, and XLSX text cells
are written as strings explicitly, so openpyxl never stores a formula.
Numbers, dates and booleans are written as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """`value`, with a leading apostrophe if it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_cells(values: Iterable[Any]) -> list[Any]:
    """A CSV row: None as an empty cell, text neutralised."""
    return ["" if value is None else neutralised(value) for value in values]


def xlsx_cells(sheet: WriteOnlyWorksheet, values: Iterable[Any]) -> list[Any]:
    """A row for a write-only sheet: text as explicit string cells, neutralised."""
    row: list[Any] = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=neutralised(value))
            cell.data_type = "s"  # never "f", whatever the text looks like
            row.append(cell)
        else:
            row.append(value)
    return row
