"""`GET /assistance/v1/rollback_candidates`: eliminated objects flagged without
labour, or whose latest assessment after the elimination is below the line or
finds a guarantee or the water not secure; for each reason an object just in
and one just out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import clock
from tests.services.assistance.assist_helpers import staff_headers
from tests.services.assistance.worklists.county import OTHER_VILLAGE, VILLAGE, add

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CANDIDATES = "/assistance/v1/rollback_candidates"
ELIMINATED = {"status": "risk_eliminated", "eliminated_on": "2026-10-01"}
BEFORE = (("2026-03-01", 7000), ("2026-10-01", 8000))  # the elimination's basis

# name -> (setup, reasons; [] when not listed)
CASES: dict[str, tuple[dict, list[str]]] = {
    "fine": ({}, []),
    "no-labour": ({"no_labour": True}, ["whole_household_no_labour"]),
    "no-labour-but-at-risk": ({"no_labour": True, "status": "risk_not_eliminated"}, []),
    "later-below-line": ({"assessments": (*BEFORE, ("2026-11-01", 6900))}, ["income_below_line"]),
    "later-just-above": ({"assessments": (*BEFORE, ("2026-11-01", 6900.01))}, []),
    # Below the line on the elimination's own day is not after it.
    "below-on-the-day": ({"assessments": (("2026-03-01", 7000), ("2026-10-01", 6000))}, []),
    "bad-then-recovered": (
        {"assessments": (*BEFORE, ("2026-10-15", 6000), ("2026-11-01", 7500))},
        [],
    ),
    "later-housing": (
        {"assessments": (*BEFORE, ("2026-11-01", 7500)), "latest": {"housing": False}},
        ["three_guarantees_not_secure"],
    ),
    "later-medical": (
        {"assessments": (*BEFORE, ("2026-11-01", 7500)), "latest": {"medical": False}},
        ["three_guarantees_not_secure"],
    ),
    "later-water": (
        {"assessments": (*BEFORE, ("2026-11-01", 7500)), "latest": {"water": False}},
        ["drinking_water_not_secure"],
    ),
    "everything": (
        {
            "no_labour": True,
            "assessments": (*BEFORE, ("2026-11-01", 5000)),
            "latest": {"education": False, "water": False},
        },
        [
            "whole_household_no_labour",
            "income_below_line",
            "three_guarantees_not_secure",
            "drinking_water_not_secure",
        ],
    ),
}


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _read_all(client, headers, **params) -> dict[str, list[str]]:
    found, cursor = {}, None
    while True:
        query = params | {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = await client.get(CANDIDATES, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        for item in body["items"]:
            assert item["household_id"] not in found
            found[item["household_id"]] = item["reasons"]
        cursor = body["next_cursor"]
        if cursor is None:
            return found


async def test_the_list_holds_the_eliminated_objects_with_a_reason_and_names_it(client, session):
    for name, (setup, _) in CASES.items():
        await add(session, name, **(ELIMINATED | setup))
    headers = await staff_headers(session)
    assert await _read_all(client, headers) == {
        name: reasons for name, (_, reasons) in CASES.items() if reasons
    }


async def test_items_carry_the_object_and_its_elimination(client, session):
    object_id = await add(session, "no-labour", no_labour=True, **ELIMINATED)
    headers = await staff_headers(session)
    assert (await client.get(CANDIDATES, headers=headers)).json() == {
        "items": [
            {
                "object_id": str(object_id),
                "household_id": "no-labour",
                "region_code": VILLAGE,
                "eliminated_on": "2026-10-01",
                "reasons": ["whole_household_no_labour"],
            }
        ],
        "next_cursor": None,
    }


async def test_region_narrows_the_list(client, session):
    await add(session, "here", no_labour=True, **ELIMINATED)
    await add(session, "there", no_labour=True, region=OTHER_VILLAGE, **ELIMINATED)
    headers = await staff_headers(session)
    assert set(await _read_all(client, headers)) == {"here", "there"}
    assert set(await _read_all(client, headers, region=OTHER_VILLAGE)) == {"there"}
    village = await staff_headers(session, "village_staff", VILLAGE)
    outside = await client.get(CANDIDATES, params={"region": OTHER_VILLAGE}, headers=village)
    assert outside.status_code == 404
    assert set(await _read_all(client, village)) == {"here"}
