"""Reading the ledgers back as a county office would: Python's csv for CSV
(after the UTF-8 byte order mark), openpyxl for XLSX; and the regions and
audit rows the ledger tests look at."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(response: httpx.Response) -> list[list[str]]:
    """The CSV's rows, header first; asserts the BOM and the media type."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response: httpx.Response) -> list[list[Any]]:
    """The first sheet's rows, header first; asserts the media type."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def by_header(rows: list[list[Any]]) -> list[dict[str, Any]]:
    header, *body = rows
    return [dict(zip(header, row, strict=True)) for row in body]


async def name_regions(
    session: AsyncSession, names: dict[str, tuple[str, str, str | None]]
) -> None:
    """Regions `code: (name, level, parent)` (kept if already there)."""
    for code, (name, level, parent) in names.items():
        await session.execute(
            text(
                "INSERT INTO regions (code, name, level, parent_code) VALUES"
                " (:code, :name, :level, :parent) ON CONFLICT (code) DO NOTHING"
            ),
            {"code": code, "name": name, "level": level, "parent": parent},
        )


async def export_audits(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT actor, target_type, target_id, details FROM audit_log"
            " WHERE action = 'ledger.exported' ORDER BY id"
        )
    )
    return [dict(row) for row in rows.mappings()]
