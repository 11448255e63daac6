"""From a department's pushed warning to an included monitoring object, and
back again after its risk was eliminated (重新识别)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from services.identification.cases.opening import open_cases_for_warnings
from shared import clock
from shared.events import EventRecord
from tests.services.identification.id_helpers import (
    CASES,
    TOWN,
    VILLAGE,
    department_headers,
    register,
    staff_headers,
)
from tests.services.identification.steps.step_helpers import NOW, through
from tests.services.warning_ingest.ingest_helpers import BATCHES, record

PUSHED_AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


async def _accepted_events(session, after_id: int = 0) -> list[EventRecord]:
    rows = await session.execute(
        text(
            "SELECT id, xid, county_code, type, aggregate_type, aggregate_id, actor,"
            " occurred_at, payload FROM events WHERE type = 'warning.accepted' AND id > :after"
            " ORDER BY id"
        ),
        {"after": after_id},
    )
    return [EventRecord(**row._mapping) for row in rows]


async def _push_and_open(client, session, seq: int, source_record_id: str) -> dict:
    headers = await department_headers(session, "health")
    before = await session.scalar(text("SELECT coalesce(max(id), 0) FROM events"))
    body = {"records": [record(seq, "serious_illness", source_record_id=source_record_id)]}
    receipt = (await client.post(BATCHES, json=body, headers=headers)).json()
    assert receipt["accepted"] == 1, receipt
    events = await _accepted_events(session, before)
    assert len(events) == 1
    await open_cases_for_warnings(session, events, decision_days=15, actor="test")
    county = await staff_headers(session)
    page = (await client.get(CASES, params={"state": "open"}, headers=county)).json()
    [case] = page["items"]
    assert case["warning_ids"] == [receipt["records"][0]["warning_id"]]
    return case


async def _staff(session) -> dict[str, dict[str, str]]:
    return {
        "village": await staff_headers(session, "village_staff", VILLAGE),
        "township": await staff_headers(session, "township_staff", TOWN),
        "county": await staff_headers(session, "county_staff"),
    }


# The steps of a second case opened on 21 November, dated to fit it.
SECOND_CASE_STEPS = {
    "household_visit": {"visited_on": "2026-11-22"},
    "village_review": {
        "reviewed_on": "2026-11-23",
        "notice_start": "2026-11-24",
        "notice_end": "2026-11-28",
    },
    "township_review": {"reviewed_on": "2026-11-25"},
    "county_approval": {"approved_on": "2026-11-30"},
}


async def _second_case_steps(
    client, session, case: dict, *through_steps: str
) -> dict[str, dict[str, str]]:
    """Record the visit and both reviews of `case` (and `through_steps`); return the staff."""
    from tests.services.identification.steps import step_helpers

    staff = await _staff(session)
    wanted = ("household_visit", "village_review", "township_review", *through_steps)
    for step in wanted:
        body = step_helpers.BODIES[step](**SECOND_CASE_STEPS[step])
        response = await step_helpers.post_step(
            client, case, step, staff[step_helpers.ROLES[step]], body
        )
        assert response.status_code == 200, response.text
    return staff


async def test_pushed_warning_ends_as_an_included_monitoring_object(client, session):
    await register(session, "H-1", [1])
    with clock.frozen_at(PUSHED_AT):
        case = await _push_and_open(client, session, 1, "S-1")
    assert (case["opened_on"], case["deadline"], case["source"]) == (
        "2026-11-10",
        "2026-11-25",
        "department_warning",
    )
    with clock.frozen_at(NOW):
        staff = await _staff(session)
        decided = await through(
            client,
            case,
            staff,
            "household_visit",
            "village_review",
            "township_review",
            "county_approval",
        )
    assert decided["decision"]["outcome"] == "included"
    [(status, included_on)] = (
        await session.execute(
            text(
                "SELECT status, included_on::text FROM monitoring_objects"
                " WHERE household_id = 'H-1'"
            )
        )
    ).all()
    assert (status, included_on) == ("risk_not_eliminated", "2026-11-18")
    types = [
        t
        for (t,) in await session.execute(
            text(
                "SELECT type FROM events"
                " WHERE aggregate_type IN ('case', 'monitoring_object') ORDER BY id"
            )
        )
    ]
    assert types[0] == "case.opened"
    assert "case.decided" in types and "monitoring_object.included" in types


async def test_household_whose_risk_returns_after_elimination_is_identified_again(client, session):
    await register(session, "H-1", [1])
    with clock.frozen_at(PUSHED_AT):
        first = await _push_and_open(client, session, 1, "S-1")
    with clock.frozen_at(NOW):
        staff = await _staff(session)
        await through(
            client,
            first,
            staff,
            "household_visit",
            "village_review",
            "township_review",
            "county_approval",
        )
    await session.execute(
        text(
            "UPDATE monitoring_objects SET status = 'risk_eliminated', eliminated_on = '2026-11-20'"
            " WHERE household_id = 'H-1'"
        )
    )
    # A new clue for the eliminated household opens a new case (重新识别) ...
    with clock.frozen_at(datetime(2026, 11, 21, 2, 0, tzinfo=UTC)):
        second = await _push_and_open(client, session, 1, "S-2")
    assert second["case_id"] != first["case_id"]
    # ... whose decision can include the household again.
    with clock.frozen_at(datetime(2026, 12, 3, 2, 0, tzinfo=UTC)):
        await _second_case_steps(client, session, second, "county_approval")
    objects = (
        await session.execute(
            text(
                "SELECT status, included_on::text FROM monitoring_objects"
                " WHERE household_id = 'H-1' ORDER BY included_on"
            )
        )
    ).all()
    assert objects == [("risk_eliminated", "2026-11-18"), ("risk_not_eliminated", "2026-11-30")]


async def test_warning_for_a_monitored_household_is_decided_as_a_risk_update(client, session):
    from tests.services.identification.steps import step_helpers

    await register(session, "H-1", [1])
    with clock.frozen_at(PUSHED_AT):
        first = await _push_and_open(client, session, 1, "S-1")
    with clock.frozen_at(NOW):
        staff = await _staff(session)
        await through(
            client,
            first,
            staff,
            "household_visit",
            "village_review",
            "township_review",
            "county_approval",
        )
    with clock.frozen_at(datetime(2026, 11, 21, 2, 0, tzinfo=UTC)):
        second = await _push_and_open(client, session, 1, "S-2")
    with clock.frozen_at(datetime(2026, 12, 3, 2, 0, tzinfo=UTC)):
        staff = await _second_case_steps(client, session, second)
        approval = step_helpers.county_body(approved_on="2026-11-30")
        refused = await step_helpers.post_step(
            client, second, "county_approval", staff["county"], approval
        )
        assert refused.status_code == 422
        updated = await step_helpers.post_step(
            client,
            second,
            "county_approval",
            staff["county"],
            {**approval, "outcome": "risk_updated", "risk_types": ["illness", "lack_of_funds"]},
        )
        assert updated.status_code == 200, updated.text
    [(status, risk_types)] = (
        await session.execute(
            text("SELECT status, risk_types FROM monitoring_objects WHERE household_id = 'H-1'")
        )
    ).all()
    assert status == "risk_not_eliminated"
    assert sorted(risk_types) == ["illness", "lack_of_funds"]
