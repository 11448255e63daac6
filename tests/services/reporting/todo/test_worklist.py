"""`GET /reporting/v1/worklist`, the staff to-do list, on the hand-built county
of todo_dataset.py (every expected item worked out there by hand)."""

from __future__ import annotations

import pytest

from shared import clock
from shared.auth import issue_token
from tests.services.reporting.dataset import NOW
from tests.services.reporting.todo.todo_dataset import (
    COUNTY,
    HOUSEHOLD_IDS,
    NAMES,
    OTHER_VILLAGE,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
    case_id,
    load_todo_dataset,
    object_id,
    problem_id,
    request_id,
)

WORKLIST = "/reporting/v1/worklist"
SECTIONS = ("overdue_cases", "due_soon_cases", "gaps", "pending_requests", "overdue_problems")


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def data(session):
    await load_todo_dataset(session)


async def _user(session, role: str = "county_staff", region: str = COUNTY) -> dict[str, str]:
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


async def _worklist(client, headers, **params) -> dict:
    response = await client.get(WORKLIST, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _case(n: str, source: str, deadline: str, days_left: int) -> dict:
    return {
        "case_id": case_id(n),
        "source": source,
        "deadline": deadline,
        "days_left": days_left,
        "href": f"/identification/v1/cases/{case_id(n)}",
    }


def _problem(n: str, type_: str, due_on: str, days: int) -> dict:
    return {
        "problem_id": problem_id(n),
        "type": type_,
        "due_on": due_on,
        "days_overdue": days,
        "href": f"/identification/v1/problems/{problem_id(n)}",
    }


def _section(*items: dict, total: int | None = None) -> dict:
    return {"total": len(items) if total is None else total, "items": list(items)}


def _village(code: str, name: str, **sections: dict) -> dict:
    full = {s: sections.get(s, _section()) for s in SECTIONS}
    return {
        "region_code": code,
        "region_name": name,
        "totals": {s: full[s]["total"] for s in SECTIONS},
    } | full


O1_HREF = f"/identification/v1/monitoring_objects/{object_id('01')}"
A1 = _village(
    VILLAGE_A1,
    "城关村",
    overdue_cases=_section(
        _case("02", "self_report", "2026-11-10", -13),
        _case("01", "department_warning", "2026-11-20", -3),
    ),
    due_soon_cases=_section(_case("03", "cadre_screening", "2026-11-25", 2)),
    gaps=_section(
        {
            "object_id": object_id("01"),
            "kind": "no_development_measure",
            "since": "2026-11-20",
            "href": O1_HREF,
        },
        {
            "object_id": object_id("01"),
            "kind": "no_insurance_subsidy",
            "since": "2026-11-20",
            "href": O1_HREF,
        },
    ),
    pending_requests=_section(
        {
            "request_id": request_id("01"),
            "object_id": object_id("01"),
            "kind": "removal",
            "requested_on": "2026-11-15",
            "href": f"/identification/v1/requests/{request_id('01')}",
        }
    ),
)
A2 = _village(
    VILLAGE_A2,
    "西街村",
    overdue_problems=_section(_problem("01", "guarantees_water", "2026-11-20", 3)),
)
B1 = _village(
    VILLAGE_B1,
    "横渠村",
    due_soon_cases=_section(_case("06", "self_report", "2026-11-23", 0)),
    gaps=_section(
        {
            "object_id": None,
            "kind": "visit_overdue",
            "since": "2026-02-01",
            "href": f"/assistance/v1/gaps?region={VILLAGE_B1}&kind=visit_overdue",
        }
    ),
    overdue_problems=_section(_problem("04", "policy_not_delivered", "2026-10-01", 53)),
)


async def test_the_county_list_has_every_section_per_village_most_urgent_first(
    session, client, data
):
    body = await _worklist(client, await _user(session))
    assert body == {
        "region": COUNTY,
        "region_name": "眉县",
        "today": "2026-11-23",
        "limit": 5,
        "totals": {
            "overdue_cases": 2,
            "due_soon_cases": 2,
            "gaps": 3,
            "pending_requests": 1,
            "overdue_problems": 2,
        },
        "villages": [A1, A2, B1],
    }


async def test_each_section_lists_at_most_limit_items_with_its_whole_total(session, client, data):
    body = await _worklist(client, await _user(session), limit=1)
    a1 = body["villages"][0]
    assert a1["overdue_cases"] == _section(A1["overdue_cases"]["items"][0], total=2)
    assert a1["gaps"]["total"] == 2
    assert [g["kind"] for g in a1["gaps"]["items"]] == ["no_development_measure"]
    assert body["totals"]["overdue_cases"] == 2


@pytest.mark.parametrize("limit", ["0", "51", "x"])
async def test_a_limit_out_of_bounds_is_a_422_problem(session, client, data, limit):
    response = await client.get(WORKLIST, params={"limit": limit}, headers=await _user(session))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("role", "scope", "villages"),
    [
        ("township_staff", TOWN_A, [A1, A2]),
        ("township_staff", TOWN_B, [B1]),
        ("village_staff", VILLAGE_A2, [A2]),
    ],
)
async def test_staff_see_their_own_town_or_village_only(
    session, client, data, role, scope, villages
):
    body = await _worklist(client, await _user(session, role, scope))
    assert body["region"] == scope
    assert body["villages"] == villages


async def test_a_county_member_may_narrow_the_list_to_a_town(session, client, data):
    body = await _worklist(client, await _user(session), region=TOWN_B)
    assert (body["region_name"], body["villages"]) == ("横渠镇", [B1])
    assert body["totals"] == B1["totals"]


@pytest.mark.parametrize(
    ("role", "scope", "region"),
    [
        ("township_staff", TOWN_A, VILLAGE_B1),
        ("village_staff", VILLAGE_A1, TOWN_A),
        ("county_staff", COUNTY, OTHER_VILLAGE),
    ],
)
async def test_a_region_outside_the_scope_is_404(session, client, data, role, scope, region):
    headers = await _user(session, role, scope)
    response = await client.get(WORKLIST, params={"region": region}, headers=headers)
    assert response.status_code == 404


async def test_a_malformed_region_is_a_422_problem(session, client, data):
    headers = await _user(session)
    response = await client.get(WORKLIST, params={"region": "6103"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "invalid_region_code"


async def test_a_viewer_gets_403_and_no_token_401(session, client, data):
    viewer = await _user(session, "viewer", COUNTY)
    assert (await client.get(WORKLIST, headers=viewer)).status_code == 403
    assert (await client.get(WORKLIST)).status_code == 401


async def test_another_county_staff_sees_only_its_own(session, client, data):
    body = await _worklist(client, await _user(session, "county_staff", "610327000000"))
    assert [v["region_code"] for v in body["villages"]] == [OTHER_VILLAGE]
    assert body["totals"] == {
        "overdue_cases": 1,
        "due_soon_cases": 0,
        "gaps": 4,  # OX: development, insurance, 30 days, visit (HX has OX at risk)
        "pending_requests": 1,
        "overdue_problems": 1,
    }


async def test_no_name_id_number_or_household_id_is_in_the_answer(session, client, data):
    for role, scope in (("county_staff", COUNTY), ("county_staff", "610327000000")):
        text = (await client.get(WORKLIST, headers=await _user(session, role, scope))).text
        for secret in [*HOUSEHOLD_IDS, *NAMES, "********", "饮水不安全", "情况说明"]:
            assert secret not in text, secret


async def test_the_gaps_are_the_ones_the_assistance_list_shows(session, client, data):
    headers = await _user(session)
    body = await _worklist(client, headers, limit=50)
    response = await client.get("/assistance/v1/gaps", params={"limit": 500}, headers=headers)
    assert response.status_code == 200, response.text
    listed = sorted(
        (g["region_code"], g["object_id"] or "", g["kind"], g["since"])
        for g in response.json()["items"]
    )
    ours = sorted(
        (v["region_code"], g["object_id"] or "", g["kind"], g["since"])
        for v in body["villages"]
        for g in v["gaps"]["items"]
    )
    assert ours == listed
    assert len(ours) == 3


async def test_each_link_answers_the_staff_member_with_its_json(session, client, data):
    headers = await _user(session)
    body = await _worklist(client, headers)
    hrefs = [i["href"] for v in body["villages"] for s in SECTIONS for i in v[s]["items"]]
    assert len(hrefs) == 10
    for href in hrefs:
        response = await client.get(href, headers=headers)
        assert response.status_code == 200, (href, response.text)


async def test_nothing_to_do_is_an_empty_list_with_zero_totals(session, client):
    body = await _worklist(client, await _user(session))
    assert body["villages"] == []
    assert body["totals"] == dict.fromkeys(SECTIONS, 0)
