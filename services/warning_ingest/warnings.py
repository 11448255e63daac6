"""Reading warnings: the staff list (newest first, keyset pages), one
warning, and the batch receipts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import DEPARTMENTS, WARNING_TYPES
from shared.errors import invalid
from shared.pagination import decode_cursor, encode_cursor
from shared.regions import scope_like_pattern

STATUSES = ("matched", "unmatched", "below_threshold", "dismissed")

_COLUMNS = """
    w.county_code, w.warning_id, w.department, w.warning_type, w.source_record_id,
    w.id_masked AS id_number, w.name, w.region_code, w.reported_region_code, w.household_id,
    w.event_date, w.amount_yuan, w.received_at, w.status, w.late, w.name_mismatch, w.case_id,
    w.outcome, w.resolution_reason
"""


def _check_code(field: str, value: str | None, allowed: Any) -> None:
    if value is not None and value not in allowed:
        raise invalid(field, "invalid_code", f"{field} must be one of {', '.join(allowed)}")


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
    _check_code("warning_type", warning_type, list(WARNING_TYPES))
    _check_code("department", department, list(DEPARTMENTS))
    _check_code("status", status, STATUSES)
    clauses = ["w.region_code LIKE :scope"]
    params: dict[str, Any] = {"scope": scope_like_pattern(region_code), "limit": limit + 1}
    for name, value in (
        ("warning_type", warning_type),
        ("department", department),
        ("status", status),
    ):
        if value is not None:
            clauses.append(f"w.{name} = :{name}")
            params[name] = value
    if cursor is not None:
        received_at, warning_id = decode_cursor(cursor, (datetime, uuid.UUID))
        clauses.append("(w.received_at, w.warning_id) < (:after_at, :after_id)")
        params |= {"after_at": received_at, "after_id": warning_id}
    rows = (
        await session.execute(
            text(
                f"SELECT {_COLUMNS} FROM warnings w WHERE {' AND '.join(clauses)}"
                " ORDER BY w.received_at DESC, w.warning_id DESC LIMIT :limit"
            ),
            params,
        )
    ).mappings()
    items = [dict(row) for row in rows]
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        last = items[-1]
        next_cursor = encode_cursor([last["received_at"], last["warning_id"]])
    return items, next_cursor


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
