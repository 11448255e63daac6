"""The problem ledger (问题台账, SPEC §11): recording, rectifying, the live
overdue flag, filters, pages, scope and roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.identification.ledger_helpers import (
    COUNTY,
    NOW,
    OTHER_TOWN,
    PROBLEMS,
    TODAY,
    TOWN,
    add_campaign,
    add_households,
    add_regions,
    staff_headers,
    village,
)

VILLAGE = village(TOWN, 201)
NEIGHBOUR = village(TOWN, 202)
FAR = village(OTHER_TOWN, 201)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def registry(session) -> dict[str, list[str]]:
    await add_regions(session, [VILLAGE, NEIGHBOUR, FAR])
    return {code: await add_households(session, code, 2) for code in (VILLAGE, NEIGHBOUR, FAR)}


def _body(**fields) -> dict:
    body = {
        "region_code": VILLAGE,
        "type": "guarantees_water",
        "description": "饮水水质检测未达标",
        "found_on": "2026-05-12",
        "due_on": "2026-06-12",
        "responsible": "镇水利站 王五",
    }
    body.update(fields)
    return body


async def _post(client, headers, **fields) -> dict:
    response = await client.post(PROBLEMS, json=_body(**fields), headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _list(client, headers, **params) -> list[dict]:
    response = await client.get(PROBLEMS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _events(session, event_type: str) -> list[dict]:
    rows = await session.execute(
        text("SELECT payload FROM events WHERE type = :type ORDER BY id"), {"type": event_type}
    )
    return [row.payload for row in rows]


async def test_a_problem_lives_from_open_to_rectified(client, session, registry):
    campaign_id = await add_campaign(session)
    household = registry[VILLAGE][0]
    headers = await staff_headers(session, "township_staff", TOWN)

    created = await _post(client, headers, campaign_id=str(campaign_id), household_id=household)

    assert created | {"problem_id": None, "created_at": None} == {
        "problem_id": None,
        "campaign_id": str(campaign_id),
        "region_code": VILLAGE,
        "household_id": household,
        "type": "guarantees_water",
        "description": "饮水水质检测未达标",
        "found_on": "2026-05-12",
        "due_on": "2026-06-12",
        "responsible": "镇水利站 王五",
        "status": "open",
        "rectified_on": None,
        "action": None,
        "overdue": False,
        "overdue_at": None,
        "created_at": None,
    }
    one = f"{PROBLEMS}/{created['problem_id']}"
    assert (await client.get(one, headers=headers)).json() == created

    fix = {"status": "rectified", "rectified_on": "2026-05-19", "action": "更换净水设备"}
    rectified = await client.patch(one, json=fix, headers=headers)

    assert rectified.status_code == 200, rectified.text
    assert rectified.json() == created | {
        "status": "rectified",
        "rectified_on": "2026-05-19",
        "action": "更换净水设备",
    }
    again = await client.patch(one, json=fix, headers=headers)
    assert again.status_code == 409
    assert again.json()["type"] == "urn:warnex:problem:already_rectified"
    [recorded] = await _events(session, "problem.recorded")
    [done] = await _events(session, "problem.rectified")
    assert recorded == {
        "problem_id": created["problem_id"],
        "campaign_id": str(campaign_id),
        "county_code": "610326",
        "region_code": VILLAGE,
        "household_id": household,
        "type": "guarantees_water",
        "found_on": "2026-05-12",
        "due_on": "2026-06-12",
        "status": "open",
        "rectified_on": None,
    }
    assert done == recorded | {"status": "rectified", "rectified_on": "2026-05-19"}
    audited = await session.scalar(
        text("SELECT count(*) FROM audit_log WHERE target_type = 'problem' AND target_id = :id"),
        {"id": created["problem_id"]},
    )
    assert audited == 2


async def test_overdue_is_live_until_the_problem_is_rectified(client, session, registry):
    headers = await staff_headers(session, "county_staff", COUNTY)
    late = await _post(client, headers, found_on="2026-05-01", due_on=str(TODAY - DAY))
    due_today = await _post(client, headers, found_on="2026-05-01", due_on=str(TODAY))

    assert late["overdue"] is True and due_today["overdue"] is False
    assert [p["problem_id"] for p in await _list(client, headers, overdue="true")] == [
        late["problem_id"]
    ]
    assert [p["problem_id"] for p in await _list(client, headers, overdue="false")] == [
        due_today["problem_id"]
    ]

    response = await client.patch(
        f"{PROBLEMS}/{late['problem_id']}",
        json={"status": "rectified", "rectified_on": str(TODAY), "action": "已整改"},
        headers=headers,
    )
    assert response.json()["overdue"] is False
    assert await _list(client, headers, overdue="true") == []


async def test_the_list_filters_and_pages_newest_found_first(client, session, registry):
    campaign_id = await add_campaign(session)
    headers = await staff_headers(session, "county_staff", COUNTY)
    a = await _post(client, headers, found_on="2026-05-01", campaign_id=str(campaign_id))
    b = await _post(client, headers, found_on="2026-05-03", type="data_quality")
    c = await _post(client, headers, found_on="2026-05-02", region_code=FAR)
    d = await _post(client, headers, found_on="2026-05-04", region_code=TOWN)
    await client.patch(
        f"{PROBLEMS}/{b['problem_id']}",
        json={"status": "rectified", "rectified_on": "2026-05-05", "action": "已更正"},
        headers=headers,
    )

    def ids(items):
        return [i["problem_id"] for i in items]

    assert ids(await _list(client, headers)) == ids([d, b, c, a])
    assert ids(await _list(client, headers, status="rectified")) == ids([b])
    assert ids(await _list(client, headers, status="open")) == ids([d, c, a])
    assert ids(await _list(client, headers, type="data_quality")) == ids([b])
    assert ids(await _list(client, headers, campaign_id=str(campaign_id))) == ids([a])
    assert ids(await _list(client, headers, region=TOWN)) == ids([d, b, a])
    assert ids(await _list(client, headers, region=VILLAGE)) == ids([b, a])

    first = await client.get(PROBLEMS, params={"limit": 3}, headers=headers)
    rest = await client.get(
        PROBLEMS, params={"limit": 3, "cursor": first.json()["next_cursor"]}, headers=headers
    )
    assert ids(first.json()["items"]) == ids([d, b, c])
    assert ids(rest.json()["items"]) == ids([a]) and rest.json()["next_cursor"] is None
    bad = await client.get(PROBLEMS, params={"status": "closed"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "invalid_code"


async def test_staff_see_and_touch_only_problems_in_their_scope(client, session, registry):
    county = await staff_headers(session, "county_staff", COUNTY)
    ours = await _post(client, county)
    theirs = await _post(client, county, region_code=FAR)
    other_town = await staff_headers(session, "township_staff", OTHER_TOWN)
    one = f"{PROBLEMS}/{ours['problem_id']}"

    assert (await client.get(one, headers=other_town)).status_code == 404
    fix = {"status": "rectified", "rectified_on": "2026-05-19", "action": "已整改"}
    assert (await client.patch(one, json=fix, headers=other_town)).status_code == 404
    assert [p["problem_id"] for p in await _list(client, other_town)] == [theirs["problem_id"]]
    outside = await client.get(PROBLEMS, params={"region": TOWN}, headers=other_town)
    assert outside.status_code == 404
    created = await client.post(PROBLEMS, json=_body(), headers=other_town)
    assert created.status_code == 404


async def test_village_staff_record_problems_in_their_village_and_viewers_none(
    client, session, registry
):
    village_staff = await staff_headers(session, "village_staff", VILLAGE)
    viewer = await staff_headers(session, "viewer", COUNTY)

    own = await client.post(
        PROBLEMS, json=_body(household_id=registry[VILLAGE][1]), headers=village_staff
    )
    neighbour = await client.post(
        PROBLEMS, json=_body(region_code=NEIGHBOUR), headers=village_staff
    )

    assert own.status_code == 201
    assert neighbour.status_code == 404
    assert (await client.post(PROBLEMS, json=_body(), headers=viewer)).status_code == 403
    assert (await client.get(PROBLEMS, headers=viewer)).status_code == 403
    one = f"{PROBLEMS}/{own.json()['problem_id']}"
    assert (await client.get(one, headers=viewer)).status_code == 403


async def test_bad_input_is_refused_and_nothing_is_stored(client, session, registry):
    campaign_id = await add_campaign(session)
    town_campaign = await add_campaign(session, region=TOWN)
    headers = await staff_headers(session, "county_staff", COUNTY)
    unprocessable = {
        "type": (_body(type="flood"), "type", "invalid_code"),
        "due before found": (_body(due_on="2026-05-11"), "due_on", "invalid_date"),
        "found in future": (
            _body(found_on=str(TODAY + DAY), due_on=str(TODAY + 9 * DAY)),
            "found_on",
            "date_in_future",
        ),
        "unknown region": (_body(region_code=village(TOWN, 299)), "region_code", None),
        "malformed region": (_body(region_code="61032610020X"), "region_code", None),
        "city region": (_body(region_code="610300000000"), "region_code", None),
        "outside campaign": (
            _body(region_code=FAR, campaign_id=str(town_campaign)),
            "region_code",
            "outside_campaign",
        ),
        "empty description": (_body(description=""), "description", None),
        "missing due date": ({k: v for k, v in _body().items() if k != "due_on"}, "due_on", None),
    }
    for case, (body, field, code) in unprocessable.items():
        response = await client.post(PROBLEMS, json=body, headers=headers)
        assert response.status_code == 422, case
        errors = response.json()["errors"]
        assert errors[0]["field"] == field, case
        assert code is None or errors[0]["code"] == code, case
    not_found = {
        "household elsewhere": _body(household_id=registry[FAR][0]),
        "household unknown": _body(household_id="H-NOPE"),
        "campaign unknown": _body(campaign_id="00000000-0000-4000-8000-000000000000"),
    }
    for case, body in not_found.items():
        response = await client.post(PROBLEMS, json=body, headers=headers)
        assert response.status_code == 404, case
    assert await session.scalar(text("SELECT count(*) FROM problems")) == 0
    assert await _events(session, "problem.recorded") == []

    problem = await _post(client, headers, campaign_id=str(campaign_id))
    one = f"{PROBLEMS}/{problem['problem_id']}"
    bad_fixes = {
        "before found": ({"rectified_on": "2026-05-11", "action": "x"}, "invalid_date"),
        "in future": ({"rectified_on": str(TODAY + DAY), "action": "x"}, "date_in_future"),
        "blank action": ({"rectified_on": str(TODAY), "action": "   "}, "missing_field"),
        "no action": ({"rectified_on": str(TODAY)}, "missing_field"),
    }
    for case, (fix, code) in bad_fixes.items():
        response = await client.patch(one, json={"status": "rectified", **fix}, headers=headers)
        assert response.status_code == 422, case
        assert response.json()["errors"][0]["code"] == code, case
    reopen = await client.patch(
        one, json={"status": "open", "rectified_on": str(TODAY), "action": "x"}, headers=headers
    )
    assert reopen.status_code == 422
    stored = (await client.get(one, headers=headers)).json()
    assert (stored["status"], stored["rectified_on"], stored["action"]) == ("open", None, None)
    assert await _events(session, "problem.rectified") == []


async def test_a_problem_found_today_may_be_due_today(client, session, registry):
    headers = await staff_headers(session, "county_staff", COUNTY)
    problem = await _post(client, headers, found_on=str(TODAY), due_on=str(TODAY))
    assert problem["found_on"] == problem["due_on"] == TODAY.isoformat()
    assert problem["overdue"] is False
