"""The `ingest.case-outcomes` consumer keeps warnings' case_id and outcome
current from identification's case events (real commits on `fresh_db`)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
from sqlalchemy import text

from services.warning_ingest.feedback.case_outcomes import CASE_OUTCOMES, apply_case_events
from shared.db import Database
from shared.events import EventRecord, position

COUNTY = "610326"

_INSERT_WARNING = text(
    "INSERT INTO warnings (county_code, warning_id, department, warning_type,"
    " source_record_id, batch_id, batch_index, id_hash, id_sealed, id_masked, name,"
    " region_code, received_at, received_on, status, late, name_mismatch)"
    " VALUES (:county, :warning_id, 'medical_insurance', 'high_medical_expense', :source,"
    " gen_random_uuid(), 0, '\\x00'::bytea, '\\x00'::bytea, '610326********123X', '张三',"
    " '610326100201', now(), current_date, 'matched', false, false)"
)
_INSERT_EVENT = text(
    "INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
    " VALUES (:county, :type, 'case', :case_id, 'test', CAST(:payload AS jsonb))"
)
_STATE = text("SELECT warning_id, case_id, outcome, xmin::text AS version FROM warnings")


async def add_warnings(db: Database, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    async with db.transaction() as s:
        for n, warning_id in enumerate(ids):
            await s.execute(
                _INSERT_WARNING, {"county": COUNTY, "warning_id": warning_id, "source": f"M-{n}"}
            )
    return ids


async def case_event(db: Database, type: str, case_id: uuid.UUID, **payload: Any) -> None:
    body = {"case_id": str(case_id), **payload}
    async with db.transaction() as s:
        await s.execute(
            _INSERT_EVENT,
            {
                "county": COUNTY,
                "type": type,
                "case_id": str(case_id),
                "payload": orjson.dumps(body).decode(),
            },
        )


async def attach(db: Database, type: str, case_id: uuid.UUID, *warnings: uuid.UUID) -> None:
    ids = [str(w) for w in warnings]
    await case_event(db, type, case_id, household_id="H-1", warning_ids=ids)


async def drain_all(db: Database) -> None:
    """Drain until the consumer has passed the last event. A writing transaction
    anywhere on the server may hold it back for a moment: wait that out."""
    async with db.transaction() as s:
        last = await s.execute(
            text("SELECT xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1")
        )
        target = tuple(last.one())
    async with asyncio.timeout(10):
        while await position(db, CASE_OUTCOMES.name) < target:
            await CASE_OUTCOMES.drain(db)
            await asyncio.sleep(0.01)


async def state(db: Database) -> dict[uuid.UUID, tuple[Any, ...]]:
    async with db.transaction() as s:
        rows = (await s.execute(_STATE)).all()
    return {r.warning_id: (r.case_id, r.outcome, r.version) for r in rows}


def case_and_outcome(rows: dict[uuid.UUID, tuple[Any, ...]]) -> dict[uuid.UUID, tuple[Any, ...]]:
    return {w: (case_id, outcome) for w, (case_id, outcome, _) in rows.items()}


async def test_draining_sets_the_case_of_listed_warnings_and_the_outcome_of_decided_cases(
    fresh_db,
):
    a, b, c, untouched = await add_warnings(fresh_db, 4)
    decided_case, open_case = uuid.uuid4(), uuid.uuid4()
    await attach(fresh_db, "case.opened", decided_case, a)
    await attach(fresh_db, "case.warnings_attached", decided_case, b)
    await attach(fresh_db, "case.opened", open_case, c)
    await case_event(fresh_db, "case.decided", decided_case, outcome="included")

    await drain_all(fresh_db)

    assert case_and_outcome(await state(fresh_db)) == {
        a: (decided_case, "included"),
        b: (decided_case, "included"),
        c: (open_case, None),
        untouched: (None, None),
    }


async def test_redelivering_the_same_events_writes_nothing(fresh_db):
    a, b = await add_warnings(fresh_db, 2)
    case = uuid.uuid4()
    await attach(fresh_db, "case.opened", case, a, b)
    await case_event(fresh_db, "case.decided", case, outcome="not_included")
    await drain_all(fresh_db)
    before = await state(fresh_db)

    async with fresh_db.transaction() as s:
        rows = await s.execute(
            text(
                "SELECT id, xid, county_code, type, aggregate_type, aggregate_id, actor,"
                " occurred_at, payload FROM events ORDER BY xid, id"
            )
        )
        await apply_case_events(s, [EventRecord(**row._mapping) for row in rows])

    # Same values and the same row versions (xmin): not one row was rewritten.
    assert await state(fresh_db) == before


async def test_a_warning_attached_to_a_new_case_drops_the_old_cases_outcome(fresh_db):
    [w] = await add_warnings(fresh_db, 1)
    first, second = uuid.uuid4(), uuid.uuid4()
    await attach(fresh_db, "case.opened", first, w)
    await case_event(fresh_db, "case.decided", first, outcome="risk_updated")
    await drain_all(fresh_db)
    await attach(fresh_db, "case.opened", second, w)
    await drain_all(fresh_db)

    assert case_and_outcome(await state(fresh_db)) == {w: (second, None)}
