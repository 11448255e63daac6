"""Reading the roster: the persons of poverty-alleviated households and of
households with an active monitoring object, in a scope, with their full ID
numbers (the one deliberate release of them, audited by the caller).

Rows are read through a server-side cursor in partitions and written out as
they come, so a county of a million persons is streamed in flat memory. A
household both poverty-alleviated and monitored is in the `monitored` group.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from shared import audit
from shared.pii import PiiProtector
from shared.regions import scope_range
from shared.spreadsheets import csv_cells

FORMATS = ("ndjson", "csv")
MEDIA_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
COLUMNS = ("id_number", "name", "region_code", "group", "cadence_days")
PARTITION = 2000
DOWNLOADED = "roster.downloaded"

_FROM = """
FROM households h
JOIN members m ON m.county_code = h.county_code AND m.household_id = h.household_id
LEFT JOIN monitoring_objects o ON o.county_code = h.county_code
    AND o.household_id = h.household_id AND o.status = 'risk_not_eliminated'
WHERE (h.category = 'poverty_alleviated' OR o.object_id IS NOT NULL)
  AND (CAST(:low AS text) IS NULL OR (h.region_code >= :low AND h.region_code < :high))
"""
# At most one active object per household (a unique partial index): the left
# join adds no rows.
_COUNT = text("SELECT count(*)" + _FROM)
_ROWS = text(
    "SELECT m.id_sealed, m.name, h.region_code,"
    " CASE WHEN o.object_id IS NULL THEN 'poverty_alleviated' ELSE 'monitored' END AS grp" + _FROM
)


def _scope(region_code: str | None) -> dict[str, str | None]:
    if region_code is None:
        return {"low": None, "high": None}
    low, high = scope_range(region_code)
    return {"low": low, "high": high}


async def record_download(
    session: AsyncSession,
    *,
    department: str,
    region_code: str | None,
    output: str,
    actor: str,
) -> int:
    """Count the roster and write the download's audit row (the count, never a
    person); return the count."""
    count = int(await session.scalar(_COUNT, _scope(region_code)) or 0)
    await audit.record(
        session,
        actor=actor,
        action=DOWNLOADED,
        target_type="roster",
        target_id=department,
        details={"format": output, "count": count, "scope": region_code or "all"},
    )
    return count


def _lines(rows: Iterable[dict[str, Any]], output: str) -> bytes:
    if output == "ndjson":
        return b"".join(orjson.dumps(row) + b"\n" for row in rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(csv_cells(row[c] for c in COLUMNS) for row in rows)
    return buffer.getvalue().encode("utf-8")


def _header(output: str) -> bytes:
    if output == "ndjson":
        return b""
    # A byte-order mark, so that Excel reads the Chinese names as UTF-8.
    return "\ufeff".encode() + _lines([dict(zip(COLUMNS, COLUMNS, strict=True))], "csv")


async def stream_roster(
    bind: AsyncEngine | AsyncConnection,
    *,
    region_code: str | None,
    cadence_days: dict[str, int],
    output: str,
    protector: PiiProtector,
    statement_timeout_ms: int,
) -> AsyncIterator[bytes]:
    """The roster in `output` format, one chunk per partition of rows."""
    yield _header(output)
    if isinstance(bind, AsyncConnection):  # a test's connection, inside its transaction
        async for chunk in _chunks(bind, region_code, cadence_days, output, protector):
            yield chunk
        return
    async with bind.connect() as conn, conn.begin():
        await conn.execute(text("SET TRANSACTION READ ONLY"))
        await conn.execute(
            text("SELECT set_config('statement_timeout', :ms, true)"),
            {"ms": f"{statement_timeout_ms}ms"},
        )
        async for chunk in _chunks(conn, region_code, cadence_days, output, protector):
            yield chunk


async def _chunks(
    conn: AsyncConnection,
    region_code: str | None,
    cadence_days: dict[str, int],
    output: str,
    protector: PiiProtector,
) -> AsyncIterator[bytes]:
    # A server-side cursor (stream), read PARTITION rows at a time: the size is
    # given here, as a text() statement's yield_per is not applied to it.
    result = await conn.stream(_ROWS, _scope(region_code))
    async for partition in result.partitions(PARTITION):
        yield _lines(
            (
                {
                    "id_number": protector.open(row.id_sealed),
                    "name": row.name,
                    "region_code": row.region_code,
                    "group": row.grp,
                    "cadence_days": cadence_days[row.grp],
                }
                for row in partition
            ),
            output,
        )
