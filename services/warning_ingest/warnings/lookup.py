"""Reading warnings: the staff list (newest first, keyset pages), one
warning, and the batch receipts, as typed rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import DEPARTMENTS, WARNING_TYPES
from shared.db import fetch_one
from shared.errors import check_code
from shared.pagination import newest_first_rows
from shared.regions import scope_like_pattern

STATUSES = ("matched", "unmatched", "below_threshold", "dismissed")


@dataclass(frozen=True, slots=True)
class WarningRow:
    """A warning as staff read it (API.md `Warning`, plus its county)."""

    county_code: str
    warning_id: uuid.UUID
    department: str
    warning_type: str
    source_record_id: str
    id_number: str  # masked: the first 6 and last 4 characters
    name: str
    region_code: str
    reported_region_code: str | None
    household_id: str | None
    event_date: date | None
    amount_yuan: Decimal | None
    received_at: datetime
    status: str
    late: bool
    name_mismatch: bool
    case_id: uuid.UUID | None
    outcome: str | None
    resolution_reason: str | None


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    """A stored batch's receipt as it was answered, with the pushing client."""

    batch_id: uuid.UUID
    department: str
    client_id: uuid.UUID
    received_at: datetime
    period_end: date
    record_count: int
    accepted: int
    duplicates: int
    rejected: int
    records: list[dict[str, Any]]  # the receipt's JSON records, as stored


# The fields of WarningRow: the masked ID under the API's name, never its hash
# or sealed form.
_COLUMNS = """
    w.county_code, w.warning_id, w.department, w.warning_type, w.source_record_id,
    w.id_masked AS id_number, w.name, w.region_code, w.reported_region_code, w.household_id,
    w.event_date, w.amount_yuan, w.received_at, w.status, w.late, w.name_mismatch, w.case_id,
    w.outcome, w.resolution_reason
"""

# By id alone: a warning's URL carries no county, and its id is unique.
_WARNING_BY_ID = text(f"SELECT {_COLUMNS} FROM warnings w WHERE w.warning_id = :id")

# The receipt a batch's push answered, kept with the batch for GET /batches/{id}.
_RECEIPT_BY_BATCH = text(
    """
SELECT batch_id, department, client_id, received_at, period_end,
    record_count, accepted, duplicates, rejected, records
FROM ingest_batches WHERE batch_id = :id
"""
)


async def list_warnings(
    session: AsyncSession,
    *,
    region_code: str,
    warning_type: str | None = None,
    department: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[WarningRow], str | None]:
    """Warnings inside `region_code`, newest first; 422 for a code outside its list."""
    check_code("warning_type", warning_type, WARNING_TYPES)
    check_code("department", department, DEPARTMENTS)
    check_code("status", status, STATUSES)
    filters = {"warning_type": warning_type, "department": department, "status": status}
    given = {name: value for name, value in filters.items() if value is not None}
    return await newest_first_rows(
        session,
        into=WarningRow,
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


async def get_warning(session: AsyncSession, *, warning_id: uuid.UUID) -> WarningRow | None:
    return await fetch_one(session, _WARNING_BY_ID, {"id": warning_id}, into=WarningRow)


async def get_receipt(session: AsyncSession, *, batch_id: uuid.UUID) -> ReceiptRow | None:
    """A stored batch's receipt, as it was answered, with the batch's client id."""
    return await fetch_one(session, _RECEIPT_BY_BATCH, {"id": batch_id}, into=ReceiptRow)
