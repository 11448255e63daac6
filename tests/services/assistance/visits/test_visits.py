"""Monthly visits (每月走访): who may be visited, what is kept where, and the
case a new risk opens through identification's consumer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from services.identification.cases.from_visits import open_cases_for_visits
from shared import clock
from shared.events import EventRecord
from tests.services.assistance.assist_helpers import VILLAGE, add_object, register, staff_headers

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TODAY = NOW.date()
OTHER_VILLAGE = "610326101201"
NOTES = "张三之子外出务工"


def visits(household_id: str) -> str:
    return f"/assistance/v1/households/{household_id}/visits"


def body(**fields) -> dict:
    return {
        "visited_on": "2026-11-20",
        "income_per_capita_yuan": 8200.5,
        "labour_capable_members": 2,
        "employed_members": 1,
        "member_changes": "新增一名成员（出生）",
        "new_risk": False,
        "notes": NOTES,
    } | fields


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def visit_events(session) -> list[EventRecord]:
    rows = await session.execute(
        text(
            "SELECT id, xid::text::bigint AS xid, county_code, type, aggregate_type,"
            " aggregate_id, actor, occurred_at, payload FROM events"
            " WHERE type = 'visit.recorded' ORDER BY id"
        )
    )
    return [EventRecord(**row._mapping) for row in rows]


async def test_a_visit_to_an_alleviated_household_is_kept_audited_and_announced(client, session):
    await register(session, "H-1", [1], category="poverty_alleviated")
    headers = await staff_headers(session, "village_staff", VILLAGE)
    response = await client.post(visits("H-1"), json=body(), headers=headers)
    assert response.status_code == 201, response.text
    visit = response.json()
    assert visit["object_id"] is None
    assert (visit["visited_on"], visit["labour_capable_members"], visit["employed_members"]) == (
        "2026-11-20",
        2,
        1,
    )
    assert visit["member_changes"] == "新增一名成员（出生）" and visit["notes"] == NOTES
    [event] = await visit_events(session)
    assert event.aggregate_id == "H-1"
    assert event.payload == {
        "visit_id": visit["visit_id"],
        "household_id": "H-1",
        "county_code": "610326",
        "region_code": VILLAGE,
        "object_id": None,
        "visited_on": "2026-11-20",
        "new_risk": False,
    }
    audited = await session.scalar(
        text("SELECT count(*) FROM audit_log WHERE action = 'visit.recorded'")
    )
    assert audited == 1


async def test_a_monitored_household_is_visited_with_its_object(client, session):
    await register(session, "H-2", [2])
    object_id = await add_object(session, "H-2")
    headers = await staff_headers(session)
    response = await client.post(visits("H-2"), json=body(), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["object_id"] == str(object_id)


async def test_a_household_neither_alleviated_nor_monitored_is_409(client, session):
    await register(session, "H-3", [3])
    await register(session, "H-4", [4])
    await add_object(session, "H-4", status="removed")
    headers = await staff_headers(session)
    for household in ("H-3", "H-4"):
        response = await client.post(visits(household), json=body(), headers=headers)
        assert response.status_code == 409, response.text
        assert response.json()["type"].endswith("household_not_visited_monthly")


async def test_an_eliminated_object_is_still_visited(client, session):
    await register(session, "H-5", [5])
    await add_object(session, "H-5", status="risk_eliminated")
    headers = await staff_headers(session)
    response = await client.post(visits("H-5"), json=body(), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["object_id"] is None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"visited_on": "2026-11-24"}, "date_in_future"),
        ({"visited_on": "0001-01-01"}, "date_out_of_range"),
        ({"notes": "a\x00b"}, "invalid_value"),
        ({"member_changes": "a\x07b"}, "invalid_value"),
        ({"employed_members": -1}, None),
    ],
)
async def test_bad_fields_are_422(client, session, fields, code):
    await register(session, "H-1", [1], category="poverty_alleviated")
    headers = await staff_headers(session)
    response = await client.post(visits("H-1"), json=body(**fields), headers=headers)
    assert response.status_code == 422, response.text
    if code:
        assert code in [e["code"] for e in response.json()["errors"]]
    assert NOTES not in response.text


async def test_scope_hides_households(client, session):
    await register(session, "H-6", [6], category="poverty_alleviated", region=OTHER_VILLAGE)
    headers = await staff_headers(session, "village_staff", VILLAGE)
    assert (await client.post(visits("H-6"), json=body(), headers=headers)).status_code == 404
    assert (await client.post(visits("H-0"), json=body(), headers=headers)).status_code == 404


async def cases_of(session, household_id: str) -> list[tuple]:
    rows = await session.execute(
        text(
            "SELECT source, opened_on, state FROM cases WHERE household_id = :h ORDER BY opened_on"
        ),
        {"h": household_id},
    )
    return [tuple(row) for row in rows]


async def test_a_new_risk_opens_a_cadre_screening_case_once(client, session):
    await register(session, "H-1", [1], category="poverty_alleviated")
    headers = await staff_headers(session, "village_staff", VILLAGE)
    for fields in ({"new_risk": False}, {"new_risk": True}, {"new_risk": True}):
        response = await client.post(visits("H-1"), json=body(**fields), headers=headers)
        assert response.status_code == 201, response.text
    # The first visit found nothing; the second opens; the third finds it open.
    assert await open_cases_for_visits(session, await visit_events(session), today=TODAY) == 1
    [(source, opened_on, state)] = await cases_of(session, "H-1")
    assert (source, opened_on.isoformat(), state) == ("cadre_screening", "2026-11-20", "open")
    opened = await session.scalar(
        text("SELECT payload FROM events WHERE type = 'case.opened' ORDER BY id DESC LIMIT 1")
    )
    assert NOTES not in str(opened)
