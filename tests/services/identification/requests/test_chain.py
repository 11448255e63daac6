"""Requests upward (SPEC §12): a chain of levels decided in order, a rejection
ending it, the last approval applying a rollback or a removal."""

from __future__ import annotations

import pytest

from shared import clock
from tests.services.identification.id_helpers import TOWN, staff_headers
from tests.services.identification.objects.test_monitoring_objects import add_object
from tests.services.identification.requests.request_helpers import (
    NOW,
    REQUESTS,
    code,
    decide,
    events,
    file,
    object_row,
    requests_policy,
)

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


async def test_shipped_one_level_rollback_is_applied_by_the_county_approval(
    client, session, county, township
):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    filed = await file(client, object_id, township, evidence="乡镇汇总名单")
    assert filed.status_code == 201, filed.text
    request = filed.json()
    assert (request["status"], request["kind"], request["requested_on"]) == (
        "pending",
        "rollback",
        "2026-11-20",
    )
    assert request["chain"] == [
        {
            "level": "county",
            "decision": None,
            "decided_on": None,
            "document_no": None,
            "recorded_by": None,
            "notes": None,
        }
    ]
    assert (await object_row(session, object_id))["status"] == "risk_eliminated"

    decided = await decide(client, request["request_id"], county)
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] == "approved"
    assert body["chain"][0]["decision"] == "approved"
    assert body["chain"][0]["document_no"] == "county〔2026〕7号"
    row = await object_row(session, object_id)
    assert (row["status"], str(row["rolled_back_on"]), row["eliminated_on"]) == (
        "risk_not_eliminated",
        "2026-11-21",
        None,
    )
    assert row["rollback_reason"] == "因病返贫风险，申请回退"
    assert await events(session) == ["request.filed", "request.decided", "risk.rolled_back"]


async def test_three_level_removal_waits_for_the_province_and_keeps_the_order(
    client, session, county, township, tmp_path
):
    object_id = await add_object(session, "H-1")
    with requests_policy(tmp_path / "policy.toml", removal=LONG):
        filed = await file(client, object_id, township, kind="removal", reason="识别有误")
        request_id = filed.json()["request_id"]
        assert [step["level"] for step in filed.json()["chain"]] == LONG

        skipped = await decide(client, request_id, county, level="city")
        assert (skipped.status_code, code(skipped)) == (409, "level_out_of_order")
        assert skipped.json()["next_level"] == "county"

        assert (await decide(client, request_id, county)).json()["status"] == "pending"
        too_high = await decide(client, request_id, county, level="province")
        assert (too_high.status_code, code(too_high)) == (409, "level_out_of_order")
        city = await decide(client, request_id, county, level="city", decided_on="2026-11-22")
        assert city.json()["status"] == "pending"
        assert (await object_row(session, object_id))["status"] == "risk_not_eliminated"

        earlier = await decide(
            client, request_id, county, level="province", decided_on="2026-11-21"
        )
        assert (earlier.status_code, code(earlier)) == (422, "before_previous_level")
        last = await decide(client, request_id, county, level="province", decided_on="2026-11-23")
        assert last.status_code == 200, last.text
    assert last.json()["status"] == "approved"
    assert [step["decision"] for step in last.json()["chain"]] == ["approved"] * 3
    row = await object_row(session, object_id)
    assert (row["status"], str(row["removed_on"]), row["removal_reason"]) == (
        "removed",
        "2026-11-23",
        "识别有误",
    )
    assert row["removal_approved_by"] == "省级 province〔2026〕7号"
    assert await events(session) == [
        "request.filed",
        "request.decided",
        "request.decided",
        "request.decided",
        "monitoring_object.removed",
    ]


async def test_three_level_rollback_applies_at_the_last_level(
    client, session, county, township, tmp_path
):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    with requests_policy(tmp_path / "policy.toml", rollback=LONG):
        request_id = (await file(client, object_id, township)).json()["request_id"]
        for level in LONG[:-1]:
            await decide(client, request_id, county, level=level)
            assert (await object_row(session, object_id))["status"] == "risk_eliminated"
        last = await decide(client, request_id, county, level="province")
    assert last.json()["status"] == "approved"
    assert (await object_row(session, object_id))["status"] == "risk_not_eliminated"
    assert (await events(session))[-1] == "risk.rolled_back"


async def test_a_rejection_ends_the_request_and_changes_nothing(
    client, session, county, township, tmp_path
):
    object_id = await add_object(session, "H-1", status="risk_eliminated")
    with requests_policy(tmp_path / "policy.toml", rollback=LONG):
        request_id = (await file(client, object_id, township)).json()["request_id"]
        await decide(client, request_id, county)
        rejected = await decide(client, request_id, county, level="city", decision="rejected")
        assert rejected.json()["status"] == "rejected"
        assert [s["decision"] for s in rejected.json()["chain"]] == ["approved", "rejected", None]
        after = await decide(client, request_id, county, level="province")
        assert (after.status_code, code(after)) == (409, "request_closed")
        assert (await object_row(session, object_id))["status"] == "risk_eliminated"
        assert "risk.rolled_back" not in await events(session)
        # No longer pending: the township may ask again.
        assert (await file(client, object_id, township)).status_code == 201


async def test_requests_are_listed_by_status_and_kind_within_the_scope(
    client, session, county, township
):
    first = await add_object(session, "H-1", status="risk_eliminated")
    second = await add_object(session, "H-2")
    rollback = (await file(client, first, township)).json()
    removal = (await file(client, second, township, kind="removal")).json()
    await decide(client, removal["request_id"], county)

    def ids(response):
        assert response.status_code == 200, response.text
        return [item["request_id"] for item in response.json()["items"]]

    assert set(ids(await client.get(REQUESTS, headers=county))) == {
        rollback["request_id"],
        removal["request_id"],
    }
    pending = await client.get(REQUESTS, params={"status": "pending"}, headers=township)
    assert ids(pending) == [rollback["request_id"]]
    removals = await client.get(REQUESTS, params={"kind": "removal"}, headers=county)
    assert ids(removals) == [removal["request_id"]]
    paged = await client.get(REQUESTS, params={"limit": 1}, headers=county)
    rest = await client.get(
        REQUESTS, params={"limit": 1, "cursor": paged.json()["next_cursor"]}, headers=county
    )
    assert len(ids(paged) + ids(rest)) == 2 and set(ids(paged)) != set(ids(rest))
    bad = await client.get(REQUESTS, params={"status": "done"}, headers=county)
    assert (bad.status_code, code(bad)) == (422, "invalid_code")

    elsewhere = await staff_headers(session, "township_staff", "610326101000")
    assert ids(await client.get(REQUESTS, headers=elsewhere)) == []
    one = await client.get(f"{REQUESTS}/{rollback['request_id']}", headers=elsewhere)
    assert one.status_code == 404
    mine = await client.get(f"{REQUESTS}/{rollback['request_id']}", headers=township)
    assert mine.json()["object_id"] == first
