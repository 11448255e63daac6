"""Reading warnings: the staff list (newest first, keyset pages), one
warning, and the batch receipts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import DEPARTMENTS, WARNING_TYPES
from shared.errors import check_code
from shared.pagination import newest_first
from shared.regions import scope_like_pattern

STATUSES = ("matched", "unmatched", "below_threshold", "dismissed")

_COLUMNS = """
    w.county_code, w.warning_id, w.department, w.warning_type, w.source_record_id,
    w.id_masked AS id_number, w.name, w.region_code, w.reported_region_code, w.household_id,
    w.event_date, w.amount_yuan, w.received_at, w.status, w.late, w.name_mismatch, w.case_id,
    w.outcome, w.resolution_reason
"""


async def list_warnings(
    session: AsyncSession,
    *,
    region_code: str,
    warning_type: str | None = None,
    department: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Warnings inside `region_code`, newest first; 422 for a code outside its list."""
    check_code("warning_type", warning_type, WARNING_TYPES)
    check_code("department", department, DEPARTMENTS)
    check_code("status", status, STATUSES)
    filters = {"warning_type": warning_type, "department": department, "status": status}
    given = {name: value for name, value in filters.items() if value is not None}
    return await newest_first(
        session,
        select=f"SELECT {_COLUMNS} FROM warnings w",
        where=["w.region_code LIKE :scope", *(f"w.{name} = :{name}" for name in given)],
        params={"scope": scope_like_pattern(region_code), **given},
        order=(
            ("w.received_at", "received_at", datetime),
            ("w.warning_id", "warning_id", uuid.UUID),
        ),
        cursor=cursor,
        limit=limit,
    )


async def get_warning(session: AsyncSession, *, warning_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        await session.execute(
            text(f"SELECT {_COLUMNS} FROM warnings w WHERE w.warning_id = :id"),
            {"id": warning_id},
        )
    ).mappings()
    found = row.first()
    return None if found is None else dict(found)


async def get_receipt(session: AsyncSession, *, batch_id: uuid.UUID) -> dict[str, Any] | None:
    """A stored batch's receipt, as it was answered, with the batch's client id."""
    row = (
        (
            await session.execute(
                text(
                    "SELECT batch_id, department, client_id, received_at, period_end,"
                    " record_count, accepted, duplicates, rejected, records"
                    " FROM ingest_batches WHERE batch_id = :id"
                ),
                {"id": batch_id},
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)
