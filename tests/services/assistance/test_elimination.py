"""Risk elimination (风险消除): every criterion, the safety-net flag, rollback."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from services.assistance import objects_routes
from services.assistance.elimination import unmet_criteria
from shared import clock
from shared.policy import get_policy
from tests.services.assistance.assist_helpers import (
    MEASURES,
    add_object,
    register,
    staff_headers,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
OBJECTS = "/assistance/v1/monitoring_objects"
# Above the 2022 line (6900, in force for later years), 214 days apart.
STABLE = [("2026-03-01", 7000), ("2026-10-01", 8000)]


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _assess(client, headers, object_id, day, income, **overrides):
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


async def _measure(client, headers, object_id, status: str) -> None:
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


async def _prepared(
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
        await _assess(client, headers, object_id, day, income, **extra)
    if measure is not None:
        await _measure(client, headers, object_id, measure)
    return object_id


async def _eliminate(client, headers, object_id, decided_on="2026-11-23"):
    return await client.post(
        f"{OBJECTS}/{object_id}/elimination", json={"decided_on": decided_on}, headers=headers
    )


def _codes(response) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["code"] for e in response.json()["errors"]]


async def _events(session, event_type: str) -> list:
    return (
        await session.execute(
            text("SELECT aggregate_id, payload FROM events WHERE type = :t ORDER BY id"),
            {"t": event_type},
        )
    ).all()


async def _audits(session, action: str) -> int:
    return await session.scalar(
        text("SELECT count(*) FROM audit_log WHERE action = :a"), {"a": action}
    )


async def test_object_meeting_every_criterion_is_eliminated_audited_and_announced(client, session):
    headers = await staff_headers(session)
    object_id = await _prepared(client, session, headers)
    response = await _eliminate(client, headers, object_id)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["eliminated_on"]) == ("risk_eliminated", "2026-11-23")
    assert body["rolled_back_on"] is None
    [(aggregate_id, payload)] = await _events(session, "risk.eliminated")
    assert aggregate_id == str(object_id)
    assert payload == {
        "object_id": str(object_id),
        "household_id": "H-1",
        "county_code": "610326",
        "decided_on": "2026-11-23",
    }
    assert await _audits(session, "risk.eliminated") == 1


async def test_a_completed_measure_counts_as_a_measure(client, session):
    headers = await staff_headers(session)
    object_id = await _prepared(client, session, headers, measure="completed")
    assert (await _eliminate(client, headers, object_id)).status_code == 200


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
    object_id = await _prepared(client, session, headers, **setup)
    response = await _eliminate(client, headers, object_id)
    assert _codes(response) == [code]
    assert response.json()["type"].endswith("elimination_criteria_unmet")
    obj = (await client.get(f"{OBJECTS}/{object_id}", headers=headers)).json()
    assert (obj["status"], obj["eliminated_on"]) == ("risk_not_eliminated", None)
    assert await _events(session, "risk.eliminated") == []


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
    object_id = await _prepared(client, session, headers)
    response = await _eliminate(client, headers, object_id)
    assert _codes(response) == ["monitoring_too_short"]
    assert response.json()["errors"][0]["field"] == "decided_on"


def test_monitoring_too_short_is_counted_from_inclusion_to_the_decision():
    assessments = [
        {
            "assessed_on": date(2026, 1, 1) if i == 0 else date(2026, 7, 1),
            "income_per_capita_yuan": Decimal(8000),
            "housing_secure": True,
            "education_secure": True,
            "medical_secure": True,
            "drinking_water_secure": True,
        }
        for i in range(2)
    ]

    def codes(included_on: date) -> list[str]:
        errors = unmet_criteria(
            obj={"included_on": included_on, "whole_household_no_labour": False},
            assessments=assessments,
            measure_statuses=["in_progress"],
            policy=get_policy(),
            decided_on=date(2026, 7, 1),
        )
        return [e.code for e in errors]

    assert codes(date(2026, 1, 2)) == []  # exactly 180 days
    assert codes(date(2026, 1, 3)) == ["monitoring_too_short"]  # 179 days


async def test_whole_household_no_labour_stays_monitored(client, session):
    headers = await staff_headers(session)
    object_id = await _prepared(client, session, headers)
    flagged = await client.put(
        f"{OBJECTS}/{object_id}/flags", json={"whole_household_no_labour": True}, headers=headers
    )
    assert flagged.status_code == 200, flagged.text
    assert flagged.json()["whole_household_no_labour"] is True
    assert _codes(await _eliminate(client, headers, object_id)) == ["whole_household_no_labour"]


async def test_every_unmet_criterion_is_listed_together(client, session):
    headers = await staff_headers(session)
    object_id = await _prepared(
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
    assert _codes(await _eliminate(client, headers, object_id)) == [
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
    object_id = await _prepared(client, session, headers)
    # On 2026-09-15 the latest assessment was 2026-03-01, with none before it.
    assert _codes(await _eliminate(client, headers, object_id, "2026-09-15")) == [
        "income_not_stable"
    ]


async def test_the_line_of_each_assessments_year_decides(client, session, monkeypatch):
    policy = get_policy()
    figures = policy.years[2022].model_copy(update={"monitoring_line_yuan": Decimal(8500)})
    with_2026 = policy.model_copy(update={"years": {**policy.years, 2026: figures}})
    monkeypatch.setattr(objects_routes, "get_policy", lambda: with_2026)
    headers = await staff_headers(session)
    object_id = await _prepared(
        client,
        session,
        headers,
        included_on=date(2025, 3, 1),
        # 7000 in 2025 is above 2022's 6900; 8000 in 2026 is below 2026's 8500.
        incomes=[("2025-09-01", 7000), ("2026-10-01", 8000)],
    )
    assert _codes(await _eliminate(client, headers, object_id)) == ["income_below_line"]


async def test_decision_in_the_future_is_422(client, session):
    headers = await staff_headers(session)
    object_id = await _prepared(client, session, headers)
    response = await _eliminate(client, headers, object_id, "2026-11-24")
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "decided_on",
        "code": "invalid_date",
        "message": "decided_on is in the future",
    }


async def test_eliminated_or_removed_object_cannot_be_eliminated_again(client, session):
    headers = await staff_headers(session)
    object_id = await _prepared(client, session, headers)
    assert (await _eliminate(client, headers, object_id)).status_code == 200
    again = await _eliminate(client, headers, object_id)
    assert again.status_code == 409
    await register(session, "H-2", [2])
    removed = await add_object(session, "H-2", status="removed")
    assert (await _eliminate(client, headers, removed)).status_code == 409


async def test_rollback_then_re_elimination(client, session):
    headers = await staff_headers(session)
    object_id = await _prepared(client, session, headers)
    assert (await _eliminate(client, headers, object_id, "2026-10-15")).status_code == 200
    rolled = await client.post(
        f"{OBJECTS}/{object_id}/rollback", json={"reason": "收入骤降"}, headers=headers
    )
    assert rolled.status_code == 200, rolled.text
    body = rolled.json()
    assert body["status"] == "risk_not_eliminated"
    assert (body["eliminated_on"], body["rolled_back_on"]) == (None, "2026-11-23")
    assert body["rollback_reason"] == "收入骤降"
    [(_, payload)] = await _events(session, "risk.rolled_back")
    assert payload == {
        "object_id": str(object_id),
        "household_id": "H-1",
        "county_code": "610326",
        "rolled_back_on": "2026-11-23",
    }
    assert await _audits(session, "risk.rolled_back") == 1
    # A decision dated before the rollback is refused; a later one is judged anew.
    early = await _eliminate(client, headers, object_id, "2026-11-01")
    assert early.json()["errors"][0]["code"] == "invalid_date"
    await _assess(client, headers, object_id, "2026-11-23", 7200)
    again = await _eliminate(client, headers, object_id, "2026-11-23")
    assert again.status_code == 200, again.text
    assert (again.json()["eliminated_on"], again.json()["rolled_back_on"]) == (
        "2026-11-23",
        "2026-11-23",
    )
    assert len(await _events(session, "risk.eliminated")) == 2


async def test_rollback_of_an_object_not_eliminated_is_409(client, session):
    headers = await staff_headers(session)
    object_id = await _prepared(client, session, headers)
    response = await client.post(
        f"{OBJECTS}/{object_id}/rollback", json={"reason": "x"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("not_eliminated")


async def test_rollback_is_409_while_the_household_has_another_open_object(client, session):
    headers = await staff_headers(session)
    object_id = await _prepared(client, session, headers)
    assert (await _eliminate(client, headers, object_id)).status_code == 200
    await add_object(session, "H-1", included_on=date(2026, 11, 20))
    response = await client.post(
        f"{OBJECTS}/{object_id}/rollback", json={"reason": "x"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("household_already_monitored")
    obj = (await client.get(f"{OBJECTS}/{object_id}", headers=headers)).json()
    assert obj["status"] == "risk_eliminated"
    assert await _events(session, "risk.rolled_back") == []


async def test_village_staff_cannot_eliminate_or_roll_back(client, session):
    county = await staff_headers(session)
    object_id = await _prepared(client, session, county)
    village = await staff_headers(session, "village_staff", "610326100201")
    assert (await _eliminate(client, village, object_id)).status_code == 403
    rollback = await client.post(
        f"{OBJECTS}/{object_id}/rollback", json={"reason": "x"}, headers=village
    )
    assert rollback.status_code == 403


async def test_township_staff_cannot_set_flags(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    township = await staff_headers(session, "township_staff", "610326100000")
    response = await client.put(
        f"{OBJECTS}/{object_id}/flags", json={"whole_household_no_labour": True}, headers=township
    )
    assert response.status_code == 403


async def test_object_outside_the_county_is_404(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    other = await staff_headers(session, "county_staff", "610327000000")
    assert (await _eliminate(client, other, object_id)).status_code == 404
    flags = await client.put(
        f"{OBJECTS}/{object_id}/flags", json={"whole_household_no_labour": True}, headers=other
    )
    assert flags.status_code == 404
    assert (await client.get(f"{OBJECTS}/{object_id}", headers=other)).status_code == 404


async def test_flag_change_is_audited_and_announced_once(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    for _ in range(2):
        response = await client.put(
            f"{OBJECTS}/{object_id}/flags",
            json={"whole_household_no_labour": True},
            headers=headers,
        )
        assert response.status_code == 200
    [(_, payload)] = await _events(session, "monitoring_object.flags_changed")
    assert payload == {"object_id": str(object_id), "whole_household_no_labour": True}
    assert await _audits(session, "monitoring_object.flags_changed") == 1
    cleared = await client.put(
        f"{OBJECTS}/{object_id}/flags", json={"whole_household_no_labour": False}, headers=headers
    )
    assert cleared.json()["whole_household_no_labour"] is False
    assert len(await _events(session, "monitoring_object.flags_changed")) == 2


async def test_removed_objects_flags_are_409(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1", status="removed")
    headers = await staff_headers(session)
    response = await client.put(
        f"{OBJECTS}/{object_id}/flags", json={"whole_household_no_labour": True}, headers=headers
    )
    assert response.status_code == 409
