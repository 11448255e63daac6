"""Storing a small push without the batch machinery (issue 17).

A push of at most SMALL_PUSH_MAX records (one record, most often) is stored
by two statements over bound arrays instead of temporary tables, COPY and a
dozen statements: the first rejects region codes the registry does not know
and stores the rest (staging.store_ctes, the very statements of a big batch,
reading an `ingest_stage` CTE over `unnest`); the second writes the receipt,
the feed pushes, the batch and its audit row, and wakes the consumers. Duplicates inside
the push are settled in Python before them, by the rule of
staging._MARK_DUPLICATES. What is stored, announced and answered is what
batches.store_batch stores, announces and answers
(tests/services/warning_ingest/test_small_push.py compares the two).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.warning_ingest.batches import storing as batches
from services.warning_ingest.batches.formats import PushBody
from services.warning_ingest.records import check_record, source_record_id_of
from services.warning_ingest.staging import (
    _DUPLICATE_IN_BATCH,
    _STAGE_COLUMNS,
    _UNKNOWN_REGION,
    Chunk,
    errors_json,
    store_ctes,
)
from shared import audit
from shared.db import DriverStatement
from shared.events import CHANNEL
from shared.feeds import feed_push_params
from shared.pii import PiiProtector
from shared.policy import Policy

# Pushes of up to this many records take the fast path; a negative value turns
# it off. Read at call time, so tests (and bench/push_profile.py) can force
# either path.
SMALL_PUSH_MAX = 100

# The registry's only county, NULL when it has none or several: the same answer
# as batches._home_county, from two index probes, and only for a record whose
# county nothing else settles (PostgreSQL runs a scalar subquery when first needed).
_HOME_COUNTY = (
    "(SELECT CASE WHEN min(county_code) = max(county_code) THEN min(county_code) END"
    " FROM households)"
)
# Statement 1: the stage as a CTE (the columns and collations of the
# `ingest_stage` table), less the records whose region the registry does not
# know (when it knows regions at all); then the big batch's store.
_STORE = DriverStatement(
    text(f"""
WITH input AS (
    SELECT s.idx, s.warning_id, s.source_record_id COLLATE "C" AS source_record_id,
           s.warning_type COLLATE "C" AS warning_type, s.id_hash, s.id_sealed, s.id_masked,
           s.name, s.region_code COLLATE "C" AS region_code, s.event_date,
           CAST(s.amount_yuan AS numeric(14, 2)) AS amount_yuan, s.details
    FROM unnest(CAST(:s_idx AS int[]), CAST(:s_warning_id AS uuid[]),
        CAST(:s_source_record_id AS text[]), CAST(:s_warning_type AS text[]),
        CAST(:s_id_hash AS bytea[]), CAST(:s_id_sealed AS bytea[]),
        CAST(:s_id_masked AS text[]), CAST(:s_name AS text[]), CAST(:s_region_code AS text[]),
        CAST(:s_event_date AS date[]), CAST(:s_amount_yuan AS numeric[]),
        CAST(CAST(:s_details AS text[]) AS jsonb[]))
      AS s(idx, warning_id, source_record_id, warning_type, id_hash, id_sealed, id_masked,
           name, region_code, event_date, amount_yuan, details)
), unknown AS (
    SELECT s.idx FROM input s
    WHERE s.region_code IS NOT NULL AND EXISTS (SELECT 1 FROM regions)
      AND NOT EXISTS (SELECT 1 FROM regions r WHERE r.code = s.region_code)
), ingest_stage AS (
    SELECT s.* FROM input s WHERE NOT EXISTS (SELECT 1 FROM unknown u WHERE u.idx = s.idx)
), {store_ctes(home_county=_HOME_COUNTY)}
SELECT (SELECT count(*) FROM stored) AS accepted,
       ARRAY(SELECT idx FROM unknown ORDER BY idx) AS unknown
""")
)
# Statement 2, at a new snapshot like the big batch's receipt statement: a
# record a concurrent batch claimed meanwhile is a duplicate of its warning.
_FINISH = DriverStatement(
    text(f"""
WITH staged AS (
    SELECT s.idx, s.source_record_id COLLATE "C" AS source_record_id, s.warning_id
    FROM unnest(CAST(:r_idx AS int[]), CAST(:r_source_record_id AS text[]),
        CAST(:r_warning_id AS uuid[])) AS s(idx, source_record_id, warning_id)
), rejects AS (
    SELECT idx, source_record_id, CAST(errors AS jsonb) AS errors
    FROM unnest(CAST(:x_idx AS int[]), CAST(:x_source_record_id AS text[]),
        CAST(:x_errors AS text[])) AS x(idx, source_record_id, errors)
), entries AS (
    SELECT idx, jsonb_build_object('index', idx, 'source_record_id', source_record_id,
        'status', 'rejected', 'errors', errors) AS entry
    FROM rejects
    UNION ALL
    SELECT s.idx, jsonb_build_object('index', s.idx, 'source_record_id', s.source_record_id,
        'status', CASE WHEN ws.warning_id = s.warning_id THEN 'accepted' ELSE 'duplicate' END,
        'warning_id', ws.warning_id)
    FROM staged s
    JOIN warning_sources ws
      ON ws.department = :department AND ws.source_record_id = s.source_record_id
), receipt AS (
    SELECT coalesce(jsonb_agg(entry ORDER BY idx), '[]'::jsonb) AS records FROM entries
), feed AS (
    {batches._FEED_PUSHES}
), batch AS (
    INSERT INTO ingest_batches (batch_id, department, client_id, idempotency_key, body_hash,
        received_at, period_end, atomic, record_count, accepted, duplicates, rejected, records)
    SELECT :batch_id, :department, :client_id, :idempotency_key, :body_hash, :received_at,
        :period_end, :atomic, :record_count, :accepted, :duplicates, :rejected, records
    FROM receipt
), audited AS (
    {audit.INSERT_ROW}
)
SELECT records::text, pg_notify('{CHANNEL}', '') FROM receipt
""")
)

# For the rest of the push's transaction, PostgreSQL plans the two statements
# once per connection (a generic plan) instead of on every push: planning
# their CTEs was most of the database's CPU per one-record push
# (bench/push_rps.py `cpu_ms_per_push.postgres`: 1.41-1.85 ms before, 0.82-1.25
# after). Up to SMALL_PUSH_MAX records the plan for a few rows, index probes
# all along, is the right one whatever the count.
_PLAN_ONCE = DriverStatement(
    text("SELECT set_config('plan_cache_mode', 'force_generic_plan', true)")
)

Reject = tuple[int, str | None, str]


async def take_small(push: PushBody, *, limit: int) -> list[tuple[int, Any]] | None:
    """The push's records if there are at most `limit` of them; else None,
    with the records read so far put back in front of `push.records`."""
    taken: list[tuple[int, Any]] = []
    async for item in push.records:
        taken.append(item)
        if len(taken) > limit:
            push.records = _chain(taken, push.records)
            return None
    return taken


async def _chain(
    first: list[tuple[int, Any]], rest: AsyncIterator[tuple[int, Any]]
) -> AsyncIterator[tuple[int, Any]]:
    for item in first:
        yield item
    async for item in rest:
        yield item


def _checked(records: list[tuple[int, Any]], *, department: str, today: date) -> Chunk:
    chunk = Chunk(first_index=0)
    for index, raw in records:
        record, errors = check_record(raw, department=department, today=today)
        if record is None:
            chunk.rejects.append((index, source_record_id_of(raw), errors_json(errors)))
        else:
            chunk.indexes.append(index)
            chunk.checked.append(record)
    return chunk


def _settle_duplicates(
    rows: list[tuple[Any, ...]], rejects: list[Reject]
) -> tuple[list[tuple[Any, ...]], list[Reject]]:
    """Of records sharing a source_record_id the first is processed, whether or
    not it was valid: a later valid one is rejected as a duplicate in the
    batch, a later rejected one has that error added to its own."""
    first: dict[str, int] = {}
    for idx, source_record_id in [(r[0], r[2]) for r in rows] + [(i, s) for i, s, _ in rejects]:
        if source_record_id is not None and idx < first.get(source_record_id, idx + 1):
            first[source_record_id] = idx
    duplicate = orjson.loads(_DUPLICATE_IN_BATCH)
    kept = [r for r in rows if r[0] == first[r[2]]]
    settled: list[Reject] = [
        (idx, source_record_id, errors)
        if source_record_id is None or idx == first[source_record_id]
        else (idx, source_record_id, orjson.dumps(orjson.loads(errors) + duplicate).decode())
        for idx, source_record_id, errors in rejects
    ]
    settled += [(r[0], r[2], _DUPLICATE_IN_BATCH) for r in rows if r[0] != first[r[2]]]
    return kept, sorted(settled)


def _stage_params(rows: list[tuple[Any, ...]]) -> dict[str, list[Any]]:
    """The staged rows as one array per `ingest_stage` column, for `unnest`."""
    values: list[list[Any]] = [list(column) for column in zip(*rows, strict=True)] or [
        [] for _ in _STAGE_COLUMNS
    ]
    return {f"s_{name}": column for name, column in zip(_STAGE_COLUMNS, values, strict=True)}


def _as_stored(errors: str) -> list[dict[str, str]]:
    # The errors as jsonb gives them back (keys by length, then bytes), as the
    # big batch's refusal reads them from its table.
    return [{k: e[k] for k in sorted(e, key=lambda k: (len(k), k))} for e in orjson.loads(errors)]


async def store_push(
    session: AsyncSession,
    *,
    pusher: batches.Pusher,
    push: PushBody,
    idempotency_key: str | None,
    protector: PiiProtector,
    policy: Policy,
    now: datetime,
    today: date,
) -> dict[str, Any]:
    """Validate, store, match and announce a pushed batch; return its receipt:
    batches.store_batch, by the fast path when the push is small."""
    records = await take_small(push, limit=SMALL_PUSH_MAX) if SMALL_PUSH_MAX >= 0 else None
    if records is None:
        return await batches.store_batch(
            session, pusher=pusher, push=push, idempotency_key=idempotency_key,
            protector=protector, policy=policy, now=now, today=today,
        )  # fmt: skip
    batch_id = uuid.uuid4()
    department = pusher.department
    chunk = _checked(records, department=department, today=today)
    rows, rejects = _settle_duplicates(chunk.stage_rows(protector), chunk.rejects)
    values = batches.store_values(
        pusher=pusher, batch_id=batch_id, policy=policy, now=now, today=today
    )
    await _PLAN_ONCE.fetchrow(session, {})
    stored = await _STORE.fetchrow(session, values | _stage_params(rows))
    unknown = set(stored["unknown"])
    if unknown:
        rejects = sorted(rejects + [(r[0], r[2], _UNKNOWN_REGION) for r in rows if r[0] in unknown])
        rows = [r for r in rows if r[0] not in unknown]
    if rejects and push.atomic:
        batches.refuse_atomic([(idx, srid, _as_stored(errors)) for idx, srid, errors in rejects])
    # The feeds pushed: the records' types, per population where the policy says.
    feeds = feed_push_params(
        department, zero_report=not records, records=((r[3], r[4]) for r in rows)
    )
    period_end = push.period_end or today
    counts = {
        "record_count": len(records),
        "accepted": int(stored["accepted"]),
        "duplicates": len(records) - len(rejects) - int(stored["accepted"]),
        "rejected": len(rejects),
    }
    finished = await _FINISH.fetchrow(
        session,
        {
            "batch_id": batch_id,
            "department": department,
            "client_id": pusher.client_id,
            "idempotency_key": idempotency_key,
            "body_hash": push.digest(),
            "received_at": now,
            "period_end": period_end,
            "atomic": push.atomic,
            **feeds,
            "r_idx": [r[0] for r in rows],
            "r_source_record_id": [r[2] for r in rows],
            "r_warning_id": [r[1] for r in rows],
            "x_idx": [r[0] for r in rejects],
            "x_source_record_id": [r[1] for r in rejects],
            "x_errors": [r[2] for r in rejects],
            **counts,
            **audit.row_params(
                actor=pusher.actor,
                action="ingest.batch_pushed",
                target_type="batch",
                target_id=str(batch_id),
                details={"department": department, **counts},
            ),
        },
    )
    return {
        "batch_id": str(batch_id),
        "department": department,
        "received_at": now.isoformat(),
        "period_end": period_end.isoformat(),
        **counts,
        "records": orjson.loads(finished[0]),
    }
