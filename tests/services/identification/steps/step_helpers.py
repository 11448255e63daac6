"""What the step tests share: default bodies and roles, and walking a case through its steps."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.services.identification.id_helpers import (
    CASES,
    open_case,
    register,
)

# 2026-11-23 10:00 in Asia/Shanghai: today is 23 November.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
FOUND_ON = date(2026, 11, 10)


def visit_body(**changes: Any) -> dict[str, Any]:
    return {
        "visited_on": "2026-11-11",
        "income_per_capita_yuan": 5200.5,
        "rigid_expenditure_yuan": 31000,
        "housing_secure": True,
        "education_secure": True,
        "medical_secure": False,
        "drinking_water_secure": True,
        "authorisation_signed": True,
        "eligible": True,
        **changes,
    }


def village_body(**changes: Any) -> dict[str, Any]:
    # The notice runs 13 to 17 November: five days, both ends counted.
    return {
        "reviewed_on": "2026-11-12",
        "notice_start": "2026-11-13",
        "notice_end": "2026-11-17",
        "objections": False,
        **changes,
    }


def township_body(**changes: Any) -> dict[str, Any]:
    return {"reviewed_on": "2026-11-14", "approved": True, **changes}


def county_body(**changes: Any) -> dict[str, Any]:
    return {
        "approved_on": "2026-11-18",
        "comparison_waived": False,
        "outcome": "included",
        "monitoring_type": "marginal",
        "risk_types": ["illness"],
        **changes,
    }


BODIES = {
    "household_visit": visit_body,
    "village_review": village_body,
    "township_review": township_body,
    "county_approval": county_body,
}
# Who records each step by default.
ROLES = {
    "household_visit": "village",
    "village_review": "village",
    "township_review": "township",
    "county_approval": "county",
}


async def post_step(
    client: httpx.AsyncClient,
    case: dict[str, Any],
    step: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    body = body if body is not None else BODIES[step]()
    return await client.post(f"{CASES}/{case['case_id']}/steps/{step}", json=body, headers=headers)


async def through(
    client: httpx.AsyncClient,
    case: dict[str, Any],
    staff: dict[str, dict[str, str]],
    *steps: str,
) -> dict[str, Any]:
    """Record `steps` with their default bodies and roles; return the case after the last."""
    result = case
    for step in steps:
        response = await post_step(client, case, step, staff[ROLES[step]])
        assert response.status_code == 200, response.text
        result = response.json()
    return result


async def new_case(
    client: httpx.AsyncClient,
    session: AsyncSession,
    household_id: str = "H-1",
    *,
    seq: int = 1,
    category: str = "general",
    risk_types: list[str] | None = None,
    register_household: bool = True,
) -> dict[str, Any]:
    if register_household:
        await register(session, household_id, [seq], category=category)
    return await open_case(client, session, household_id, found_on=FOUND_ON, risk_types=risk_types)


def error_code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["code"])


def slug(response: httpx.Response) -> str:
    return str(response.json()["type"]).rsplit(":", 1)[-1]


async def event_types(session: AsyncSession, aggregate_type: str) -> list[str]:
    rows = await session.execute(
        text("SELECT type FROM events WHERE aggregate_type = :a ORDER BY id"), {"a": aggregate_type}
    )
    return [t for (t,) in rows]
