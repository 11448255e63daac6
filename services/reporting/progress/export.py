"""The progress table as files a county office opens in a spreadsheet.

- CSV (`text/csv; charset=utf-8`): a UTF-8 byte order mark (so that Excel reads
  the Chinese), then the header row on the first line, one line per row of the
  JSON table in the same order; no title line.
- XLSX (one sheet, 进度统计表, written by a write-only openpyxl workbook): row 1
  is a title naming the campaign, the region and the window; row 2 is the
  header row; the table's rows start on row 3. Panes are frozen below the
  header and right of the region's name.

Headers are the columns' Chinese labels, in the JSON's column order. Cells
hold the JSON's values: counts as numbers, the coverage rate as a fraction
(0..1), `level` as its Chinese label (乡镇, 村, 合计), null as an empty cell.
Text that a spreadsheet would run as a formula is neutralised
(shared/spreadsheets.py).

Both are named `progress_table_<region>_<year>.<ext>` (ASCII) with a Chinese
`filename*` (RFC 5987).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from openpyxl import Workbook

from services.reporting.progress.table import COLUMNS, LEVEL_LABELS
from shared.ledgers import content_disposition as ledger_disposition
from shared.spreadsheets import csv_cells, xlsx_cells

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLE = "进度统计表"
XLSX_HEADER_ROW = 2  # 1-based; row 1 is the title

_BOM = "\ufeff"


def _headers() -> list[str]:
    return [column.label for column in COLUMNS]


def _cells(table: dict[str, Any]) -> Iterator[list[Any]]:
    for row in table["rows"]:
        cells = [row[column.code] for column in COLUMNS]
        cells[2] = LEVEL_LABELS.get(row["level"], row["level"])
        yield cells


def title(table: dict[str, Any]) -> str:
    """The title line: campaign, region and window."""
    period = table["period"]
    name = f"{table['campaign_name']} " if table["campaign_name"] else ""
    return (
        f"{name}集中排查工作进度统计表"
        f"（{table['region_name'] or table['region']}，"
        f"{period['date_from']}至{period['date_to']}）"
    )


def to_csv(table: dict[str, Any]) -> bytes:
    """The table as CSV bytes, starting with the UTF-8 BOM."""
    buffer = io.StringIO()
    buffer.write(_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(_headers())
    for cells in _cells(table):
        writer.writerow(csv_cells(cells))
    return buffer.getvalue().encode("utf-8")


def to_xlsx(table: dict[str, Any]) -> bytes:
    """The table as an XLSX workbook: title row, header row, then the rows."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET_TITLE)
    sheet.freeze_panes = f"C{XLSX_HEADER_ROW + 1}"
    sheet.append(xlsx_cells(sheet, [title(table)]))
    sheet.append(xlsx_cells(sheet, _headers()))
    for cells in _cells(table):
        sheet.append(xlsx_cells(sheet, cells))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def content_disposition(table: dict[str, Any], extension: str) -> str:
    """`attachment` with an ASCII filename and its Chinese form (RFC 5987)."""
    ascii_name = f"progress_table_{table['region']}_{table['year']}.{extension}"
    chinese = f"集中排查工作进度统计表_{table['region_name'] or table['region']}.{extension}"
    return ledger_disposition(ascii_name, chinese)
