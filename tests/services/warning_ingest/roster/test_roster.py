"""`GET /ingest/v1/roster`: a hand-built county's poverty-alleviated and
monitored persons, streamed with full ID numbers to the departments the policy
lists, one audit row per download."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.app import create_app
from services.warning_ingest.roster import listing
from shared.db import Database, get_session
from shared.pii import PiiProtector
from shared.policy import get_policy
from shared.settings import get_settings
from tests.services.assistance.assist_helpers import add_object
from tests.services.warning_ingest.ingest_helpers import (
    department_headers,
    person,
    register,
    staff_headers,
)

ROSTER = "/ingest/v1/roster"
VILLAGE_A = "610326100201"
VILLAGE_B = "610326101201"
OTHER_COUNTY = "610327100201"


async def _county(session: AsyncSession) -> dict[str, tuple[str, str, str]]:
    """Households of every kind; returns the persons the roster must hold:
    id_number -> (name, region, group)."""
    # Poverty-alleviated, two members.
    await register(session, "H-A", [1, 2], category="poverty_alleviated", name="李四")
    # General with an active monitoring object, in another village.
    await register(session, "H-M", [3], region=VILLAGE_B, name="=HYPERLINK(1)")
    await add_object(session, "H-M", region=VILLAGE_B)
    # Poverty-alleviated and monitored: in the monitored group, once.
    await register(session, "H-AM", [4], category="poverty_alleviated", name="王五")
    await add_object(session, "H-AM")
    # Not on the roster: general; general with an eliminated object; removed.
    await register(session, "H-G", [5], name="赵六")
    await register(session, "H-E", [6], name="钱七")
    await add_object(session, "H-E", status="risk_eliminated")
    await register(session, "H-R", [7], name="孙八")
    await add_object(session, "H-R", status="removed")
    # Another county's alleviated household: every county is in a department's scope.
    await register(
        session, "H-X", [8], category="poverty_alleviated", region=OTHER_COUNTY, name="周九"
    )
    return {
        person(1): ("李四", VILLAGE_A, "poverty_alleviated"),
        person(2): ("李四", VILLAGE_A, "poverty_alleviated"),
        person(3): ("=HYPERLINK(1)", VILLAGE_B, "monitored"),
        person(4): ("王五", VILLAGE_A, "monitored"),
        person(8): ("周九", OTHER_COUNTY, "poverty_alleviated"),
    }


async def test_the_ndjson_roster_matches_the_registry(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    expected = await _county(session)
    headers = await department_headers(session, "medical_insurance")
    response = await client.get(ROSTER, params={"format": "ndjson"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    rows = [orjson.loads(line) for line in response.content.splitlines()]
    assert {r["id_number"]: (r["name"], r["region_code"], r["group"]) for r in rows} == expected
    assert len(rows) == len(expected)
    assert {r["cadence_days"] for r in rows} == {10}
    assert set(rows[0]) == {"id_number", "name", "region_code", "group", "cadence_days"}

    audit = (
        await session.execute(
            text(
                "SELECT actor, target_id, details FROM audit_log WHERE action = 'roster.downloaded'"
            )
        )
    ).all()
    assert len(audit) == 1
    assert audit[0].target_id == "medical_insurance"
    assert audit[0].details == {"format": "ndjson", "count": 5, "scope": "all"}
    assert not any(number in str(audit[0]) for number in expected)


async def test_the_csv_roster_has_a_bom_a_header_and_neutralised_text(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    expected = await _county(session)
    headers = await department_headers(session, "civil_affairs")
    response = await client.get(ROSTER, params={"format": "csv"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["id_number", "name", "region_code", "group", "cadence_days"]
    got = {r[0]: (r[1], r[2], r[3]) for r in rows[1:]}
    assert got[person(3)] == ("'=HYPERLINK(1)", VILLAGE_B, "monitored")
    assert set(got) == set(expected) and len(rows) == len(expected) + 1


async def test_the_cadence_follows_the_policy(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _county(session)
    policy = get_policy().rosters
    monkeypatch.setattr(policy, "cadence_days", {"poverty_alleviated": 30, "monitored": 10})
    headers = await department_headers(session, "medical_insurance")
    rows = [
        orjson.loads(line)
        for line in (await client.get(ROSTER, headers=headers)).content.splitlines()
    ]
    assert {(r["group"], r["cadence_days"]) for r in rows} == {
        ("poverty_alleviated", 30),
        ("monitored", 10),
    }


@pytest.mark.parametrize("department", ["housing", "education", "health"])
async def test_departments_the_policy_does_not_list_get_403(
    client: httpx.AsyncClient, session: AsyncSession, department: str
) -> None:
    await _county(session)
    headers = await department_headers(session, department)
    response = await client.get(ROSTER, headers=headers)
    assert response.status_code == 403
    assert person(1) not in response.text
    assert (
        await session.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'roster.downloaded'")
        )
        == 0
    )


async def test_staff_get_403_and_an_unknown_format_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await staff_headers(session)
    assert (await client.get(ROSTER, headers=staff)).status_code == 403
    medical = await department_headers(session, "medical_insurance")
    response = await client.get(ROSTER, params={"format": "xlsx"}, headers=medical)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid_code"
    assert (
        await session.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'roster.downloaded'")
        )
        == 0
    )


async def test_a_served_roster_streams_from_its_own_connection(fresh_db: Database) -> None:
    """As served: the request's transaction commits the audit row, then the
    rows come from a read-only transaction of their own."""
    async with fresh_db.transaction() as s:
        expected = await _county(s)
        headers = await department_headers(s, "medical_insurance")
    application = create_app()

    async def request_session() -> AsyncIterator[AsyncSession]:
        async with fresh_db.transaction() as s:
            yield s

    for sub in application.state.services.values():
        sub.dependency_overrides[get_session] = request_session
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as api:
        response = await api.get(ROSTER, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["x-roster-count"] == str(len(expected))
    got = {orjson.loads(line)["id_number"] for line in response.content.splitlines()}
    assert got == set(expected)
    async with fresh_db.transaction() as s:
        audited = await s.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'roster.downloaded'")
        )
    assert audited == 1


async def test_the_roster_is_read_a_partition_at_a_time(
    fresh_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flat memory: rows come from a server-side cursor in partitions, each
    written out before the next is read."""
    async with fresh_db.transaction() as s:
        expected = await _county(s)
    monkeypatch.setattr(listing, "PARTITION", 2)
    chunks = [
        chunk
        async for chunk in listing.stream_roster(
            fresh_db.engine,
            region_code=None,
            cadence_days={"poverty_alleviated": 10, "monitored": 10},
            output="ndjson",
            protector=PiiProtector.from_secret(get_settings().secret_bytes()),
            statement_timeout_ms=10_000,
        )
    ]
    rows = [chunk.count(b"\n") for chunk in chunks[1:]]  # after the (empty) header
    assert rows == [2, 2, 1] and sum(rows) == len(expected)
