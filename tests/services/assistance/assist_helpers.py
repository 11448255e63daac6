"""Monitoring objects and cases for the assistance tests, written directly
(the identification service's own tests cover how they come to be)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.services.warning_ingest.ingest_helpers import VILLAGE, register, staff_headers

MEASURES = "/assistance/v1/measures"

__all__ = ["MEASURES", "VILLAGE", "add_object", "register", "staff_headers"]


async def add_object(
    session: AsyncSession,
    household_id: str,
    *,
    included_on: date = date(2026, 1, 5),
    region: str = VILLAGE,
    status: str = "risk_not_eliminated",
    monitoring_type: str = "marginal",
    case_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A monitoring object for an already registered household."""
    object_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,"
            " monitoring_type, risk_types, status, included_on, case_id)"
            " VALUES (:id, :county, :household, :region, :type, ARRAY['illness'], :status,"
            " :included_on, :case_id)"
        ),
        {
            "id": object_id,
            "county": region[:6],
            "household": household_id,
            "region": region,
            "type": monitoring_type,
            "status": status,
            "included_on": included_on,
            "case_id": case_id or uuid.uuid4(),
        },
    )
    return object_id
