"""What the unmatched-queue tests share: pushing a stranger's warning, reading
its row and events."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from shared.auth import issue_token
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    department_headers,
    record,
)

UNMATCHED = "/ingest/v1/unmatched"
WARNINGS = "/ingest/v1/warnings"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TOWNSHIP = "610326100000"
OTHER_COUNTY_VILLAGE = "610327100201"
# Odd sequence numbers: person(2k) and person(2k + 1) are the same man.
STRANGER = 7


async def _rows(session, sql: str, **params):
    return (await session.execute(text(sql), params)).all()


async def push(client, headers, *records) -> list[str]:
    response = await client.post(BATCHES, json={"records": list(records)}, headers=headers)
    assert response.status_code == 201, response.text
    return [r["warning_id"] for r in response.json()["records"]]


async def push_stranger(client, session, *, department: str = "civil_affairs", **fields) -> str:
    """One warning about a person the registry does not know; its id."""
    warning_type = "high_medical_expense" if department == "medical_insurance" else "dibao"
    headers = await department_headers(session, department)
    [warning_id] = await push(client, headers, record(STRANGER, warning_type, **fields))
    return warning_id


async def county_staff(session) -> tuple[str, dict[str, str]]:
    """A county staff member's actor name and headers."""
    principal, token = await issue_token(
        session, kind="user", name="county", role="county_staff", region_code=COUNTY
    )
    return principal.actor, {"Authorization": f"Bearer {token}"}


async def warning_row(session, warning_id: str):
    [row] = await _rows(
        session,
        "SELECT status, household_id, region_code, county_code, resolution_reason, resolved_by"
        " FROM warnings WHERE warning_id = :id",
        id=warning_id,
    )
    return row


async def events_of(session, warning_id: str) -> list[tuple[str, dict]]:
    return [
        (t, p)
        for t, p in await _rows(
            session,
            "SELECT type, payload FROM events"
            " WHERE aggregate_type = 'warning' AND aggregate_id = :id ORDER BY id",
            id=warning_id,
        )
    ]


def resolve_url(warning_id: str) -> str:
    return f"{WARNINGS}/{warning_id}/resolve"
