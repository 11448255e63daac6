"""What a request refuses (SPEC §12), changing nothing when it does, and the
direct removal and rollback under one-level and longer chains."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared import clock
from tests.services.identification.id_helpers import TOWN, VILLAGE, staff_headers
from tests.services.identification.objects.test_monitoring_objects import add_object
from tests.services.identification.requests.request_helpers import (
    NOW,
    OBJECTS,
    REQUESTS,
    code,
    decide,
    events,
    file,
    object_row,
    requests_policy,
)

ROLLBACK = "/assistance/v1/monitoring_objects/{}/rollback"
REMOVAL = OBJECTS + "/{}/removal"
LONG = ["county", "city", "province"]


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def county(session):
    return await staff_headers(session, "county_staff")


@pytest.fixture
async def township(session):
    return await staff_headers(session, "township_staff", TOWN)


async def _requests(session) -> list[dict]:
    rows = await session.execute(
        text("SELECT kind, status, requested_by, chain FROM object_requests ORDER BY created_at")
    )
    return [dict(row) for row in rows.mappings()]


async def test_a_second_request_while_one_is_pending_is_refused(client, session, township):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    assert (await file(client, object_id, township)).status_code == 201
    before = (await object_row(session, object_id), await events(session))
    again = await file(client, object_id, township, kind="removal")
    assert (again.status_code, code(again)) == (409, "request_pending")
    assert (await object_row(session, object_id), await events(session)) == before
    assert len(await _requests(session)) == 1


@pytest.mark.parametrize(
    ("status", "kind"),
    [("removed", "rollback"), ("removed", "removal"), ("risk_not_eliminated", "rollback")],
)
async def test_a_request_the_status_does_not_allow_is_refused(
    client, session, township, status, kind
):
    object_id = await add_object(session, "H-1", status=status)
    refused = await file(client, object_id, township, kind=kind)
    assert (refused.status_code, code(refused)) == (409, "invalid_status")
    assert await events(session) == [] and await _requests(session) == []


@pytest.mark.parametrize(
    ("requested_on", "expected"),
    [("2026-11-24", "date_in_future"), ("2019-12-31", "date_out_of_range")],
)
async def test_a_request_dated_in_the_future_or_out_of_range_is_refused(
    client, session, township, requested_on, expected
):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    refused = await file(client, object_id, township, requested_on=requested_on)
    assert (refused.status_code, code(refused)) == (422, expected)
    assert await events(session) == [] and await _requests(session) == []


async def test_a_rollback_requested_before_the_elimination_is_refused(client, session, township):
    # The object's risk was eliminated on 2026-11-01.
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    before = await object_row(session, object_id)
    refused = await file(client, object_id, township, requested_on="2026-10-31")
    assert (refused.status_code, code(refused)) == (422, "before_elimination")
    assert refused.json()["errors"][0]["field"] == "requested_on"
    assert await events(session) == [] and await _requests(session) == []
    assert await object_row(session, object_id) == before
    # The day of the elimination itself is a valid request date.
    same_day = await file(client, object_id, township, requested_on="2026-11-01")
    assert same_day.status_code == 201, same_day.text


@pytest.mark.parametrize(
    ("decided_on", "expected"),
    [("2026-11-24", "date_in_future"), ("2026-11-19", "before_request")],
)
async def test_a_decision_in_the_future_or_before_the_request_changes_nothing(
    client, session, county, township, decided_on, expected
):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    request_id = (await file(client, object_id, township)).json()["request_id"]
    before = (await object_row(session, object_id), await events(session))
    refused = await decide(client, request_id, county, decided_on=decided_on)
    assert (refused.status_code, code(refused)) == (422, expected)
    assert (await object_row(session, object_id), await events(session)) == before
    assert (await client.get(f"{REQUESTS}/{request_id}", headers=county)).json()["status"] == (
        "pending"
    )


async def test_village_staff_file_nothing_and_township_staff_decide_nothing(
    client, session, township, county
):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    village = await staff_headers(session, "village_staff", VILLAGE)
    assert (await file(client, object_id, village)).status_code == 403
    request_id = (await file(client, object_id, county)).json()["request_id"]
    assert (await decide(client, request_id, township)).status_code == 403


async def test_free_text_with_control_characters_is_refused(client, session, township):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    refused = await file(client, object_id, township, reason="回退\x00")
    assert (refused.status_code, code(refused)) == (422, "invalid_value")


@pytest.mark.parametrize("kind", ["removal", "rollback"])
async def test_direct_change_under_a_longer_chain_needs_the_requests(
    client, session, county, tmp_path, kind
):
    status = "risk_eliminated" if kind == "rollback" else "risk_not_eliminated"
    object_id = await add_object(session, "H-1", status=status)
    url = (ROLLBACK if kind == "rollback" else REMOVAL).format(object_id)
    body = {"reason": "识别有误", "approved_by": "县乡村振兴局"}
    before = await object_row(session, object_id)
    with requests_policy(tmp_path / "policy.toml", **{kind: LONG}):
        refused = await client.post(url, json=body, headers=county)
    assert (refused.status_code, code(refused)) == (409, "approval_required")
    assert refused.json()["chain"] == LONG
    assert await object_row(session, object_id) == before
    assert await events(session) == [] and await _requests(session) == []


async def test_direct_removal_under_the_county_chain_records_an_approved_request(
    client, session, county
):
    object_id = await add_object(session, "H-1")
    body = {"reason": "识别有误", "approved_by": "县乡村振兴局"}
    removed = await client.post(REMOVAL.format(object_id), json=body, headers=county)
    assert removed.status_code == 200, removed.text
    [request] = await _requests(session)
    assert (request["kind"], request["status"]) == ("removal", "approved")
    assert [(s["level"], s["decision"], s["decided_on"]) for s in request["chain"]] == [
        ("county", "approved", "2026-11-23")
    ]
    assert await events(session) == [
        "monitoring_object.removed",
        "request.filed",
        "request.decided",
    ]
    listed = await client.get(REQUESTS, params={"kind": "removal"}, headers=county)
    assert listed.json()["items"][0]["object_id"] == object_id


async def test_direct_rollback_under_the_county_chain_records_an_approved_request(
    client, session, county
):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    rolled = await client.post(
        ROLLBACK.format(object_id), json={"reason": "因病返贫风险"}, headers=county
    )
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["status"] == "risk_not_eliminated"
    [request] = await _requests(session)
    assert (request["kind"], request["status"], len(request["chain"])) == (
        "rollback",
        "approved",
        1,
    )
    assert await events(session) == ["risk.rolled_back", "request.filed", "request.decided"]


async def test_direct_change_while_a_request_is_pending_is_refused(
    client, session, county, township
):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    await file(client, object_id, township, kind="removal")
    before = (await object_row(session, object_id), await events(session))
    refused = await client.post(
        ROLLBACK.format(object_id), json={"reason": "因病返贫风险"}, headers=county
    )
    assert (refused.status_code, code(refused)) == (409, "request_pending")
    assert (await object_row(session, object_id), await events(session)) == before
