"""The unmatched queue: `GET /ingest/v1/unmatched` and resolving a warning by hand
(dismissing or matching it; who may, and when). The re-match after a registry
load and racing resolutions are in test_rematch_and_races."""

from __future__ import annotations

import orjson
import pytest

from shared import clock
from tests.services.warning_ingest.ingest_helpers import (
    COUNTY,
    VILLAGE,
    department_headers,
    person,
    record,
    register,
    staff_headers,
)
from tests.services.warning_ingest.warnings.unmatched_helpers import (
    NOW,
    OTHER_COUNTY_VILLAGE,
    STRANGER,
    TOWNSHIP,
    UNMATCHED,
    WARNINGS,
    _rows,
    county_staff,
    events_of,
    push,
    push_stranger,
    resolve_url,
    warning_row,
)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


# ---------------------------------------------------------------- the queue


async def test_unmatched_lists_only_unmatched_warnings_in_scope(client, session):
    await register(session, "H-1", [1])
    civil = await department_headers(session, "civil_affairs")
    matched, stranger = await push(client, civil, record(1), record(STRANGER))
    [other_county] = await push(client, civil, record(9, region_code=OTHER_COUNTY_VILLAGE))

    response = await client.get(UNMATCHED, headers=await staff_headers(session))
    assert response.status_code == 200
    assert [w["warning_id"] for w in response.json()["items"]] == [stranger]
    assert response.json()["items"][0]["status"] == "unmatched"
    assert response.json()["items"][0]["region_code"] == COUNTY
    everything = await client.get(WARNINGS, headers=await staff_headers(session))
    assert matched in {w["warning_id"] for w in everything.json()["items"]}
    other = await staff_headers(session, "county_staff", "610327000000")
    listed = (await client.get(UNMATCHED, headers=other)).json()["items"]
    assert [w["warning_id"] for w in listed] == [other_county]


async def test_unmatched_in_a_village_is_visible_to_its_village_staff_only(client, session):
    warning_id = await push_stranger(client, session, region_code=VILLAGE)
    village = await staff_headers(session, "village_staff", VILLAGE)
    listed = (await client.get(UNMATCHED, headers=village)).json()["items"]
    assert [w["warning_id"] for w in listed] == [warning_id]
    neighbour = await staff_headers(session, "village_staff", "610326100202")
    assert (await client.get(UNMATCHED, headers=neighbour)).json()["items"] == []


async def test_unmatched_region_outside_the_scope_is_not_found(client, session):
    await push_stranger(client, session)
    other = await staff_headers(session, "county_staff", "610327000000")
    response = await client.get(UNMATCHED, params={"region": COUNTY}, headers=other)
    assert response.status_code == 404


async def test_unmatched_queue_is_for_staff_only(client, session):
    headers = await department_headers(session, "civil_affairs")
    assert (await client.get(UNMATCHED, headers=headers)).status_code == 403
    assert (await client.get(UNMATCHED)).status_code == 401


async def test_unplaced_record_lands_in_the_registrys_only_county(client, session):
    # A person born elsewhere (division 610402, unknown to the registry), no
    # region given, and a registry that holds one county: the warning is
    # that county's to resolve.
    await register(session, "H-1", [1])
    headers = await department_headers(session, "civil_affairs")
    [warning_id] = await push(client, headers, {**record(9), "id_number": person(9, "610402")})
    assert (await warning_row(session, warning_id))[:4] == ("unmatched", None, COUNTY, "610326")
    listed = (await client.get(UNMATCHED, headers=await staff_headers(session))).json()["items"]
    assert [w["warning_id"] for w in listed] == [warning_id]


# ---------------------------------------------------------------- dismissing


async def test_dismissing_with_a_reason_settles_announces_and_audits(client, session):
    warning_id = await push_stranger(client, session)
    actor, headers = await county_staff(session)
    response = await client.post(
        resolve_url(warning_id),
        json={"action": "dismiss", "reason": "户籍已迁出本县"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["warning_id"], body["status"]) == (warning_id, "dismissed")
    assert body["resolution_reason"] == "户籍已迁出本县"
    status, _, _, _, reason, resolved_by = await warning_row(session, warning_id)
    assert (status, reason, resolved_by) == ("dismissed", "户籍已迁出本县", actor)

    events = await events_of(session, warning_id)
    assert [t for t, _ in events] == ["warning.unmatched", "warning.dismissed"]
    payload = orjson.dumps(events[-1][1]).decode()
    assert events[-1][1]["status"] == "dismissed"
    assert "张三" not in payload and person(STRANGER) not in payload
    assert person(STRANGER)[-4:] not in payload

    [(audit_actor, details)] = await _rows(
        session,
        "SELECT actor, details FROM audit_log"
        " WHERE action = 'warning.resolved' AND target_type = 'warning' AND target_id = :id",
        id=warning_id,
    )
    assert audit_actor == actor
    assert details == {"action": "dismiss"}

    queue = (await client.get(UNMATCHED, headers=headers)).json()["items"]
    assert queue == []


@pytest.mark.parametrize("body", [{"action": "dismiss"}, {"action": "dismiss", "reason": "  "}])
async def test_dismissing_without_a_reason_is_refused(client, session, body):
    warning_id = await push_stranger(client, session)
    _, headers = await county_staff(session)
    response = await client.post(resolve_url(warning_id), json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].endswith("reason")
    assert (await warning_row(session, warning_id))[0] == "unmatched"
    assert [t for t, _ in await events_of(session, warning_id)] == ["warning.unmatched"]


@pytest.mark.parametrize("reason", ["重复\u0000推送", "\u0007"])
async def test_a_reason_with_nul_or_a_control_character_is_a_422_not_a_500(client, session, reason):
    warning_id = await push_stranger(client, session)
    _, headers = await county_staff(session)
    body = {"action": "dismiss", "reason": reason}
    response = await client.post(resolve_url(warning_id), json=body, headers=headers)
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("reason", "invalid_value")
    ]
    assert "推送" not in response.text
    assert (await warning_row(session, warning_id))[0] == "unmatched"


# ------------------------------------------------------------------ matching


async def test_matching_to_a_household_in_scope_moves_it_there_and_opens_a_clue(client, session):
    await register(session, "H-2", [1])
    warning_id = await push_stranger(client, session)
    actor, headers = await county_staff(session)
    response = await client.post(
        resolve_url(warning_id), json={"action": "match", "household_id": "H-2"}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["household_id"], body["region_code"]) == (
        "matched",
        "H-2",
        VILLAGE,
    )
    assert (await warning_row(session, warning_id))[:4] == ("matched", "H-2", VILLAGE, "610326")
    events = await events_of(session, warning_id)
    assert [t for t, _ in events] == ["warning.unmatched", "warning.accepted"]
    assert events[-1][1]["household_id"] == "H-2"
    assert events[-1][1]["region_code"] == VILLAGE
    [(details,)] = await _rows(
        session,
        "SELECT details FROM audit_log WHERE action = 'warning.resolved' AND actor = :actor",
        actor=actor,
    )
    assert details == {"action": "match", "household_id": "H-2"}


async def test_matching_a_medical_expense_under_the_threshold_opens_nothing(client, session):
    await register(session, "H-2", [1])
    warning_id = await push_stranger(
        client, session, department="medical_insurance", amount_yuan=100
    )
    _, headers = await county_staff(session)
    response = await client.post(
        resolve_url(warning_id), json={"action": "match", "household_id": "H-2"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "below_threshold"
    assert [t for t, _ in await events_of(session, warning_id)] == [
        "warning.unmatched",
        "warning.below_threshold",
    ]


@pytest.mark.parametrize("household_id", ["H-9", "H-404"])
async def test_matching_to_a_household_outside_the_scope_or_unknown_changes_nothing(
    client, session, household_id
):
    await register(session, "H-1", [1])
    await register(session, "H-9", [3], region=OTHER_COUNTY_VILLAGE)
    warning_id = await push_stranger(client, session)
    _, headers = await county_staff(session)
    response = await client.post(
        resolve_url(warning_id),
        json={"action": "match", "household_id": household_id},
        headers=headers,
    )
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["invalid_household_id"]
    assert await warning_row(session, warning_id) == (
        "unmatched",
        None,
        COUNTY,
        "610326",
        None,
        None,
    )
    assert [t for t, _ in await events_of(session, warning_id)] == ["warning.unmatched"]
    [(audits,)] = await _rows(
        session, "SELECT count(*) FROM audit_log WHERE action = 'warning.resolved'"
    )
    assert audits == 0


# ------------------------------------------------------------ who and when


async def test_resolving_a_matched_warning_is_a_conflict(client, session):
    await register(session, "H-1", [1])
    [warning_id] = await push(client, await department_headers(session, "civil_affairs"), record(1))
    _, headers = await county_staff(session)
    response = await client.post(
        resolve_url(warning_id), json={"action": "dismiss", "reason": "重复"}, headers=headers
    )
    assert response.status_code == 409
    assert (await warning_row(session, warning_id))[0] == "matched"


async def test_resolving_a_dismissed_warning_again_is_a_conflict(client, session):
    await register(session, "H-2", [1])
    warning_id = await push_stranger(client, session)
    _, headers = await county_staff(session)
    first = await client.post(
        resolve_url(warning_id), json={"action": "dismiss", "reason": "重复"}, headers=headers
    )
    assert first.status_code == 200
    for body in (
        {"action": "dismiss", "reason": "again"},
        {"action": "match", "household_id": "H-2"},
    ):
        response = await client.post(resolve_url(warning_id), json=body, headers=headers)
        assert response.status_code == 409
    assert (await warning_row(session, warning_id))[0] == "dismissed"
    assert [t for t, _ in await events_of(session, warning_id)] == [
        "warning.unmatched",
        "warning.dismissed",
    ]


@pytest.mark.parametrize(
    ("role", "region"),
    [
        ("township_staff", TOWNSHIP),
        ("village_staff", VILLAGE),
        ("township_staff", "610327100000"),
    ],
)
@pytest.mark.parametrize("placed_in", [None, VILLAGE])
async def test_only_county_staff_may_resolve(client, session, role, region, placed_in):
    fields = {} if placed_in is None else {"region_code": placed_in}
    warning_id = await push_stranger(client, session, **fields)
    headers = await staff_headers(session, role, region)
    response = await client.post(
        resolve_url(warning_id), json={"action": "dismiss", "reason": "x"}, headers=headers
    )
    assert response.status_code == 403
    assert (await warning_row(session, warning_id))[0] == "unmatched"


async def test_department_clients_may_not_resolve(client, session):
    warning_id = await push_stranger(client, session)
    headers = await department_headers(session, "civil_affairs")
    response = await client.post(
        resolve_url(warning_id), json={"action": "dismiss", "reason": "x"}, headers=headers
    )
    assert response.status_code == 403


async def test_resolving_a_warning_of_another_county_is_not_found(client, session):
    warning_id = await push_stranger(client, session)
    other = await staff_headers(session, "county_staff", "610327000000")
    response = await client.post(
        resolve_url(warning_id), json={"action": "dismiss", "reason": "x"}, headers=other
    )
    assert response.status_code == 404
