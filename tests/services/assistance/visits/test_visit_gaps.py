"""`visit_overdue` with monthly visits: poverty-alleviated households too
(`object_id` null) after 32 days without a visit; visits and assessments both
count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from services.assistance.gaps.detection import scan_gaps
from shared import clock
from tests.services.assistance.assist_helpers import add_object, register, staff_headers

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TODAY = NOW.date()
GAPS = "/assistance/v1/gaps"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def overdue(client, headers) -> dict[str, dict]:
    response = await client.get(GAPS, params={"kind": "visit_overdue"}, headers=headers)
    assert response.status_code == 200, response.text
    return {g["household_id"]: g for g in response.json()["items"]}


async def alleviated(session, household_id: str, registered_days_ago: int) -> None:
    await register(session, household_id, [len(household_id)], category="poverty_alleviated")
    await session.execute(
        text("UPDATE households SET registered_on = :on WHERE household_id = :h"),
        {"on": TODAY - timedelta(days=registered_days_ago), "h": household_id},
    )


async def visit(client, headers, household_id: str, days_ago: int) -> None:
    response = await client.post(
        f"/assistance/v1/households/{household_id}/visits",
        json={"visited_on": (TODAY - timedelta(days=days_ago)).isoformat(), "new_risk": False},
        headers=headers,
    )
    assert response.status_code == 201, response.text


async def test_an_alleviated_household_is_overdue_from_the_32nd_day(client, session):
    await alleviated(session, "H-in", 32)
    await alleviated(session, "H-out", 31)
    headers = await staff_headers(session)
    gaps = await overdue(client, headers)
    assert set(gaps) == {"H-in"}
    assert gaps["H-in"]["object_id"] is None
    assert gaps["H-in"]["since"] == (TODAY - timedelta(days=1)).isoformat()


async def test_a_visit_or_an_assessment_restarts_the_clock(client, session):
    await alleviated(session, "H-visited", 100)
    await alleviated(session, "H-assessed", 100)
    await alleviated(session, "H-stale", 100)
    headers = await staff_headers(session)
    await visit(client, headers, "H-visited", 31)
    await visit(client, headers, "H-stale", 32)
    # An eliminated object's look-back is a visit of its household.
    object_id = await add_object(session, "H-assessed", status="risk_eliminated")
    await session.execute(
        text(
            "INSERT INTO assessments (assessment_id, county_code, object_id, household_id,"
            " assessed_on, kind, income_per_capita_yuan, rigid_expenditure_yuan,"
            " housing_secure, education_secure, medical_secure, drinking_water_secure,"
            " actor, recorded_at) VALUES (gen_random_uuid(), '610326', :id, 'H-assessed',"
            " :day, 'look_back', 9000, 0, true, true, true, true, 'test', now())"
        ),
        {"id": object_id, "day": TODAY - timedelta(days=10)},
    )
    assert set(await overdue(client, headers)) == {"H-stale"}


async def test_an_object_at_risk_has_its_own_gap_and_a_household_visit_counts(client, session):
    await alleviated(session, "H-monitored", 100)
    object_id = await add_object(session, "H-monitored", included_on=date(2026, 9, 1))
    headers = await staff_headers(session)
    [gap] = (await overdue(client, headers)).values()
    assert gap["object_id"] == str(object_id)
    await visit(client, headers, "H-monitored", 5)
    assert await overdue(client, headers) == {}


async def test_the_scan_announces_a_household_gap_once(client, session):
    await alleviated(session, "H-in", 40)
    first = await scan_gaps(session, now=NOW)
    assert first["noticed"]["visit_overdue"] == 1
    assert (await scan_gaps(session, now=NOW))["noticed"]["visit_overdue"] == 0
    event = (
        await session.execute(
            text(
                "SELECT aggregate_type, aggregate_id, payload FROM events"
                " WHERE type = 'assistance.gap_opened'"
            )
        )
    ).one()
    assert (event.aggregate_type, event.aggregate_id) == ("household", "H-in")
    assert event.payload["object_id"] is None
    assert event.payload["since"] == (TODAY - timedelta(days=9)).isoformat()


async def test_household_gaps_page_with_object_gaps(client, session):
    await alleviated(session, "H-a", 40)
    await alleviated(session, "H-b", 40)
    await register(session, "H-c", [9])
    await add_object(session, "H-c", included_on=TODAY - timedelta(days=40))
    headers = await staff_headers(session)
    seen, cursor = [], None
    while True:
        params = {"kind": "visit_overdue", "limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(GAPS, params=params, headers=headers)).json()
        seen += [g["household_id"] for g in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Same since: the households' gaps (no object) first, by household id.
    assert seen == ["H-a", "H-b", "H-c"]
