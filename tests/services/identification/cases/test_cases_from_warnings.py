"""The `identification.cases` consumer: every accepted warning opens its
household's case or joins the open one (SPEC §4, API.md precise rules)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.opening import CASES_FROM_WARNINGS, open_cases_for_warnings
from shared import clock
from shared.db import Database, get_session
from shared.event_types import WARNING_ACCEPTED
from shared.events import EventRecord, position
from tests.services.identification.id_helpers import CASES, staff_headers
from tests.services.warning_ingest.ingest_helpers import BATCHES, department_headers, record
from tests.services.warning_ingest.ingest_helpers import register as register_household

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
RECEIVED_ON = date(2026, 11, 23)
ACTOR = "system:identification"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


_EVENTS = text(
    "SELECT id, xid, county_code, type, aggregate_type, aggregate_id,"
    " actor, occurred_at, payload FROM events WHERE id > :after ORDER BY id"
)


async def warning_events(session: AsyncSession, after: int = 0) -> list[EventRecord]:
    """The warning events since event `after`, as the consumer gets them."""
    rows = await session.execute(_EVENTS, {"after": after})
    return [
        EventRecord(**row._mapping)
        for row in rows
        if row.type in CASES_FROM_WARNINGS.types  # type: ignore[operator]
    ]


async def last_event_id(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT coalesce(max(id), 0) FROM events")) or 0)


async def push(client: Any, headers: dict[str, str], records: list[dict]) -> dict:
    response = await client.post(BATCHES, json={"records": records}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def consume(session: AsyncSession, events: list[EventRecord]) -> int:
    return await open_cases_for_warnings(session, events, decision_days=15, actor=ACTOR)


async def cases(session: AsyncSession) -> dict[str, dict]:
    rows = await session.execute(
        text(
            "SELECT c.household_id, c.case_id, c.source, c.opened_on, c.deadline, c.state,"
            " array(SELECT w.warning_id::text FROM case_warnings w WHERE w.case_id = c.case_id"
            "       ORDER BY 1) AS warning_ids"
            " FROM cases c"
        )
    )
    return {r.household_id: dict(r._mapping) for r in rows}


async def case_events(session: AsyncSession) -> list[tuple[str, str, list[str]]]:
    rows = await session.execute(
        text(
            "SELECT type, aggregate_id, payload FROM events"
            " WHERE aggregate_type = 'case' ORDER BY id"
        )
    )
    return [(r.type, r.aggregate_id, sorted(r.payload["warning_ids"])) for r in rows]


def warning_ids(receipt: dict, *indexes: int) -> list[str]:
    return sorted(receipt["records"][i]["warning_id"] for i in indexes)


# ------------------------------------------------------------------ opening


async def test_one_case_per_household_however_many_warnings(client, session):
    await register_household(session, "H-1", [1, 2])
    await register_household(session, "H-2", [3])
    headers = await department_headers(session, "civil_affairs")
    receipt = await push(client, headers, [record(1), record(2), record(3)])

    events = await warning_events(session)
    assert [e.type for e in events] == [WARNING_ACCEPTED] * 3
    assert await consume(session, events) == 2

    opened = await cases(session)
    assert set(opened) == {"H-1", "H-2"}
    assert opened["H-1"]["warning_ids"] == warning_ids(receipt, 0, 1)
    assert opened["H-2"]["warning_ids"] == warning_ids(receipt, 2)
    for case in opened.values():
        assert case["source"] == "department_warning"
        assert case["state"] == "open"
        assert case["opened_on"] == RECEIVED_ON
        assert case["deadline"] == date(2026, 12, 8)
    assert sorted(await case_events(session)) == sorted(
        [
            ("case.opened", str(opened["H-1"]["case_id"]), warning_ids(receipt, 0, 1)),
            ("case.opened", str(opened["H-2"]["case_id"]), warning_ids(receipt, 2)),
        ]
    )


async def test_the_clock_starts_on_the_local_day_the_warning_was_received(client, session):
    await register_household(session, "H-1", [1])
    headers = await department_headers(session, "civil_affairs")
    # 01:00 on 11-24 in Shanghai, still 11-23 in UTC.
    with clock.frozen_at(datetime(2026, 11, 23, 17, 0, tzinfo=UTC)):
        await push(client, headers, [record(1)])
    await consume(session, await warning_events(session))

    case = (await cases(session))["H-1"]
    assert (case["opened_on"], case["deadline"]) == (date(2026, 11, 24), date(2026, 12, 9))


async def test_the_opened_case_is_listed_with_its_warnings(client, session):
    await register_household(session, "H-1", [1])
    receipt = await push(client, await department_headers(session, "civil_affairs"), [record(1)])
    await consume(session, await warning_events(session))

    staff = await staff_headers(session, "county_staff")
    body = (await client.get(CASES, headers=staff, params={"state": "open"})).json()
    [case] = body["items"]
    assert case["source"] == "department_warning"
    assert (case["opened_on"], case["deadline"], case["days_left"]) == (
        "2026-11-23",
        "2026-12-08",
        15,
    )
    assert case["warning_ids"] == warning_ids(receipt, 0)


# ------------------------------------------------------------------ joining


async def test_a_new_warning_joins_the_households_open_case(client, session):
    await register_household(session, "H-1", [1, 2])
    headers = await department_headers(session, "civil_affairs")
    first = await push(client, headers, [record(1)])
    await consume(session, await warning_events(session))
    mark = await last_event_id(session)

    second = await push(client, headers, [record(2, "tekun")])
    assert await consume(session, await warning_events(session, after=mark)) == 0

    [case] = (await cases(session)).values()
    assert case["warning_ids"] == sorted(warning_ids(first, 0) + warning_ids(second, 0))
    assert (await case_events(session))[-1] == (
        "case.warnings_attached",
        str(case["case_id"]),
        warning_ids(second, 0),
    )


async def test_redelivered_events_open_and_attach_nothing_twice(client, session):
    await register_household(session, "H-1", [1])
    await register_household(session, "H-2", [2])
    headers = await department_headers(session, "civil_affairs")
    await push(client, headers, [record(1), record(2)])
    events = await warning_events(session)
    await consume(session, events)
    before = (await cases(session), await case_events(session))

    assert await consume(session, events) == 0
    assert await consume(session, events[:1]) == 0

    assert (await cases(session), await case_events(session)) == before


async def test_warnings_below_threshold_or_unmatched_open_nothing(client, session):
    await register_household(session, "H-LOW", [1])
    await register_household(session, "H-HIGH", [2])
    headers = await department_headers(session, "medical_insurance")
    receipt = await push(
        client,
        headers,
        [
            record(1, "high_medical_expense", amount_yuan=1000),
            record(2, "high_medical_expense", amount_yuan=50000),
            record(99, "high_medical_expense", amount_yuan=50000),  # not in the registry
        ],
    )
    assert receipt["accepted"] == 3

    all_types = (await session.execute(text("SELECT type FROM events ORDER BY id"))).scalars()
    assert "warning.below_threshold" in set(all_types)
    await consume(session, await warning_events(session))

    assert set(await cases(session)) == {"H-HIGH"}


# ------------------------------------------------------------------ end to end


@pytest.fixture
async def fresh_client(fresh_db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The apps on `fresh_db`, each request in its own committed transaction."""
    from services.app import create_app

    async def fresh_session() -> AsyncIterator[AsyncSession]:
        async with fresh_db.transaction() as session:
            yield session

    application = create_app()
    for sub in application.state.services.values():
        sub.dependency_overrides[get_session] = fresh_session
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        yield c


async def drain(db: Database) -> None:
    """Drain until the consumer has passed the last event (a writing transaction
    elsewhere on the server may hold it back for a moment)."""
    async with db.transaction() as s:
        last = await s.execute(
            text("SELECT xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1")
        )
        target = tuple(last.one())
    async with asyncio.timeout(10):
        while await position(db, CASES_FROM_WARNINGS.name) < target:
            await CASES_FROM_WARNINGS.drain(db)
            await asyncio.sleep(0.01)


async def test_pushed_warnings_become_cases_through_the_consumer(fresh_db, fresh_client):
    async with fresh_db.transaction() as session:
        await register_household(session, "H-1", [1, 2])
        await register_household(session, "H-2", [3])
        headers = await department_headers(session, "civil_affairs")
    response = await fresh_client.post(
        BATCHES, json={"records": [record(1), record(2), record(3), record(4)]}, headers=headers
    )
    assert response.json()["accepted"] == 4  # the fourth person is unmatched

    await drain(fresh_db)
    await drain(fresh_db)  # nothing new: nothing changes

    async with fresh_db.transaction() as session:
        opened = await cases(session)
        events = await case_events(session)
    assert {h: len(c["warning_ids"]) for h, c in opened.items()} == {"H-1": 2, "H-2": 1}
    assert sorted(t for t, _, _ in events) == ["case.opened", "case.opened"]
