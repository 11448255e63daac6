"""Measures: planning, forward-only moves, lists, the development flag."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.assistance.assist_helpers import (
    MEASURES,
    add_object,
    register,
    staff_headers,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _plan(client, headers, **body):
    return await client.post(MEASURES, json={"planned_on": "2026-11-01", **body}, headers=headers)


async def _development_flag(session, object_id) -> bool:
    return bool(
        await session.scalar(
            text("SELECT development_assistance FROM monitoring_objects WHERE object_id = :id"),
            {"id": object_id},
        )
    )


async def test_planned_development_measure_sets_the_objects_flag(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    response = await _plan(client, headers, object_id=str(object_id), category="industry")
    assert response.status_code == 201, response.text
    measure = response.json()
    assert (measure["status"], measure["development"]) == ("planned", True)
    assert measure["responsible_department"] == "agriculture"
    assert await _development_flag(session, object_id)
    events = (
        await session.execute(text("SELECT type FROM events WHERE aggregate_type = 'measure'"))
    ).all()
    assert events == [("measure.planned",)]


async def test_safety_net_measure_alone_is_not_development(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    response = await _plan(client, headers, object_id=str(object_id), category="dibao")
    assert response.json()["development"] is False
    assert not await _development_flag(session, object_id)


async def test_measure_moves_forward_with_its_dates_and_never_back(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    measure = (await _plan(client, headers, object_id=str(object_id), category="employment")).json()
    url = f"{MEASURES}/{measure['measure_id']}"
    started = await client.patch(
        url, json={"status": "in_progress", "started_on": "2026-11-05"}, headers=headers
    )
    assert started.status_code == 200
    assert started.json()["started_on"] == "2026-11-05"
    done = await client.patch(url, json={"status": "completed"}, headers=headers)
    assert done.json()["completed_on"] == "2026-11-23"
    back = await client.patch(url, json={"status": "in_progress"}, headers=headers)
    assert back.status_code == 409
    assert back.json()["type"].endswith("backward_move")
    cancel = await client.patch(url, json={"status": "cancelled"}, headers=headers)
    assert cancel.status_code == 409


async def test_moving_to_the_same_status_again_is_409(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    measure = (await _plan(client, headers, object_id=str(object_id), category="employment")).json()
    url = f"{MEASURES}/{measure['measure_id']}"
    assert (await client.patch(url, json={"status": "planned"}, headers=headers)).status_code == 409


async def test_cancelling_the_only_development_measure_clears_the_flag(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    measure = (await _plan(client, headers, object_id=str(object_id), category="industry")).json()
    response = await client.patch(
        f"{MEASURES}/{measure['measure_id']}", json={"status": "cancelled"}, headers=headers
    )
    assert response.status_code == 200
    assert not await _development_flag(session, object_id)


async def test_anti_poverty_insurance_only_for_monitoring_objects(client, session):
    await register(session, "H-1", [1])
    case_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO cases (case_id, county_code, household_id, region_code, source,"
            " opened_on, deadline, state, green_channel, opened_by) VALUES (:id, '610326',"
            " 'H-1', '610326100201', 'self_report', '2026-11-20', '2026-12-05', 'open', true,"
            " 'test')"
        ),
        {"id": case_id},
    )
    headers = await staff_headers(session)
    refused = await _plan(client, headers, case_id=str(case_id), category="anti_poverty_insurance")
    assert refused.status_code == 422
    allowed = await _plan(client, headers, case_id=str(case_id), category="medical_assistance")
    assert allowed.status_code == 201
    assert allowed.json()["object_id"] is None


async def test_case_outside_the_green_channel_takes_no_measures(client, session):
    await register(session, "H-1", [1])
    case_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO cases (case_id, county_code, household_id, region_code, source,"
            " opened_on, deadline, state, opened_by) VALUES (:id, '610326', 'H-1',"
            " '610326100201', 'self_report', '2026-11-20', '2026-12-05', 'open', 'test')"
        ),
        {"id": case_id},
    )
    headers = await staff_headers(session)
    response = await _plan(client, headers, case_id=str(case_id), category="industry")
    assert response.status_code == 409


async def test_object_and_case_together_or_neither_is_422(client, session):
    headers = await staff_headers(session)
    response = await _plan(client, headers, category="industry")
    assert response.status_code == 422


async def test_unknown_category_is_422(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    response = await _plan(client, headers, object_id=str(object_id), category="lottery")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid_code"


async def test_measures_outside_scope_are_hidden(client, session):
    await register(session, "H-1", [1])
    await register(session, "H-2", [3], region="610326101201")
    mine = await add_object(session, "H-1")
    theirs = await add_object(session, "H-2", region="610326101201")
    county = await staff_headers(session)
    await _plan(client, county, object_id=str(mine), category="industry")
    other = (await _plan(client, county, object_id=str(theirs), category="industry")).json()
    township = await staff_headers(session, "township_staff", "610326100000")
    listed = (await client.get(MEASURES, headers=township)).json()
    assert [m["object_id"] for m in listed["items"]] == [str(mine)]
    hidden = await client.get(f"{MEASURES}/{other['measure_id']}", headers=township)
    assert hidden.status_code == 404
    planned = await _plan(client, township, object_id=str(theirs), category="industry")
    assert planned.status_code == 404


async def test_measure_list_pages_by_keyset(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    for day in range(1, 6):
        await _plan(
            client, headers, object_id=str(object_id), category="dibao",
            planned_on=f"2026-11-0{day}",
        )  # fmt: skip
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(MEASURES, params=params, headers=headers)).json()
        seen += [m["planned_on"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"2026-11-0{d}" for d in range(5, 0, -1)]


async def test_catalog_lists_every_category_with_its_label(client, session):
    headers = await staff_headers(session)
    catalog = (await client.get("/assistance/v1/catalog", headers=headers)).json()
    codes = {c["code"]: c for c in catalog["measure_categories"]}
    assert codes["anti_poverty_insurance"]["label"] == "防贫保"
    assert codes["industry"]["development"] is True
    assert codes["dibao"]["development"] is False
    assert len(codes) == 14


async def test_green_channel_measures_join_the_object_the_decision_creates(client, session):
    from services.assistance.measures.lifecycle import CASE_MEASURES
    from shared.events import EventRecord

    await register(session, "H-1", [1])
    case_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO cases (case_id, county_code, household_id, region_code, source,"
            " opened_on, deadline, state, green_channel, opened_by) VALUES (:id, '610326',"
            " 'H-1', '610326100201', 'self_report', '2026-11-20', '2026-12-05', 'open', true,"
            " 'test')"
        ),
        {"id": case_id},
    )
    headers = await staff_headers(session)
    early = (await _plan(client, headers, case_id=str(case_id), category="industry")).json()
    object_id = await add_object(session, "H-1", case_id=case_id)
    event = EventRecord(
        id=1, xid=1, county_code="610326", type="monitoring_object.included",
        aggregate_type="monitoring_object", aggregate_id=str(object_id), actor="test",
        occurred_at=NOW,
        payload={"object_id": str(object_id), "case_id": str(case_id), "county_code": "610326"},
    )  # fmt: skip
    await CASE_MEASURES.handler(session, [event])
    await CASE_MEASURES.handler(session, [event])  # re-delivery changes nothing
    adopted = (await client.get(f"{MEASURES}/{early['measure_id']}", headers=headers)).json()
    assert adopted["object_id"] == str(object_id)
    assert await _development_flag(session, object_id)
