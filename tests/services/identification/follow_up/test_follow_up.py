"""`GET /identification/v1/follow_up` (跟踪关注): households whose latest case
was decided not_included or not_eligible within the window (180 days), with no
open case; each rule with a household just in and one just out."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.warning_ingest.ingest_helpers import staff_headers

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
FOLLOW_UP = "/identification/v1/follow_up"
VILLAGE, OTHER_VILLAGE = "610326100201", "610326101201"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def household(session, name: str, region: str = VILLAGE) -> None:
    await session.execute(
        text(
            "INSERT INTO households (county_code, household_id, region_code, category, head_name)"
            " VALUES ('610326', :name, :region, 'general', '户主')"
        ),
        {"name": name, "region": region},
    )


async def case(
    session, name: str, opened: str, outcome: str | None, decided: str | None = None
) -> uuid.UUID:
    case_id = uuid.uuid4()
    opened_on = date.fromisoformat(opened)
    await session.execute(
        text(
            "INSERT INTO cases (case_id, county_code, household_id, region_code, source,"
            " opened_on, deadline, state, outcome, decided_on, opened_by)"
            " SELECT :id, '610326', h.household_id, h.region_code, 'cadre_screening',"
            " CAST(:opened AS date),"
            " CAST(:opened AS date) + 15, :state, :outcome, :decided, 'test'"
            " FROM households h WHERE h.household_id = CAST(:name AS text)"
        ),
        {
            "id": case_id,
            "name": name,
            "opened": opened_on,
            "state": "open" if outcome is None else "decided",
            "outcome": outcome,
            "decided": date.fromisoformat(decided) if decided else None,
        },
    )
    return case_id


async def visit_step(session, case_id: uuid.UUID, day: str) -> None:
    await session.execute(
        text(
            "INSERT INTO case_steps (case_id, county_code, step, done_on, actor, recorded_at,"
            " form) VALUES (:id, '610326', 'household_visit', :day, 'test', now(), '{}')"
        ),
        {"id": case_id, "day": date.fromisoformat(day)},
    )


async def monthly_visit(session, name: str, day: str) -> None:
    await session.execute(
        text(
            "INSERT INTO household_visits (visit_id, county_code, household_id, region_code,"
            " visited_on, new_risk, actor, recorded_at) VALUES (:id, '610326', :name,"
            " :region, :day, false, 'test', now())"
        ),
        {"id": uuid.uuid4(), "name": name, "region": VILLAGE, "day": date.fromisoformat(day)},
    )


async def world(session) -> dict[str, uuid.UUID]:
    ids = {}
    for name in (
        "not-included",
        "not-eligible-180-days",
        "not-eligible-181-days",
        "included",
        "then-included",
        "included-then-not",
        "open-case-now",
        "monitored",
    ):
        await household(session, name)
    await household(session, "elsewhere", OTHER_VILLAGE)
    ids["not-included"] = await case(
        session, "not-included", "2026-10-20", "not_included", "2026-11-01"
    )
    ids["not-eligible-180-days"] = await case(
        session, "not-eligible-180-days", "2026-05-20", "not_eligible", "2026-05-27"
    )
    await case(session, "not-eligible-181-days", "2026-05-20", "not_eligible", "2026-05-26")
    await case(session, "included", "2026-08-01", "included", "2026-08-10")
    await case(session, "then-included", "2026-07-01", "not_included", "2026-08-01")
    await case(session, "then-included", "2026-09-20", "included", "2026-10-01")
    await case(session, "included-then-not", "2026-01-01", "included", "2026-01-10")
    ids["included-then-not"] = await case(
        session, "included-then-not", "2026-08-20", "not_included", "2026-09-01"
    )
    await case(session, "open-case-now", "2026-07-20", "not_included", "2026-08-01")
    await case(session, "open-case-now", "2026-11-10", None)
    await case(session, "monitored", "2026-07-20", "not_included", "2026-08-01")
    await session.execute(
        text(
            "INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,"
            " monitoring_type, risk_types, status, included_on, case_id) VALUES"
            " (gen_random_uuid(), '610326', 'monitored', :v, 'marginal', ARRAY['illness'],"
            " 'risk_not_eliminated', '2025-01-01', gen_random_uuid())"
        ),
        {"v": VILLAGE},
    )
    ids["elsewhere"] = await case(session, "elsewhere", "2026-09-01", "not_eligible", "2026-09-03")
    return ids


async def _read_all(client, headers, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        query = params | {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await client.get(FOLLOW_UP, params=query, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items


async def test_the_list_holds_the_households_still_followed_latest_decision_first(client, session):
    ids = await world(session)
    headers = await staff_headers(session)
    items = await _read_all(client, headers)
    assert [i["household_id"] for i in items] == [
        "not-included",  # 11-01
        "elsewhere",  # 09-03
        "included-then-not",  # 09-01
        "not-eligible-180-days",  # 05-27
    ]
    assert items[0] == {
        "household_id": "not-included",
        "region_code": VILLAGE,
        "case_id": str(ids["not-included"]),
        "outcome": "not_included",
        "decided_on": "2026-11-01",
        "last_visit_on": None,
    }


async def test_last_visit_is_the_latest_case_visit_or_monthly_visit(client, session):
    ids = await world(session)
    await visit_step(session, ids["not-included"], "2026-10-25")
    headers = await staff_headers(session)
    [first, *_] = await _read_all(client, headers)
    assert first["last_visit_on"] == "2026-10-25"
    await monthly_visit(session, "not-included", "2026-11-20")
    [first, *_] = await _read_all(client, headers)
    assert first["last_visit_on"] == "2026-11-20"


async def test_region_narrows_and_scope_hides(client, session):
    await world(session)
    county = await staff_headers(session)
    assert [i["household_id"] for i in await _read_all(client, county, region=OTHER_VILLAGE)] == [
        "elsewhere"
    ]
    village = await staff_headers(session, "village_staff", VILLAGE)
    assert "elsewhere" not in [i["household_id"] for i in await _read_all(client, village)]
    outside = await client.get(FOLLOW_UP, params={"region": OTHER_VILLAGE}, headers=village)
    assert outside.status_code == 404


async def test_an_assessment_counts_as_a_visit(client, session):
    """API.md: a routine or look-back assessment counts as a visit too (the one
    rule of shared/visits.py), e.g. of an earlier object of the household."""
    ids = await world(session)
    await monthly_visit(session, "not-included", "2026-11-10")
    await session.execute(
        text(
            "INSERT INTO assessments (assessment_id, county_code, object_id, household_id,"
            " assessed_on, kind, income_per_capita_yuan, rigid_expenditure_yuan,"
            " housing_secure, education_secure, medical_secure, drinking_water_secure,"
            " actor, recorded_at) VALUES (:id, '610326', :o, 'not-included', :day, 'look_back',"
            " 9000, 0, true, true, true, true, 'test', now())"
        ),
        {"id": uuid.uuid4(), "o": uuid.uuid4(), "day": date(2026, 11, 18)},
    )
    [first, *_] = await _read_all(client, await staff_headers(session))
    assert (first["case_id"], first["last_visit_on"]) == (str(ids["not-included"]), "2026-11-18")
