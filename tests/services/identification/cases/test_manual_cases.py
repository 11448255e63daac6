"""`POST /identification/v1/cases` and `GET /identification/v1/cases/{id}`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.identification.id_helpers import (
    CASES,
    OTHER_TOWN_VILLAGE,
    TOWN,
    open_case,
    register,
    staff_headers,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def test_manual_clue_opens_a_case_due_fifteen_days_after_it_was_found(client, session):
    await register(session, "H-1", [1])
    case = await open_case(client, session, "H-1", found_on=date(2026, 11, 20))
    assert case["opened_on"] == "2026-11-20"
    assert case["deadline"] == "2026-12-05"
    assert case["days_left"] == 12
    assert (case["state"], case["overdue"], case["source"]) == ("open", False, "self_report")
    assert case["steps"] == {
        "household_visit": None,
        "village_review": None,
        "township_review": None,
        "county_approval": None,
    }
    [(event_type,)] = (
        await session.execute(text("SELECT type FROM events WHERE aggregate_type = 'case'"))
    ).all()
    assert event_type == "case.opened"


async def test_second_clue_for_a_household_with_an_open_case_is_409_naming_it(client, session):
    await register(session, "H-1", [1])
    first = await open_case(client, session, "H-1")
    headers = await staff_headers(session)
    response = await client.post(
        CASES,
        json={
            "household_id": "H-1",
            "source": "cadre_screening",
            "found_on": "2026-11-22",
            "description": "排查发现",
        },
        headers=headers,
    )
    assert response.status_code == 409
    assert response.json()["case_id"] == first["case_id"]


async def test_clue_found_in_the_future_is_refused(client, session):
    await register(session, "H-1", [1])
    headers = await staff_headers(session)
    response = await client.post(
        CASES,
        json={
            "household_id": "H-1",
            "source": "self_report",
            "found_on": "2026-11-24",
            "description": "x",
        },
        headers=headers,
    )
    assert response.status_code == 422
    [(count,)] = (await session.execute(text("SELECT count(*) FROM cases"))).all()
    assert count == 0


async def test_deadline_crosses_a_month_end_in_the_deployment_time_zone(client, session):
    await register(session, "H-1", [1])
    # 2026-11-30 17:00 UTC is already 1 December in Asia/Shanghai.
    with clock.frozen_at(datetime(2026, 11, 30, 17, 0, tzinfo=UTC)):
        case = await open_case(client, session, "H-1", found_on=date(2026, 12, 1))
    assert case["deadline"] == "2026-12-16"


async def test_case_outside_the_callers_scope_is_404(client, session):
    await register(session, "H-1", [1])
    await register(session, "H-2", [3], region=OTHER_TOWN_VILLAGE)
    case = await open_case(client, session, "H-2")
    township = await staff_headers(session, "township_staff", TOWN)
    response = await client.get(f"{CASES}/{case['case_id']}", headers=township)
    assert response.status_code == 404
    county = await staff_headers(session)
    assert (await client.get(f"{CASES}/{case['case_id']}", headers=county)).status_code == 200


async def test_household_outside_scope_cannot_get_a_case(client, session):
    await register(session, "H-2", [3], region=OTHER_TOWN_VILLAGE)
    township = await staff_headers(session, "township_staff", TOWN)
    response = await client.post(
        CASES,
        json={
            "household_id": "H-2",
            "source": "self_report",
            "found_on": "2026-11-22",
            "description": "x",
        },
        headers=township,
    )
    assert response.status_code == 404
