"""The unmatched queue: `GET /ingest/v1/unmatched`, resolving a warning by hand,
and the re-match after a registry load (the `ingest.rematch` consumer)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.app import create_app
from services.warning_ingest.warnings.unmatched import REMATCH, REMATCH_ACTOR, rematch
from shared import clock
from shared.auth import issue_token
from shared.db import Database, get_session
from shared.policy import get_policy
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    TODAY,
    VILLAGE,
    department_headers,
    person,
    record,
    register,
    staff_headers,
)

UNMATCHED = "/ingest/v1/unmatched"
WARNINGS = "/ingest/v1/warnings"
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TOWNSHIP = "610326100000"
OTHER_COUNTY_VILLAGE = "610327100201"
# Odd sequence numbers: person(2k) and person(2k + 1) are the same man.
STRANGER = 7


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _rows(session, sql: str, **params):
    return (await session.execute(text(sql), params)).all()


async def push(client, headers, *records) -> list[str]:
    response = await client.post(BATCHES, json={"records": list(records)}, headers=headers)
    assert response.status_code == 201, response.text
    return [r["warning_id"] for r in response.json()["records"]]


async def push_stranger(client, session, *, department: str = "civil_affairs", **fields) -> str:
    """One warning about a person the registry does not know; its id."""
    warning_type = "high_medical_expense" if department == "medical_insurance" else "dibao"
    headers = await department_headers(session, department)
    [warning_id] = await push(client, headers, record(STRANGER, warning_type, **fields))
    return warning_id


async def county_staff(session) -> tuple[str, dict[str, str]]:
    """A county staff member's actor name and headers."""
    principal, token = await issue_token(
        session, kind="user", name="county", role="county_staff", region_code=COUNTY
    )
    return principal.actor, {"Authorization": f"Bearer {token}"}


async def warning_row(session, warning_id: str):
    [row] = await _rows(
        session,
        "SELECT status, household_id, region_code, county_code, resolution_reason, resolved_by"
        " FROM warnings WHERE warning_id = :id",
        id=warning_id,
    )
    return row


async def events_of(session, warning_id: str) -> list[tuple[str, dict]]:
    return [
        (t, p)
        for t, p in await _rows(
            session,
            "SELECT type, payload FROM events"
            " WHERE aggregate_type = 'warning' AND aggregate_id = :id ORDER BY id",
            id=warning_id,
        )
    ]


def resolve_url(warning_id: str) -> str:
    return f"{WARNINGS}/{warning_id}/resolve"


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


# ---------------------------------------------------- re-match after a load


async def test_registry_load_matches_the_waiting_warning_once(client, session):
    warning_id = await push_stranger(client, session)
    assert (await warning_row(session, warning_id))[:4] == ("unmatched", None, COUNTY, "610326")
    # The person lives in the next county: the warning moves with him.
    await register(session, "H-7", [STRANGER], region=OTHER_COUNTY_VILLAGE)

    policy = get_policy()
    assert await rematch(session, policy=policy, today=TODAY, actor=REMATCH_ACTOR) == 1
    assert (await warning_row(session, warning_id))[:4] == (
        "matched",
        "H-7",
        OTHER_COUNTY_VILLAGE,
        "610327",
    )
    [(source_county,)] = await _rows(
        session, "SELECT county_code FROM warning_sources WHERE warning_id = :id", id=warning_id
    )
    assert source_county == "610327"
    events = await events_of(session, warning_id)
    assert [t for t, _ in events] == ["warning.unmatched", "warning.accepted"]
    assert events[-1][1]["county_code"] == "610327"

    assert await rematch(session, policy=policy, today=TODAY, actor=REMATCH_ACTOR) == 0
    assert len(await events_of(session, warning_id)) == 2


async def test_rematch_applies_the_medical_threshold(client, session):
    warning_id = await push_stranger(
        client, session, department="medical_insurance", amount_yuan=100
    )
    await register(session, "H-7", [STRANGER])
    await rematch(session, policy=get_policy(), today=TODAY, actor=REMATCH_ACTOR)
    assert (await warning_row(session, warning_id))[0] == "below_threshold"
    assert [t for t, _ in await events_of(session, warning_id)][-1] == "warning.below_threshold"


async def test_rematch_leaves_dismissed_warnings_alone(client, session):
    warning_id = await push_stranger(client, session)
    _, headers = await county_staff(session)
    await client.post(
        resolve_url(warning_id), json={"action": "dismiss", "reason": "x"}, headers=headers
    )
    await register(session, "H-7", [STRANGER])
    assert await rematch(session, policy=get_policy(), today=TODAY, actor=REMATCH_ACTOR) == 0
    assert (await warning_row(session, warning_id))[0] == "dismissed"


# ------------------------------------------------ end to end, real commits


@pytest.fixture
async def api(fresh_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The combined app, each request in its own committed transaction on fresh_db."""
    application = create_app()

    async def request_session() -> AsyncIterator[AsyncSession]:
        async with fresh_db.transaction() as s:
            yield s

    for sub in application.state.services.values():
        sub.dependency_overrides[get_session] = request_session
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        yield c


async def test_rematch_consumer_matches_after_a_committed_load(api, fresh_db):
    async with fresh_db.transaction() as s:
        civil = await department_headers(s, "civil_affairs")
        staff = await staff_headers(s)
    [warning_id] = await push(api, civil, record(STRANGER))
    queue = (await api.get(UNMATCHED, headers=staff)).json()["items"]
    assert [w["warning_id"] for w in queue] == [warning_id]

    async with fresh_db.transaction() as s:
        await register(s, "H-7", [STRANGER])
    assert await REMATCH.drain(fresh_db) > 0

    assert (await api.get(UNMATCHED, headers=staff)).json()["items"] == []
    warning = (await api.get(f"{WARNINGS}/{warning_id}", headers=staff)).json()
    assert (warning["status"], warning["household_id"], warning["region_code"]) == (
        "matched",
        "H-7",
        VILLAGE,
    )
    async with fresh_db.transaction() as s:
        types = [t for t, _ in await events_of(s, warning_id)]
        assert types == ["warning.unmatched", "warning.accepted"]
        [(actor,)] = await _rows(
            s,
            "SELECT actor FROM events WHERE aggregate_id = :id AND type = 'warning.accepted'",
            id=warning_id,
        )
        assert actor == REMATCH_ACTOR

    # Nothing new to read, and a second pass over the queue changes nothing.
    assert await REMATCH.drain(fresh_db) == 0
    async with fresh_db.transaction() as s:
        assert await rematch(s, policy=get_policy(), today=TODAY, actor=REMATCH_ACTOR) == 0
        assert len(await events_of(s, warning_id)) == 2


# ------------------------------------------------------------- concurrency


async def _waiting_on_locks(db: Database, count: int) -> None:
    """Return once `count` other transactions of `db` wait for a row lock."""
    for _ in range(200):
        async with db.transaction() as s:
            waiting = await s.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{waiting} of {count} transactions reached the lock")


async def _holding_the_row(db: Database, warning_id: str, contenders: list[Awaitable[Any]]):
    """Run `contenders` while another transaction holds the warning's row
    lock, so that each has read the warning before any of them settles it."""
    async with db.transaction() as blocker:
        await blocker.execute(
            text("SELECT 1 FROM warnings WHERE warning_id = :id FOR UPDATE"), {"id": warning_id}
        )
        tasks = [asyncio.ensure_future(c) for c in contenders]
        await _waiting_on_locks(db, len(tasks))
    return await asyncio.gather(*tasks)


async def test_two_resolves_racing_settle_the_warning_once(api, fresh_db):
    async with fresh_db.transaction() as s:
        civil = await department_headers(s, "civil_affairs")
        staff = await staff_headers(s)
        await register(s, "H-2", [1])
    [warning_id] = await push(api, civil, record(STRANGER))
    dismiss = {"action": "dismiss", "reason": "重复"}
    match = {"action": "match", "household_id": "H-2"}
    responses = await _holding_the_row(
        fresh_db,
        warning_id,
        [api.post(resolve_url(warning_id), json=body, headers=staff) for body in (dismiss, match)],
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    [winner] = [r.json() for r in responses if r.status_code == 200]
    async with fresh_db.transaction() as s:
        types = [t for t, _ in await events_of(s, warning_id)]
        assert types[0] == "warning.unmatched" and len(types) == 2
        assert (await warning_row(s, warning_id))[0] == winner["status"]
        [(audits,)] = await _rows(
            s, "SELECT count(*) FROM audit_log WHERE action = 'warning.resolved'"
        )
        assert audits == 1


async def test_rematch_racing_a_dismissal_settles_the_warning_once(api, fresh_db):
    async with fresh_db.transaction() as s:
        civil = await department_headers(s, "civil_affairs")
        staff = await staff_headers(s)
    [warning_id] = await push(api, civil, record(STRANGER))
    async with fresh_db.transaction() as s:
        await register(s, "H-7", [STRANGER])

    async def rematch_committed() -> int:
        async with fresh_db.transaction() as s:
            return await rematch(s, policy=get_policy(), today=TODAY, actor=REMATCH_ACTOR)

    dismissed, matched = await _holding_the_row(
        fresh_db,
        warning_id,
        [
            api.post(
                resolve_url(warning_id), json={"action": "dismiss", "reason": "x"}, headers=staff
            ),
            rematch_committed(),
        ],
    )
    async with fresh_db.transaction() as s:
        types = [t for t, _ in await events_of(s, warning_id)]
        status = (await warning_row(s, warning_id))[0]
    assert len(types) == 2, types
    if dismissed.status_code == 200:
        assert (matched, status, types[1]) == (0, "dismissed", "warning.dismissed")
    else:
        assert dismissed.status_code == 409
        assert (matched, status, types[1]) == (1, "matched", "warning.accepted")
