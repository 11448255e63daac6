"""`GET /ingest/v1/feedback`: a department follows its own warnings through the
event log. Most tests need real commits (the feed reads only below the oldest
running transaction), so they run on `fresh_db`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.app import create_app
from shared.auth import issue_token
from shared.db import Database, get_session

FEEDBACK = "/ingest/v1/feedback"
COUNTY = "610326"
VILLAGE = "610326100201"
MEDICAL = "medical_insurance"
CIVIL = "civil_affairs"
TYPES = {MEDICAL: "high_medical_expense", CIVIL: "dibao"}


# ------------------------------------------------------------------ fixtures


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


async def client_headers(db: Database, department: str) -> dict[str, str]:
    async with db.transaction() as s:
        _, token = await issue_token(s, kind="client", name=department, department=department)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def medical(fresh_db: Database) -> dict[str, str]:
    return await client_headers(fresh_db, MEDICAL)


@pytest.fixture
async def civil(fresh_db: Database) -> dict[str, str]:
    return await client_headers(fresh_db, CIVIL)


# ------------------------------------------------------------ rows and events

_INSERT_WARNING = text(
    "INSERT INTO warnings (county_code, warning_id, department, warning_type,"
    " source_record_id, batch_id, batch_index, id_hash, id_sealed, id_masked, name,"
    " region_code, received_at, received_on, status, late, name_mismatch)"
    " VALUES (:county, :warning_id, :department, :warning_type, :source_record_id,"
    " gen_random_uuid(), 0, '\\x00'::bytea, '\\x00'::bytea, '610326********123X', '张三',"
    " :region, now(), current_date, :status, false, false)"
)
_INSERT_EVENT = text(
    "INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
    " VALUES (:county, :type, :aggregate_type, :aggregate_id, 'test', CAST(:payload AS jsonb))"
)


async def add_warning(
    db: Database, source_record_id: str, department: str = MEDICAL, status: str = "matched"
) -> uuid.UUID:
    warning_id = uuid.uuid4()
    async with db.transaction() as s:
        await s.execute(
            _INSERT_WARNING,
            {
                "county": COUNTY,
                "warning_id": warning_id,
                "department": department,
                "warning_type": TYPES[department],
                "source_record_id": source_record_id,
                "region": VILLAGE,
                "status": status,
            },
        )
    return warning_id


def warning_event(
    warning_id: uuid.UUID, department: str = MEDICAL, *, type: str, status: str
) -> dict[str, Any]:
    payload = {
        "warning_id": str(warning_id),
        "department": department,
        "warning_type": TYPES[department],
        "status": status,
        "household_id": None,
        "county_code": COUNTY,
        "region_code": VILLAGE,
        "event_date": None,
        "received_on": "2026-11-20",
        "late": False,
    }
    return {"type": type, "aggregate": ("warning", str(warning_id)), "payload": payload}


def accepted(warning_id: uuid.UUID, department: str = MEDICAL) -> dict[str, Any]:
    return warning_event(warning_id, department, type="warning.accepted", status="matched")


def case_event(type: str, case: uuid.UUID, **payload: Any) -> dict[str, Any]:
    payload = {"case_id": str(case), **payload}
    return {"type": type, "aggregate": ("case", str(case)), "payload": payload}


def attached(type: str, case_id: uuid.UUID, *warning_ids: uuid.UUID) -> dict[str, Any]:
    ids = [str(w) for w in warning_ids]
    return case_event(type, case_id, household_id="H-1", warning_ids=ids)


def decided(case_id: uuid.UUID, outcome: str) -> dict[str, Any]:
    return case_event("case.decided", case_id, outcome=outcome)


async def insert_events(s: AsyncSession, *events: dict[str, Any]) -> None:
    for event in events:
        aggregate_type, aggregate_id = event["aggregate"]
        await s.execute(
            _INSERT_EVENT,
            {
                "county": COUNTY,
                "type": event["type"],
                "aggregate_type": aggregate_type,
                "aggregate_id": aggregate_id,
                "payload": orjson.dumps(event["payload"]).decode(),
            },
        )


async def commit_each(db: Database, *events: dict[str, Any]) -> None:
    """Each event in its own committed transaction (so each has its own xid)."""
    for event in events:
        async with db.transaction() as s:
            await insert_events(s, event)


# ------------------------------------------------------------------- polling


async def poll(
    api: httpx.AsyncClient, headers: dict[str, str], cursor: str | None = None, limit: int = 50
) -> tuple[list[dict[str, Any]], str]:
    params: dict[str, Any] = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    response = await api.get(FEEDBACK, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["next_cursor"], str)
    return body["items"], body["next_cursor"]


async def poll_until(
    api: httpx.AsyncClient, headers: dict[str, str], count: int, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    """Poll until `count` items show. A writing transaction anywhere on the server
    holds the horizon back for a moment; that is the design, so wait it out."""
    async with asyncio.timeout(10):
        while True:
            items, next_cursor = await poll(api, headers, cursor, limit=500)
            if len(items) >= count:
                return items, next_cursor
            await asyncio.sleep(0.02)


def brief(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(i["source_record_id"], i["status"], i["case_id"], i["outcome"]) for i in items]


# --------------------------------------------------------------------- tests


async def test_a_department_sees_only_its_own_warnings_changes_in_order(
    api, fresh_db, medical, civil
):
    a = await add_warning(fresh_db, "M-1")
    b = await add_warning(fresh_db, "M-2", status="unmatched")
    c = await add_warning(fresh_db, "C-1", department=CIVIL)
    case = uuid.uuid4()
    await commit_each(
        fresh_db,
        accepted(a),
        accepted(c, CIVIL),
        warning_event(b, type="warning.unmatched", status="unmatched"),
        attached("case.opened", case, a, c),
    )

    items, _ = await poll_until(api, medical, 3)
    assert brief(items) == [
        ("M-1", "matched", None, None),
        ("M-2", "unmatched", None, None),
        ("M-1", "matched", str(case), None),
    ]
    assert [i["warning_id"] for i in items] == [str(a), str(b), str(a)]
    assert all(i["changed_at"] for i in items)
    theirs, _ = await poll_until(api, civil, 2)
    assert brief(theirs) == [("C-1", "matched", None, None), ("C-1", "matched", str(case), None)]


async def test_paging_returns_each_item_once_and_the_last_cursor_only_what_came_since(
    api, fresh_db, medical
):
    warnings = [await add_warning(fresh_db, f"M-{n}") for n in range(5)]
    # One event with three items: a page may end inside it.
    await commit_each(
        fresh_db,
        *(accepted(w) for w in warnings),
        attached("case.opened", uuid.uuid4(), *warnings[:3]),
    )
    everything, _ = await poll_until(api, medical, 8)

    pages, cursor = [], None
    while True:
        items, cursor = await poll(api, medical, cursor, limit=3)
        pages.extend(items)
        if len(items) < 3:
            break
    assert pages == everything
    assert await poll(api, medical, cursor) == ([], cursor)

    late = await add_warning(fresh_db, "M-late")
    await commit_each(fresh_db, accepted(late))
    items, _ = await poll_until(api, medical, 1, cursor)
    assert brief(items) == [("M-late", "matched", None, None)]
    first_page, _ = await poll(api, medical, limit=3)
    assert first_page == everything[:3]  # a replayed page gives the same items


async def test_next_cursor_is_never_null_even_before_anything_happened(api, fresh_db, medical):
    items, cursor = await poll(api, medical)
    assert items == []
    assert await poll(api, medical, cursor) == ([], cursor)

    # Other departments' events move the cursor on without showing anything.
    other = await add_warning(fresh_db, "C-1", department=CIVIL)
    await commit_each(fresh_db, accepted(other, CIVIL))
    async with asyncio.timeout(10):
        while (page := await poll(api, medical, cursor))[1] == cursor:
            assert page[0] == []
            await asyncio.sleep(0.02)
    items, past_other = page
    assert items == []

    mine = await add_warning(fresh_db, "M-1")
    await commit_each(fresh_db, accepted(mine))
    items, _ = await poll_until(api, medical, 1, past_other)
    assert brief(items) == [("M-1", "matched", None, None)]


async def test_a_decided_case_shows_its_outcome_for_every_warning_of_the_case(
    api, fresh_db, medical, civil
):
    a = await add_warning(fresh_db, "M-1")
    b = await add_warning(fresh_db, "M-2")
    c = await add_warning(fresh_db, "C-1", department=CIVIL)
    case = uuid.uuid4()
    await commit_each(
        fresh_db,
        attached("case.opened", case, a, c),
        attached("case.warnings_attached", case, b),
        decided(case, "included"),
    )

    items, _ = await poll_until(api, medical, 4)
    decisions = items[2:]
    assert sorted(i["warning_id"] for i in decisions) == sorted([str(a), str(b)])
    assert {(i["status"], i["case_id"], i["outcome"]) for i in decisions} == {
        ("matched", str(case), "included")
    }
    theirs, _ = await poll_until(api, civil, 2)
    assert brief(theirs)[-1] == ("C-1", "matched", str(case), "included")


async def test_a_dismissed_warning_shows_outcome_dismissed(api, fresh_db, medical):
    w = await add_warning(fresh_db, "M-1", status="dismissed")
    await commit_each(
        fresh_db,
        warning_event(w, type="warning.unmatched", status="unmatched"),
        warning_event(w, type="warning.dismissed", status="dismissed"),
    )
    items, _ = await poll_until(api, medical, 2)
    assert brief(items) == [
        ("M-1", "unmatched", None, None),
        ("M-1", "dismissed", None, "dismissed"),
    ]


async def test_an_event_of_a_still_open_transaction_is_not_shown_and_not_skipped_later(
    api, fresh_db, medical
):
    first, slow, quick = [await add_warning(fresh_db, f"M-{n}") for n in range(3)]
    await commit_each(fresh_db, accepted(first))
    _, cursor = await poll_until(api, medical, 1)

    async with fresh_db.sessionmaker() as open_tx:
        await insert_events(open_tx, accepted(slow))  # takes the lower xid, commits last
        await commit_each(fresh_db, accepted(quick))
        items, cursor = await poll(api, medical, cursor)
        assert items == []
        await open_tx.commit()

    items, _ = await poll_until(api, medical, 2, cursor)
    assert brief(items) == [("M-1", "matched", None, None), ("M-2", "matched", None, None)]


# ---------------------------------------------------------------------- auth


async def test_feedback_needs_a_token(client):
    response = await client.get(FEEDBACK)
    assert response.status_code == 401


async def test_feedback_is_for_department_clients_not_staff(client, session):
    _, token = await issue_token(
        session, kind="user", name="县", role="county_staff", region_code="610326000000"
    )
    response = await client.get(FEEDBACK, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


async def test_a_cursor_feedback_did_not_give_is_422(client, session):
    _, token = await issue_token(session, kind="client", name="医保", department=MEDICAL)
    response = await client.get(
        FEEDBACK,
        params={"cursor": "bm90LWEtY3Vyc29y"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422
    assert [e["code"] for e in response.json()["errors"]] == ["invalid_cursor"]
