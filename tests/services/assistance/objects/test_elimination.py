"""Risk elimination (风险消除): every criterion, the safety-net flag."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from services.assistance.objects import routes as objects_routes
from services.assistance.objects.elimination import get_object, unmet_criteria
from shared import clock
from shared.policy import get_policy
from tests.services.assistance.assist_helpers import (
    add_object,
    register,
    staff_headers,
)
from tests.services.assistance.objects.elimination_helpers import (
    NOW,
    OBJECTS,
    audit_count,
    eliminate,
    error_codes,
    events_of,
    prepared,
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def test_object_meeting_every_criterion_is_eliminated_audited_and_announced(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    response = await eliminate(client, headers, object_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["eliminated_on"]) == ("risk_eliminated", "2026-11-23")
    assert body["rolled_back_on"] is None
    [(aggregate_id, payload)] = await events_of(session, "risk.eliminated")
    assert aggregate_id == str(object_id)
    assert payload == {
        "object_id": str(object_id),
        "household_id": "H-1",
        "county_code": "610326",
        "decided_on": "2026-11-23",
        "natural": False,
    }
    assert await audit_count(session, "risk.eliminated") == 1


async def test_a_completed_measure_counts_as_a_measure(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers, measure="completed")
    assert (await eliminate(client, headers, object_id)).status_code == 200


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"incomes": []}, "no_assessment"),
        ({"incomes": [("2026-03-01", 7000), ("2026-10-01", 6900)]}, "income_below_line"),
        # The earlier assessment above the line is only 122 days before the latest.
        ({"incomes": [("2026-06-01", 7000), ("2026-10-01", 8000)]}, "income_not_stable"),
        # One below the line in between breaks the run.
        (
            {"incomes": [("2026-03-01", 7000), ("2026-06-01", 6000), ("2026-10-01", 8000)]},
            "income_not_stable",
        ),
        ({"latest": {"housing_secure": False}}, "three_guarantees_not_secure"),
        ({"latest": {"education_secure": False}}, "three_guarantees_not_secure"),
        ({"latest": {"medical_secure": False}}, "three_guarantees_not_secure"),
        ({"latest": {"drinking_water_secure": False}}, "drinking_water_not_secure"),
        ({"measure": None}, "no_measure"),
        ({"measure": "planned"}, "no_measure"),
    ],
)
async def test_each_unmet_criterion_alone_refuses_elimination(client, session, setup, code):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers, **setup)
    response = await eliminate(client, headers, object_id)
    assert error_codes(response) == [code]
    assert response.json()["type"].endswith("elimination_criteria_unmet")
    obj = (await client.get(f"{OBJECTS}/{object_id}", headers=headers)).json()
    assert (obj["status"], obj["eliminated_on"]) == ("risk_not_eliminated", None)
    assert await events_of(session, "risk.eliminated") == []


async def test_monitoring_too_short_alone_refuses_elimination(client, session, monkeypatch):
    # Assessments lie after inclusion and stability needs 180 days, so with the
    # default policy a short monitoring also fails stability; a policy asking
    # a year of monitoring isolates the rule (322 days here).
    policy = get_policy()
    longer = policy.model_copy(
        update={"assistance": policy.assistance.model_copy(update={"min_monitoring_days": 365})}
    )
    monkeypatch.setattr(objects_routes, "get_policy", lambda: longer)
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    response = await eliminate(client, headers, object_id)
    assert error_codes(response) == ["monitoring_too_short"]
    assert response.json()["errors"][0]["field"] == "decided_on"


async def test_monitoring_too_short_is_counted_from_inclusion_to_the_decision(client, session):
    headers = await staff_headers(session)
    # 180 days from 5 January to 4 July, and between the two assessments.
    object_id = await prepared(
        client, session, headers, incomes=[("2026-01-05", 7000), ("2026-07-04", 8000)]
    )

    async def codes(included_on: date) -> list[str]:
        await session.execute(
            text("UPDATE monitoring_objects SET included_on = :on WHERE object_id = :id"),
            {"on": included_on, "id": object_id},
        )
        obj = await get_object(session, object_id=object_id)
        assert obj is not None
        errors = await unmet_criteria(
            session, obj=obj, policy=get_policy(), decided_on=date(2026, 7, 4)
        )
        return [e.code for e in errors]

    assert await codes(date(2026, 1, 5)) == []  # exactly 180 days
    assert await codes(date(2026, 1, 6)) == ["monitoring_too_short"]  # 179 days


async def test_whole_household_no_labour_stays_monitored(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    flagged = await client.put(
        f"{OBJECTS}/{object_id}/flags", json={"whole_household_no_labour": True}, headers=headers
    )
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["whole_household_no_labour"] is True
    assert error_codes(await eliminate(client, headers, object_id)) == ["whole_household_no_labour"]


async def test_every_unmet_criterion_is_listed_together(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(
        client,
        session,
        headers,
        included_on=date(2026, 9, 1),
        incomes=[("2026-10-01", 5000)],
        latest={"drinking_water_secure": False, "medical_secure": False},
        measure=None,
    )
    await client.put(
        f"{OBJECTS}/{object_id}/flags", json={"whole_household_no_labour": True}, headers=headers
    )
    assert error_codes(await eliminate(client, headers, object_id)) == [
        "income_below_line",
        "income_not_stable",
        "three_guarantees_not_secure",
        "drinking_water_not_secure",
        "no_measure",
        "monitoring_too_short",
        "whole_household_no_labour",
    ]


async def test_assessments_after_the_decision_date_do_not_count(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    # On 2026-09-15 the latest assessment was 2026-03-01, with none before it.
    assert error_codes(await eliminate(client, headers, object_id, "2026-09-15")) == [
        "income_not_stable"
    ]


async def test_the_line_of_each_assessments_year_decides(client, session, monkeypatch):
    policy = get_policy()
    figures = policy.years[2022].model_copy(update={"monitoring_line_yuan": Decimal(8500)})
    with_2026 = policy.model_copy(update={"years": {**policy.years, 2026: figures}})
    monkeypatch.setattr(objects_routes, "get_policy", lambda: with_2026)
    headers = await staff_headers(session)
    object_id = await prepared(
        client,
        session,
        headers,
        included_on=date(2025, 3, 1),
        # 7000 in 2025 is above 2022's 6900; 8000 in 2026 is below 2026's 8500.
        incomes=[("2025-09-01", 7000), ("2026-10-01", 8000)],
    )
    assert error_codes(await eliminate(client, headers, object_id)) == ["income_below_line"]


async def test_decision_in_the_future_is_422(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    response = await eliminate(client, headers, object_id, "2026-11-24")
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "decided_on",
        "code": "invalid_date",
        "message": "decided_on is in the future",
    }


async def test_eliminated_or_removed_object_cannot_be_eliminated_again(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    assert (await eliminate(client, headers, object_id)).status_code == 200
    again = await eliminate(client, headers, object_id)
    assert again.status_code == 409
    await register(session, "H-2", [2])
    removed = await add_object(session, "H-2", status="removed")
    assert (await eliminate(client, headers, removed)).status_code == 409
