"""Rollback of a risk elimination (风险消除回退), who may eliminate, and the
safety-net flag's changes."""

from __future__ import annotations

from datetime import date

import pytest

from shared import clock
from tests.services.assistance.assist_helpers import (
    add_object,
    register,
    staff_headers,
)
from tests.services.assistance.objects.elimination_helpers import (
    NOW,
    OBJECTS,
    assess,
    audit_count,
    eliminate,
    events_of,
    prepared,
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def test_rollback_then_re_elimination(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    assert (await eliminate(client, headers, object_id, "2026-10-15")).status_code == 200
    rolled = await client.post(
        f"{OBJECTS}/{object_id}/rollback", json={"reason": "收入骤降"}, headers=headers
    )
    assert rolled.status_code == 200, rolled.text
    body = rolled.json()
    assert body["status"] == "risk_not_eliminated"
    assert (body["eliminated_on"], body["rolled_back_on"]) == (None, "2026-11-23")
    assert body["rollback_reason"] == "收入骤降"
    [(_, payload)] = await events_of(session, "risk.rolled_back")
    assert payload == {
        "object_id": str(object_id),
        "household_id": "H-1",
        "county_code": "610326",
        "rolled_back_on": "2026-11-23",
    }
    assert await audit_count(session, "risk.rolled_back") == 1
    # A decision dated before the rollback is refused; a later one is judged anew.
    early = await eliminate(client, headers, object_id, "2026-11-01")
    assert early.json()["errors"][0]["code"] == "invalid_date"
    await assess(client, headers, object_id, "2026-11-23", 7200)
    again = await eliminate(client, headers, object_id, "2026-11-23")
    assert again.status_code == 200, again.text
    assert (again.json()["eliminated_on"], again.json()["rolled_back_on"]) == (
        "2026-11-23",
        "2026-11-23",
    )
    assert len(await events_of(session, "risk.eliminated")) == 2


async def test_rollback_of_an_object_not_eliminated_is_409(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    response = await client.post(
        f"{OBJECTS}/{object_id}/rollback", json={"reason": "x"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("not_eliminated")


async def test_rollback_is_409_while_the_household_has_another_open_object(client, session):
    headers = await staff_headers(session)
    object_id = await prepared(client, session, headers)
    assert (await eliminate(client, headers, object_id)).status_code == 200
    await add_object(session, "H-1", included_on=date(2026, 11, 20))
    response = await client.post(
        f"{OBJECTS}/{object_id}/rollback", json={"reason": "x"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["type"].endswith("household_already_monitored")
    obj = (await client.get(f"{OBJECTS}/{object_id}", headers=headers)).json()
    assert obj["status"] == "risk_eliminated"
    assert await events_of(session, "risk.rolled_back") == []


async def test_village_staff_cannot_eliminate_or_roll_back(client, session):
    county = await staff_headers(session)
    object_id = await prepared(client, session, county)
    village = await staff_headers(session, "village_staff", "610326100201")
    assert (await eliminate(client, village, object_id)).status_code == 403
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
    assert (await eliminate(client, other, object_id)).status_code == 404
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
    [(_, payload)] = await events_of(session, "monitoring_object.flags_changed")
    assert payload == {"object_id": str(object_id), "whole_household_no_labour": True}
    assert await audit_count(session, "monitoring_object.flags_changed") == 1
    cleared = await client.put(
        f"{OBJECTS}/{object_id}/flags", json={"whole_household_no_labour": False}, headers=headers
    )
    assert cleared.json()["whole_household_no_labour"] is False
    assert len(await events_of(session, "monitoring_object.flags_changed")) == 2


async def test_removed_objects_flags_are_409(client, session):
    await register(session, "H-1", [1])
    object_id = await add_object(session, "H-1", status="removed")
    headers = await staff_headers(session)
    response = await client.put(
        f"{OBJECTS}/{object_id}/flags", json={"whole_household_no_labour": True}, headers=headers
    )
    assert response.status_code == 409
