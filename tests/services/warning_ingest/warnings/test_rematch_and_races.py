"""The re-match after a registry load (the `ingest.rematch` consumer), end to end
with real commits, and resolutions racing each other or a re-match."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.app import create_app
from services.warning_ingest.warnings.unmatched import REMATCH, REMATCH_ACTOR, rematch
from shared import clock
from shared.db import Database, get_session
from shared.policy import get_policy
from tests.services.warning_ingest.ingest_helpers import (
    COUNTY,
    TODAY,
    VILLAGE,
    department_headers,
    record,
    register,
    staff_headers,
)
from tests.services.warning_ingest.warnings.unmatched_helpers import (
    NOW,
    OTHER_COUNTY_VILLAGE,
    STRANGER,
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
