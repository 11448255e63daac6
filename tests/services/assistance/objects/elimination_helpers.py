"""What the elimination tests share: an object prepared to meet every criterion,
and the requests and rows they check."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import text

from tests.services.assistance.assist_helpers import (
    MEASURES,
    add_object,
    register,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
OBJECTS = "/assistance/v1/monitoring_objects"
# Above the 2022 line (6900, in force for later years), 214 days apart.
STABLE = [("2026-03-01", 7000), ("2026-10-01", 8000)]


async def assess(client, headers, object_id, day, income, **overrides):
    body = {
        "assessed_on": day,
        "kind": "look_back",
        "income_per_capita_yuan": income,
        "rigid_expenditure_yuan": 800,
        "housing_secure": True,
        "education_secure": True,
        "medical_secure": True,
        "drinking_water_secure": True,
        **overrides,
    }
    response = await client.post(f"{OBJECTS}/{object_id}/assessments", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def add_measure(client, headers, object_id, status: str) -> None:
    planned = await client.post(
        MEASURES,
        json={"object_id": str(object_id), "category": "industry", "planned_on": "2026-02-01"},
        headers=headers,
    )
    assert planned.status_code == 201, planned.text
    if status != "planned":
        moved = await client.patch(
            f"{MEASURES}/{planned.json()['measure_id']}",
            json={"status": status, "started_on": "2026-02-10", "completed_on": "2026-06-30"},
            headers=headers,
        )
        assert moved.status_code == 200, moved.text


async def prepared(
    client,
    session,
    headers,
    *,
    household: str = "H-1",
    included_on: date = date(2026, 1, 5),
    incomes=STABLE,
    latest: dict | None = None,
    measure: str | None = "in_progress",
) -> uuid.UUID:
    """An object that meets every criterion unless told otherwise; `latest`
    overrides fields of the latest assessment."""
    await register(session, household, [len(household)])
    object_id = await add_object(session, household, included_on=included_on)
    for i, (day, income) in enumerate(incomes):
        extra = latest if latest and i == len(incomes) - 1 else {}
        await assess(client, headers, object_id, day, income, **extra)
    if measure is not None:
        await add_measure(client, headers, object_id, measure)
    return object_id


async def eliminate(client, headers, object_id, decided_on="2026-11-23"):
    return await client.post(
        f"{OBJECTS}/{object_id}/elimination", json={"decided_on": decided_on}, headers=headers
    )


def error_codes(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["code"] for e in response.json()["errors"]]


async def events_of(session, event_type: str) -> list:
    return (
        await session.execute(
            text("SELECT aggregate_id, payload FROM events WHERE type = :t ORDER BY id"),
            {"t": event_type},
        )
    ).all()


async def audit_count(session, action: str) -> int:
    return await session.scalar(
        text("SELECT count(*) FROM audit_log WHERE action = :a"), {"a": action}
    )
