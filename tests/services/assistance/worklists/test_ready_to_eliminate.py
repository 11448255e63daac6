"""`GET /assistance/v1/ready_to_eliminate`: objects meeting every elimination
criterion today, judged by the elimination's own statement; for each
criterion an object just in and one just out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import clock
from tests.services.assistance.assist_helpers import staff_headers
from tests.services.assistance.worklists.county import OTHER_VILLAGE, VILLAGE, add

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
READY = "/assistance/v1/ready_to_eliminate"
OBJECTS = "/assistance/v1/monitoring_objects"

# name -> in the list?
CASES: dict[str, tuple[dict, bool]] = {
    "meets-all": ({}, True),
    "completed-measure": ({"measures": (("completed", "2026-02-10"),)}, True),
    "planned-measure-only": ({"measures": (("planned", None),)}, False),
    "no-measure": ({"measures": ()}, False),
    "measure-started-tomorrow": ({"measures": (("in_progress", "2026-11-24"),)}, False),
    "monitored-180-days": ({"included_on": "2026-05-27"}, True),
    "monitored-179-days": ({"included_on": "2026-05-28"}, False),
    "income-just-above": ({"assessments": (("2026-03-01", 7000), ("2026-10-01", 6900.01))}, True),
    "income-on-the-line": ({"assessments": (("2026-03-01", 7000), ("2026-10-01", 6900))}, False),
    "stable-180-days": ({"assessments": (("2026-04-04", 7000), ("2026-10-01", 8000))}, True),
    "stable-179-days": ({"assessments": (("2026-04-05", 7000), ("2026-10-01", 8000))}, False),
    "below-in-between": (
        {"assessments": (("2026-03-01", 7000), ("2026-06-01", 6000), ("2026-10-01", 8000))},
        False,
    ),
    "below-before-the-stable-one": (
        {"assessments": (("2026-02-01", 6000), ("2026-03-01", 7000), ("2026-10-01", 8000))},
        True,
    ),
    "no-assessment": ({"assessments": ()}, False),
    "housing-not-secure": ({"latest": {"housing": False}}, False),
    "education-not-secure": ({"latest": {"education": False}}, False),
    "medical-not-secure": ({"latest": {"medical": False}}, False),
    "water-not-secure": ({"latest": {"water": False}}, False),
    "no-labour-flag": ({"no_labour": True}, False),
    "already-eliminated": ({"status": "risk_eliminated", "eliminated_on": "2026-11-01"}, False),
    "removed": ({"status": "removed"}, False),
}


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _read_all(client, headers, **params) -> list[str]:
    names, cursor = [], None
    while True:
        query = params | {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await client.get(READY, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        names += [item["household_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return names


async def test_the_list_holds_exactly_the_objects_meeting_every_criterion(client, session):
    for name, (setup, _) in CASES.items():
        await add(session, name, **setup)
    headers = await staff_headers(session)
    listed = await _read_all(client, headers)
    assert sorted(listed) == sorted(name for name, (_, ready) in CASES.items() if ready)
    assert len(listed) == len(set(listed))  # pages neither repeat nor skip


async def test_items_carry_the_object_and_come_by_inclusion(client, session):
    late = await add(session, "monitored-180-days", included_on="2026-05-27")
    early = await add(session, "meets-all")
    headers = await staff_headers(session)
    body = (await client.get(READY, headers=headers)).json()
    assert body == {
        "items": [
            {
                "object_id": str(early),
                "household_id": "meets-all",
                "region_code": VILLAGE,
                "included_on": "2026-01-05",
            },
            {
                "object_id": str(late),
                "household_id": "monitored-180-days",
                "region_code": VILLAGE,
                "included_on": "2026-05-27",
            },
        ],
        "next_cursor": None,
    }


async def test_every_listed_object_is_accepted_by_the_elimination(client, session):
    for name, (setup, _) in CASES.items():
        await add(session, name, **setup)
    headers = await staff_headers(session)
    items = (await client.get(READY, headers=headers)).json()["items"]
    for item in items:
        response = await client.post(
            f"{OBJECTS}/{item['object_id']}/elimination",
            json={"decided_on": "2026-11-23"},
            headers=headers,
        )
        assert response.status_code == 200, (item["household_id"], response.text)
    assert (await client.get(READY, headers=headers)).json()["items"] == []


async def test_region_narrows_the_list(client, session):
    await add(session, "meets-all")
    await add(session, "elsewhere", region=OTHER_VILLAGE)
    headers = await staff_headers(session)
    assert sorted(await _read_all(client, headers)) == ["elsewhere", "meets-all"]
    assert await _read_all(client, headers, region=OTHER_VILLAGE) == ["elsewhere"]
