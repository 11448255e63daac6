"""`GET /identification/v1/cases`: the pending-case list, most urgent first."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.identification.id_helpers import (
    CASES,
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    department_headers,
    open_case,
    register,
    staff_headers,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
TODAY = date(2026, 11, 23)
DAY = timedelta(days=1)
_PEOPLE = itertools.count(1000)  # a distinct person for every household registered


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def case_due(
    client, session, household_id: str, deadline: date, headers, *, region=VILLAGE, **fields
) -> dict:
    """Register a household and open a manual case for it due on `deadline`."""
    await register(session, household_id, [next(_PEOPLE)], region=region)
    return await open_case(
        client, session, household_id, found_on=deadline - 15 * DAY, headers=headers, **fields
    )


async def listed(client, headers, **params) -> list[str]:
    response = await client.get(CASES, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [item["household_id"] for item in response.json()["items"]]


async def decide(session, case_id: str) -> None:
    await session.execute(
        text(
            "UPDATE cases SET state = 'decided', decided_on = :on, outcome = 'not_included',"
            " reason = '收入稳定' WHERE case_id = :id"
        ),
        {"id": case_id, "on": TODAY},
    )


@pytest.fixture
async def county(session) -> dict[str, str]:
    return await staff_headers(session, "county_staff")


# ------------------------------------------------------------------ order


async def test_cases_come_most_urgent_first(client, session, county):
    await case_due(client, session, "H-LATE", TODAY + 10 * DAY, county)
    await case_due(client, session, "H-PAST", TODAY - 2 * DAY, county)
    await case_due(client, session, "H-SOON", TODAY + DAY, county)
    await case_due(client, session, "H-TODAY", TODAY, county)

    response = await client.get(CASES, headers=county)

    body = response.json()
    assert [c["household_id"] for c in body["items"]] == ["H-PAST", "H-TODAY", "H-SOON", "H-LATE"]
    assert [c["days_left"] for c in body["items"]] == [-2, 0, 1, 10]
    assert [c["overdue"] for c in body["items"]] == [True, False, False, False]
    assert body["next_cursor"] is None


async def test_cases_due_the_same_day_are_ordered_by_case_id(client, session, county):
    for n in range(4):
        await case_due(client, session, f"H-{n}", TODAY + 5 * DAY, county)
    response = await client.get(CASES, headers=county)
    ids = [c["case_id"] for c in response.json()["items"]]
    assert len(ids) == 4
    assert ids == sorted(ids)


# ------------------------------------------------------------------ states


async def test_a_case_is_overdue_the_day_after_its_deadline_not_on_it(client, session, county):
    await case_due(client, session, "H-YESTERDAY", TODAY - DAY, county)
    await case_due(client, session, "H-TODAY", TODAY, county)

    assert await listed(client, county, state="overdue") == ["H-YESTERDAY"]
    # 00:30 on 11-24 in Shanghai: the case due on 11-23 is overdue too.
    with clock.frozen_at(datetime(2026, 11, 23, 16, 30, tzinfo=UTC)):
        assert await listed(client, county, state="overdue") == ["H-YESTERDAY", "H-TODAY"]


async def test_due_soon_is_today_to_three_days_left(client, session, county):
    await case_due(client, session, "H-OVERDUE", TODAY - DAY, county)
    await case_due(client, session, "H-0", TODAY, county)
    await case_due(client, session, "H-3", TODAY + 3 * DAY, county)
    await case_due(client, session, "H-4", TODAY + 4 * DAY, county)

    assert await listed(client, county, state="due_soon") == ["H-0", "H-3"]
    response = await client.get(CASES, headers=county)
    assert {c["household_id"]: c["due_soon"] for c in response.json()["items"]} == {
        "H-OVERDUE": False,
        "H-0": True,
        "H-3": True,
        "H-4": False,
    }


async def test_decided_cases_are_neither_open_nor_overdue_nor_due_soon(client, session, county):
    late = await case_due(client, session, "H-LATE-DECIDED", TODAY - DAY, county)
    soon = await case_due(client, session, "H-SOON-DECIDED", TODAY + DAY, county)
    await case_due(client, session, "H-OPEN", TODAY + 2 * DAY, county)
    await decide(session, late["case_id"])
    await decide(session, soon["case_id"])

    assert await listed(client, county, state="open") == ["H-OPEN"]
    assert await listed(client, county, state="overdue") == []
    assert await listed(client, county, state="due_soon") == ["H-OPEN"]
    assert await listed(client, county, state="decided") == ["H-LATE-DECIDED", "H-SOON-DECIDED"]
    assert await listed(client, county) == ["H-LATE-DECIDED", "H-SOON-DECIDED", "H-OPEN"]
    decided = (await client.get(CASES, headers=county, params={"state": "decided"})).json()
    assert decided["items"][0]["decision"]["outcome"] == "not_included"
    assert decided["items"][0]["overdue"] is False


# ------------------------------------------------------------------ step and source


async def test_step_lists_the_open_cases_still_waiting_for_it(client, session, county):
    visited = await case_due(client, session, "H-VISITED", TODAY + DAY, county)
    await case_due(client, session, "H-WAITING", TODAY + 2 * DAY, county)
    decided = await case_due(client, session, "H-DECIDED", TODAY + 3 * DAY, county)
    await session.execute(
        text("UPDATE cases SET steps_done = '{household_visit}' WHERE case_id = :id"),
        {"id": visited["case_id"]},
    )
    await decide(session, decided["case_id"])

    assert await listed(client, county, step="household_visit") == ["H-WAITING"]
    assert await listed(client, county, step="village_review") == ["H-VISITED", "H-WAITING"]
    assert await listed(client, county, step="household_visit", state="due_soon") == ["H-WAITING"]


async def test_source_keeps_the_cases_of_one_source(client, session, county):
    await case_due(client, session, "H-SELF", TODAY, county, source="self_report")
    await case_due(client, session, "H-CADRE", TODAY, county, source="cadre_screening")

    assert await listed(client, county, source="cadre_screening") == ["H-CADRE"]
    assert await listed(client, county, source="self_report") == ["H-SELF"]
    assert await listed(client, county, source="department_warning") == []


# ------------------------------------------------------------------ scope


async def test_township_staff_list_only_their_townships_cases(client, session, county):
    await register(session, "H-OTHER", [501], region=OTHER_TOWN_VILLAGE)
    await open_case(client, session, "H-OTHER", found_on=TODAY, headers=county)
    await case_due(client, session, "H-MINE", TODAY + DAY, county)
    township = await staff_headers(session, "township_staff", TOWN)

    assert await listed(client, township) == ["H-MINE"]
    assert await listed(client, township, region=VILLAGE) == ["H-MINE"]
    assert await listed(client, county) == ["H-MINE", "H-OTHER"]
    assert await listed(client, county, region=OTHER_TOWN_VILLAGE) == ["H-OTHER"]
    assert await listed(client, county, region="610326101000") == ["H-OTHER"]
    village = await staff_headers(session, "village_staff", VILLAGE)
    assert await listed(client, village, state="open") == ["H-MINE"]


async def test_a_region_outside_the_scope_is_404(client, session):
    township = await staff_headers(session, "township_staff", TOWN)
    for region in (OTHER_TOWN_VILLAGE, "610326101000", "610326000000", "not-a-code"):
        response = await client.get(CASES, headers=township, params={"region": region})
        assert response.status_code == 404, region


# ------------------------------------------------------------------ pages


async def pages(client, headers, **params) -> tuple[list[str], int]:
    """Every page of the list, following the cursors: the households and the page count."""
    seen: list[str] = []
    count = 0
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(CASES, headers=headers, params=query)).json()
        seen += [item["household_id"] for item in body["items"]]
        count += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, count


@pytest.mark.parametrize("state", [None, "open"])
async def test_keyset_pages_list_each_case_once_in_order(client, session, county, state):
    # Three villages in two towns: a county's list merges them in deadline order.
    villages = [VILLAGE, OTHER_TOWN_VILLAGE, "610326100202"]
    for n in range(8):
        region = villages[n % 3]
        await case_due(client, session, f"H-{n}", TODAY + (n % 3) * DAY, county, region=region)
    decided = await case_due(client, session, "H-D", TODAY - DAY, county, region=VILLAGE)
    await decide(session, decided["case_id"])
    params = {"state": state} if state else {}
    everything = (await client.get(CASES, headers=county, params={**params, "limit": 500})).json()
    keys = [(c["deadline"], c["case_id"]) for c in everything["items"]]

    seen, count = await pages(client, county, limit=3, **params)

    assert keys == sorted(keys)
    assert seen == [c["household_id"] for c in everything["items"]]
    assert sorted(seen) == sorted([f"H-{n}" for n in range(8)] + ([] if state else ["H-D"]))
    assert count == 3


async def test_a_page_is_stable_when_a_more_urgent_case_opens_meanwhile(client, session, county):
    for n in range(4):
        await case_due(client, session, f"H-{n}", TODAY + n * DAY, county)
    first = (await client.get(CASES, headers=county, params={"limit": 2})).json()
    await case_due(client, session, "H-NEW", TODAY - DAY, county)

    params = {"limit": 2, "cursor": first["next_cursor"]}
    second = (await client.get(CASES, headers=county, params=params)).json()
    assert [c["household_id"] for c in first["items"]] == ["H-0", "H-1"]
    assert [c["household_id"] for c in second["items"]] == ["H-2", "H-3"]
    assert second["next_cursor"] is None


# ------------------------------------------------------------------ errors and roles


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("state", "closed"),
        ("step", "household_visits"),
        ("source", "department"),
    ],
)
async def test_an_unknown_filter_value_is_invalid_code(client, session, county, field, value):
    response = await client.get(CASES, headers=county, params={field: value})
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == (field, "invalid_code")


async def test_a_cursor_the_list_did_not_give_is_422(client, session, county):
    response = await client.get(CASES, headers=county, params={"cursor": "bm9wZQ"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid_cursor"


async def test_the_list_needs_a_staff_token(client, session):
    assert (await client.get(CASES)).status_code == 401
    bad = {"Authorization": "Bearer wx_unknown"}
    assert (await client.get(CASES, headers=bad)).status_code == 401
    department = await department_headers(session, "civil_affairs")
    assert (await client.get(CASES, headers=department)).status_code == 403
    viewer = await staff_headers(session, "viewer")
    assert (await client.get(CASES, headers=viewer)).status_code == 403
