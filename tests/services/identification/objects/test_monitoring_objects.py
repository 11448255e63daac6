"""`GET /identification/v1/monitoring_objects`, one object, and removal (清退)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import orjson
import pytest
from sqlalchemy import text

from shared import clock
from tests.services.identification.id_helpers import (
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    staff_headers,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
OBJECTS = "/identification/v1/monitoring_objects"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def add_object(
    session,
    household_id: str,
    *,
    region: str = VILLAGE,
    status: str = "risk_not_eliminated",
    monitoring_type: str = "marginal",
    included_on: date = date(2026, 10, 1),
    object_id: uuid.UUID | None = None,
) -> str:
    """Insert a monitoring object as a county decision would; return its id."""
    object_id = object_id or uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,"
            " monitoring_type, risk_types, status, included_on, case_id, eliminated_on)"
            " VALUES (:object_id, left(:region, 6), :household_id, :region, :monitoring_type,"
            " ARRAY['illness'], :status, :included_on, :case_id, :eliminated_on)"
        ),
        {
            "object_id": object_id,
            "region": region,
            "household_id": household_id,
            "monitoring_type": monitoring_type,
            "status": status,
            "included_on": included_on,
            "case_id": uuid.uuid4(),
            "eliminated_on": date(2026, 11, 1) if status == "risk_eliminated" else None,
        },
    )
    return str(object_id)


async def _count(session, sql: str, **params) -> int:
    return int((await session.execute(text(sql), params)).scalar_one())


async def test_township_staff_list_only_the_objects_of_their_villages(client, session):
    mine = await add_object(session, "H-1")
    other = await add_object(session, "H-2", region=OTHER_TOWN_VILLAGE)
    township = await client.get(
        OBJECTS, headers=await staff_headers(session, "township_staff", TOWN)
    )
    assert township.status_code == 200, township.text
    assert [o["object_id"] for o in township.json()["items"]] == [mine]
    county = await client.get(OBJECTS, headers=await staff_headers(session, "county_staff"))
    assert {o["object_id"] for o in county.json()["items"]} == {mine, other}


async def test_object_has_the_contract_shape(client, session):
    object_id = await add_object(session, "H-1")
    response = await client.get(OBJECTS, headers=await staff_headers(session))
    [item] = response.json()["items"]
    assert item["object_id"] == object_id
    assert item["household_id"] == "H-1" and item["region_code"] == VILLAGE
    assert (item["monitoring_type"], item["risk_types"]) == ("marginal", ["illness"])
    assert (item["status"], item["included_on"], item["eliminated_on"]) == (
        "risk_not_eliminated",
        "2026-10-01",
        None,
    )
    assert item["whole_household_no_labour"] is False
    assert item["development_assistance"] is False
    assert response.json()["next_cursor"] is None


async def test_region_outside_the_scope_is_404(client, session):
    headers = await staff_headers(session, "township_staff", TOWN)
    response = await client.get(OBJECTS, params={"region": OTHER_TOWN_VILLAGE}, headers=headers)
    assert response.status_code == 404


async def test_region_filter_narrows_to_one_village(client, session):
    mine = await add_object(session, "H-1")
    await add_object(session, "H-2", region=OTHER_TOWN_VILLAGE)
    headers = await staff_headers(session)
    response = await client.get(OBJECTS, params={"region": VILLAGE}, headers=headers)
    assert [o["object_id"] for o in response.json()["items"]] == [mine]


async def test_one_object_in_scope_is_shown_and_outside_it_is_404(client, session):
    mine = await add_object(session, "H-1")
    other = await add_object(session, "H-2", region=OTHER_TOWN_VILLAGE)
    headers = await staff_headers(session, "village_staff", VILLAGE)
    shown = await client.get(f"{OBJECTS}/{mine}", headers=headers)
    assert shown.status_code == 200 and shown.json()["object_id"] == mine
    assert (await client.get(f"{OBJECTS}/{other}", headers=headers)).status_code == 404
    assert (await client.get(f"{OBJECTS}/{uuid.uuid4()}", headers=headers)).status_code == 404


async def test_filters_by_status_and_type(client, session):
    active = await add_object(session, "H-1", monitoring_type="marginal")
    eliminated = await add_object(
        session, "H-2", status="risk_eliminated", monitoring_type="sudden_hardship"
    )
    removed = await add_object(session, "H-3", status="removed", monitoring_type="marginal")
    headers = await staff_headers(session)

    async def ids(**params):
        response = await client.get(OBJECTS, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return {o["object_id"] for o in response.json()["items"]}

    assert await ids(status="risk_not_eliminated") == {active}
    assert await ids(status="risk_eliminated") == {eliminated}
    assert await ids(type="marginal") == {active, removed}
    assert await ids(type="marginal", status="removed") == {removed}
    assert await ids(type="unstable_alleviated") == set()


@pytest.mark.parametrize(("field", "value"), [("status", "closed"), ("type", "poor")])
async def test_unknown_status_or_type_is_422_invalid_code(client, session, field, value):
    headers = await staff_headers(session)
    response = await client.get(OBJECTS, params={field: value}, headers=headers)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == (field, "invalid_code")


async def test_pages_list_every_object_once_newest_inclusion_first(client, session):
    included = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 10, 1), date(2026, 10, 1)]
    included += [date(2026, 11, 2)]
    for index, day in enumerate(included):
        await add_object(session, f"H-{index}", included_on=day)
    headers = await staff_headers(session)
    seen: list[dict] = []
    cursor = None
    for _ in range(10):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await client.get(OBJECTS, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len({o["object_id"] for o in seen}) == 5
    keys = [(o["included_on"], o["object_id"]) for o in seen]
    assert keys == sorted(keys, reverse=True)


async def test_bad_cursor_is_422(client, session):
    headers = await staff_headers(session)
    response = await client.get(OBJECTS, params={"cursor": "not-ours"}, headers=headers)
    assert response.status_code == 422


REMOVAL = {"reason": "家庭收入稳定超过监测线，经核实属错误纳入", "approved_by": "王局长"}


async def test_county_staff_remove_an_object_with_reason_audit_and_event(client, session):
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    response = await client.post(f"{OBJECTS}/{object_id}/removal", json=REMOVAL, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object_id"] == object_id
    assert (body["status"], body["removed_on"]) == ("removed", "2026-11-23")
    assert (body["removal_reason"], body["removal_approved_by"]) == (
        REMOVAL["reason"],
        REMOVAL["approved_by"],
    )
    [(status, removed_on)] = (
        await session.execute(
            text("SELECT status, removed_on FROM monitoring_objects WHERE object_id = :id"),
            {"id": object_id},
        )
    ).all()
    assert (status, removed_on) == ("removed", date(2026, 11, 23))
    [(action, county, details)] = (
        await session.execute(
            text(
                "SELECT action, county_code, details FROM audit_log"
                " WHERE target_type = 'monitoring_object' AND target_id = :id"
            ),
            {"id": object_id},
        )
    ).all()
    assert (action, county) == ("monitoring_object.removed", "610326")
    assert REMOVAL["approved_by"] not in orjson.dumps(details).decode()
    [(event_type, payload)] = (
        await session.execute(
            text(
                "SELECT type, payload FROM events"
                " WHERE aggregate_type = 'monitoring_object' AND aggregate_id = :id"
            ),
            {"id": object_id},
        )
    ).all()
    assert event_type == "monitoring_object.removed"
    assert payload["object_id"] == object_id and payload["household_id"] == "H-1"
    assert payload["removed_on"] == "2026-11-23" and payload["county_code"] == "610326"
    dumped = orjson.dumps(payload).decode()
    assert REMOVAL["approved_by"] not in dumped and REMOVAL["reason"] not in dumped
    assert "name" not in payload


async def test_eliminated_object_may_be_removed(client, session):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    headers = await staff_headers(session)
    response = await client.post(f"{OBJECTS}/{object_id}/removal", json=REMOVAL, headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "removed"


async def test_removing_twice_is_409_and_announces_once(client, session):
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    url = f"{OBJECTS}/{object_id}/removal"
    assert (await client.post(url, json=REMOVAL, headers=headers)).status_code == 200
    again = await client.post(url, json={**REMOVAL, "reason": "再次"}, headers=headers)
    assert again.status_code == 409
    count = await _count(
        session,
        "SELECT count(*) FROM events WHERE aggregate_type = 'monitoring_object'"
        " AND aggregate_id = :id",
        id=object_id,
    )
    assert count == 1
    reason = await session.scalar(
        text("SELECT removal_reason FROM monitoring_objects WHERE object_id = :id"),
        {"id": object_id},
    )
    assert reason == REMOVAL["reason"]


@pytest.mark.parametrize(("role", "region"), [("township_staff", TOWN), ("village_staff", VILLAGE)])
async def test_staff_below_the_county_may_not_remove(client, session, role, region):
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session, role, region)
    response = await client.post(f"{OBJECTS}/{object_id}/removal", json=REMOVAL, headers=headers)
    assert response.status_code == 403
    status = await session.scalar(
        text("SELECT status FROM monitoring_objects WHERE object_id = :id"), {"id": object_id}
    )
    assert status == "risk_not_eliminated"


async def test_removal_without_a_reason_is_422(client, session):
    object_id = await add_object(session, "H-1")
    headers = await staff_headers(session)
    response = await client.post(
        f"{OBJECTS}/{object_id}/removal", json={"approved_by": "王局长"}, headers=headers
    )
    assert response.status_code == 422


async def test_removal_of_an_object_outside_the_scope_is_404(client, session):
    object_id = await add_object(session, "H-1", region="610327100201")
    headers = await staff_headers(session)
    response = await client.post(f"{OBJECTS}/{object_id}/removal", json=REMOVAL, headers=headers)
    assert response.status_code == 404
