"""Households, tokens and cases for the identification tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.services.warning_ingest.ingest_helpers import (
    COUNTY,
    TODAY,
    VILLAGE,
    department_headers,
    person,
    register,
    staff_headers,
)

CASES = "/identification/v1/cases"
TOWN = "610326100000"
OTHER_TOWN_VILLAGE = "610326101201"

__all__ = [
    "CASES",
    "COUNTY",
    "OTHER_TOWN_VILLAGE",
    "TODAY",
    "TOWN",
    "VILLAGE",
    "department_headers",
    "open_case",
    "person",
    "register",
    "staff_headers",
]


async def open_case(
    client: Any,
    session: AsyncSession,
    household_id: str,
    *,
    found_on: date = TODAY,
    source: str = "self_report",
    risk_types: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Open a manual case over HTTP (as county staff unless `headers`) and return it."""
    headers = headers or await staff_headers(session, "county_staff")
    response = await client.post(
        CASES,
        json={
            "household_id": household_id,
            "source": source,
            "found_on": found_on.isoformat(),
            "description": "家中突发变故",
            "risk_types": risk_types or [],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
