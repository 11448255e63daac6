"""`GET /identification/v1/households/{household_id}`: the view and the audited reveal."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from sqlalchemy import text

from shared import clock
from tests.services.identification.id_helpers import (
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    department_headers,
    open_case,
    person,
    register,
    staff_headers,
)
from tests.services.identification.objects.test_monitoring_objects import add_object
from tests.services.warning_ingest.ingest_helpers import BATCHES, record

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
HOUSEHOLDS = "/identification/v1/households"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


def masked(seq: int) -> str:
    number = person(seq)
    return number[:6] + "********" + number[14:]


async def _reveal_audits(session) -> list[tuple]:
    return (
        await session.execute(
            text(
                "SELECT actor, target_type, target_id, county_code, details FROM audit_log"
                " WHERE action = 'household.id_numbers_revealed'"
            )
        )
    ).all()


async def _full_household(client, session) -> tuple[str, dict]:
    """H-1 with two members, a monitoring object, a case and a warning."""
    await register(session, "H-1", [1, 2])
    object_id = await add_object(session, "H-1")
    case = await open_case(client, session, "H-1")
    pushed = await client.post(
        BATCHES,
        json={"records": [record(1)]},
        headers=await department_headers(session, "civil_affairs"),
    )
    assert pushed.status_code == 201, pushed.text
    return object_id, case


async def test_household_view_masks_ids_and_shows_members_object_cases_and_warnings(
    client, session
):
    object_id, case = await _full_household(client, session)
    headers = await staff_headers(session, "village_staff", VILLAGE)
    response = await client.get(f"{HOUSEHOLDS}/H-1", headers=headers)
    assert response.status_code == 200, response.text
    assert person(1) not in response.text and person(2) not in response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["household_id"], body["region_code"], body["category"]) == (
        "H-1",
        VILLAGE,
        "general",
    )
    assert body["head_name"] == "张三" and body["revealed"] is False
    members = body["members"]
    assert [m["id_number"] for m in members] == [masked(1), masked(2)]
    assert [m["relation"] for m in members] == ["head", "child"]
    assert members[0]["labour_capacity"] == "full" and members[0]["age"] == 46
    assert members[0]["birth_date"] is None
    assert body["monitoring_object"]["object_id"] == object_id
    assert [o["object_id"] for o in body["monitoring_objects"]] == [object_id]
    assert [c["case_id"] for c in body["cases"]] == [case["case_id"]]
    assert body["cases"][0]["state"] == "open"
    [warning] = body["warnings"]
    assert (warning["warning_type"], warning["department"], warning["status"]) == (
        "dibao",
        "civil_affairs",
        "matched",
    )
    assert warning["id_number"] == masked(1)
    assert await _reveal_audits(session) == []


async def test_household_without_object_has_none_in_force(client, session):
    await register(session, "H-1", [1])
    removed = await add_object(session, "H-1", status="removed")
    response = await client.get(f"{HOUSEHOLDS}/H-1", headers=await staff_headers(session))
    body = response.json()
    assert body["monitoring_object"] is None
    assert [o["object_id"] for o in body["monitoring_objects"]] == [removed]
    assert body["cases"] == [] and body["warnings"] == []


async def test_county_staff_reveal_full_numbers_and_one_audit_record(client, session):
    await _full_household(client, session)
    headers = await staff_headers(session)
    response = await client.get(f"{HOUSEHOLDS}/H-1", params={"reveal": "true"}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["revealed"] is True
    assert [m["id_number"] for m in body["members"]] == [person(1), person(2)]
    [(actor, target_type, target_id, county, details)] = await _reveal_audits(session)
    assert actor.startswith("user:")
    assert (target_type, target_id, county) == ("household", "H-1", "610326")
    assert details == {"members": 2}
    dumped = orjson.dumps(details).decode()
    assert person(1) not in dumped and person(2) not in dumped


@pytest.mark.parametrize(("role", "region"), [("township_staff", TOWN), ("village_staff", VILLAGE)])
async def test_reveal_by_staff_below_the_county_is_403_and_not_audited(
    client, session, role, region
):
    await register(session, "H-1", [1])
    headers = await staff_headers(session, role, region)
    response = await client.get(f"{HOUSEHOLDS}/H-1", params={"reveal": "true"}, headers=headers)
    assert response.status_code == 403
    assert person(1) not in response.text
    assert await _reveal_audits(session) == []


async def test_household_outside_the_scope_is_404(client, session):
    await register(session, "H-2", [3], region=OTHER_TOWN_VILLAGE)
    headers = await staff_headers(session, "township_staff", TOWN)
    assert (await client.get(f"{HOUSEHOLDS}/H-2", headers=headers)).status_code == 404


async def test_reveal_of_an_unknown_household_is_404_and_not_audited(client, session):
    headers = await staff_headers(session)
    response = await client.get(f"{HOUSEHOLDS}/H-9", params={"reveal": "true"}, headers=headers)
    assert response.status_code == 404
    assert await _reveal_audits(session) == []
