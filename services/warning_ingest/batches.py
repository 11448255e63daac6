"""Storing a pushed batch (SPEC §3 "Accepting a record"), set-based.

Records are validated as they stream in and copied in chunks into temporary
staging tables (`ingest_stage` for the good, `ingest_rejects` for the bad),
then a handful of statements, all in the request's transaction:
duplicates within the batch, region codes unknown to the registry, the
atomic check, then one statement that claims each department record id,
matches the person, applies the policy, stores the warnings and appends
their events; then the feed pushes and the batch with its receipt. No
statement runs per record. A crash at any point rolls the whole batch back:
a receipt is only ever given for a committed batch.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.warning_ingest import matching
from services.warning_ingest.formats import PushBody
from services.warning_ingest.records import CheckedRecord, check_record, source_record_id_of
from shared import audit
from shared.catalog import EVENT_DATED_TYPES, WARNING_TYPES, types_of
from shared.errors import Conflict, FieldError, Unprocessable
from shared.events import lock_key, notify
from shared.idcard import mask_id_number
from shared.pii import PiiProtector
from shared.policy import Policy
from shared.regions import region_level

# Above this many records a receipt lists only the rejected ones (API.md).
FULL_RECEIPT_MAX = 10_000
CHUNK_RECORDS = 5_000

_STAGE_TABLES = {
    "ingest_stage": (
        'idx int, warning_id uuid, source_record_id text COLLATE "C",'
        ' warning_type text COLLATE "C", id_hash bytea, id_sealed bytea, id_masked text,'
        ' name text, region_code text COLLATE "C", event_date date,'
        " amount_yuan numeric(14, 2), details jsonb"
    ),
    "ingest_rejects": 'idx int, source_record_id text COLLATE "C", errors jsonb',
}
_STAGE_COLUMNS = (
    "idx",
    "warning_id",
    "source_record_id",
    "warning_type",
    "id_hash",
    "id_sealed",
    "id_masked",
    "name",
    "region_code",
    "event_date",
    "amount_yuan",
    "details",
)
_REJECT_COLUMNS = ("idx", "source_record_id", "errors")


class IdempotencyKeyReused(Unprocessable):
    slug, title = "idempotency_key_reused", "The Idempotency-Key was used for another body"


class IdempotencyKeyInFlight(Conflict):
    slug, title = "idempotency_key_in_flight", "A request with this Idempotency-Key is running"


class AtomicBatchRejected(Unprocessable):
    slug, title = "atomic_batch_rejected", "An atomic batch had rejected records"


@dataclass(frozen=True)
class Pusher:
    """The department client pushing a batch."""

    client_id: uuid.UUID
    department: str
    actor: str
    region_code: str | None = None


def _errors_json(errors: list[FieldError] | tuple[FieldError, ...]) -> str:
    return orjson.dumps([e.as_dict() for e in errors]).decode()


def _rejection(code: str, field: str, message: str) -> str:
    return _errors_json([FieldError(field, code, message)])


def time_ordered_ids(count: int) -> list[uuid.UUID]:
    """`count` UUIDs in the version 7 layout: 48 bits of Unix milliseconds, then
    random bits. Ids that grow with time land at the right edge of the btree
    indexes, so a big batch appends to them instead of writing all over them."""
    prefix = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76
    noise = os.urandom(10 * count)
    ids = []
    for i in range(count):
        bits = int.from_bytes(noise[10 * i : 10 * i + 10], "big")
        # 12 bits of rand_a, the variant 0b10, 62 bits of rand_b.
        ids.append(uuid.UUID(int=prefix | (bits >> 68) << 64 | 0b10 << 62 | bits & (1 << 62) - 1))
    return ids


class _Chunk:
    __slots__ = ("checked", "indexes", "rejects")

    def __init__(self) -> None:
        self.indexes: list[int] = []
        self.checked: list[CheckedRecord] = []
        self.rejects: list[tuple[int, str | None, str]] = []

    def stage_rows(self, protector: PiiProtector) -> list[tuple[Any, ...]]:
        numbers = [r.id_number for r in self.checked]
        keys = protector.match_keys(numbers)
        sealed = protector.seal_many(numbers)
        ids = time_ordered_ids(len(numbers))
        return [
            (
                idx,
                warning_id,
                r.source_record_id,
                r.warning_type,
                key,
                seal,
                mask_id_number(r.id_number),
                r.name,
                r.region_code,
                r.event_date,
                r.amount_yuan,
                None if r.details is None else r.details.decode(),
            )
            for idx, warning_id, r, key, seal in zip(
                self.indexes, ids, self.checked, keys, sealed, strict=True
            )
        ]


class _Stage:
    """The staging tables on the session's own connection, in its transaction
    (COPY goes through asyncpg directly)."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    @classmethod
    async def open(cls, session: AsyncSession) -> _Stage:
        conn = await session.connection()
        # A statement through SQLAlchemy first begins the transaction on the
        # driver connection, which the raw statements below then join.
        await conn.execute(text("SELECT 1"))
        driver = (await conn.get_raw_connection()).driver_connection
        if driver is None or not driver.is_in_transaction():
            raise RuntimeError("a batch must be stored inside the caller's transaction")
        # Dropped first: an earlier push in the same transaction (tests, savepoints) may remain.
        # For the rest of the transaction: JIT compiling these few big statements
        # costs more than it saves (over a second per batch), and the joins over a
        # large batch should hash in memory rather than spill.
        await driver.execute(
            "SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true);"
            f"DROP TABLE IF EXISTS {', '.join(_STAGE_TABLES)};"
            + "".join(
                f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP;"
                for name, columns in _STAGE_TABLES.items()
            )
        )
        return cls(driver)

    async def write(self, rows: list[tuple[Any, ...]], rejects: list[tuple[Any, ...]]) -> None:
        if rows:
            await self.driver.copy_records_to_table(
                "ingest_stage", records=rows, columns=_STAGE_COLUMNS
            )
        if rejects:
            await self.driver.copy_records_to_table(
                "ingest_rejects", records=rejects, columns=_REJECT_COLUMNS
            )


async def _stage_records(
    stage: _Stage, push: PushBody, *, department: str, today: date, protector: PiiProtector
) -> int:
    """Validate and stage every record of the push; return how many there were.

    The next chunk is validated while the previous one is being copied.
    """
    count = 0
    chunk = _Chunk()
    writing: asyncio.Task[None] | None = None
    try:
        async for index, raw in push.records:
            count += 1
            record, errors = check_record(raw, department=department, today=today)
            if record is None:
                chunk.rejects.append((index, source_record_id_of(raw), _errors_json(errors)))
            else:
                chunk.indexes.append(index)
                chunk.checked.append(record)
            if len(chunk.indexes) + len(chunk.rejects) >= CHUNK_RECORDS:
                rows = chunk.stage_rows(protector)
                if writing is not None:
                    await writing
                writing = asyncio.create_task(stage.write(rows, chunk.rejects))
                chunk = _Chunk()
        rows = chunk.stage_rows(protector)
        if writing is not None:
            await writing
        await stage.write(rows, chunk.rejects)
    finally:
        # Never leave a COPY running on the connection when the stream fails.
        if writing is not None and not writing.done():
            await asyncio.gather(writing, return_exceptions=True)
    return count


_DUPLICATE_IN_BATCH = _rejection(
    "duplicate_in_batch",
    "source_record_id",
    "an earlier record of this batch has the same source_record_id",
)
# Of records sharing a source_record_id, the first is processed and every
# later one rejected, whether or not the first was valid.
_MARK_DUPLICATES = """
WITH firsts AS (
    SELECT source_record_id, min(idx) AS first FROM (
        SELECT idx, source_record_id FROM ingest_stage
        UNION ALL
        SELECT idx, source_record_id FROM ingest_rejects WHERE source_record_id IS NOT NULL
    ) records GROUP BY source_record_id HAVING count(*) > 1
), moved AS (
    DELETE FROM ingest_stage s USING firsts f
    WHERE s.source_record_id = f.source_record_id AND s.idx > f.first
    RETURNING s.idx, s.source_record_id
), marked AS (
    UPDATE ingest_rejects r SET errors = r.errors || $1::jsonb FROM firsts f
    WHERE r.source_record_id = f.source_record_id AND r.idx > f.first
)
INSERT INTO ingest_rejects (idx, source_record_id, errors)
SELECT idx, source_record_id, $1::jsonb FROM moved
"""
_UNKNOWN_REGION = _rejection(
    "invalid_region_code", "region_code", "region_code is not a region of the registry"
)
_REJECT_UNKNOWN_REGIONS = """
WITH unknown AS (
    DELETE FROM ingest_stage s
    WHERE s.region_code IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM regions r WHERE r.code = s.region_code)
    RETURNING idx, source_record_id
)
INSERT INTO ingest_rejects (idx, source_record_id, errors)
SELECT idx, source_record_id, $1::jsonb FROM unknown
"""
_REJECTED_RECORDS = """
SELECT idx, source_record_id, errors::text FROM ingest_rejects ORDER BY idx
"""

# The county a warning belongs to: its household's; else the region the
# department gave; else the pushing client's county; else the county of the
# ID number's division code when the registry knows it; else the registry's
# only county; else the division code as it stands.
_COUNTY = (
    "coalesce(h.county_code, left(w.region_code, 6), CAST(:client_county AS text),"
    " CASE WHEN d.code IS NOT NULL THEN left(w.id_masked, 6) END,"
    " CAST(:home_county AS text), left(w.id_masked, 6))"
)
_STORE = f"""
WITH candidates AS (
    SELECT w.idx, w.source_record_id, w.warning_id, w.warning_type,
           w.id_hash, w.id_sealed, w.id_masked, w.name, w.region_code AS reported_region_code,
           w.event_date, w.amount_yuan, w.details, h.household_id,
           h.region_code AS household_region, {_COUNTY} AS county_code,
           coalesce(m.name <> w.name, false) AS name_mismatch,
           (w.warning_type = ANY(CAST(:event_dated AS text[]))
            AND w.event_date < w.received_on - CAST(:late_days AS int)) AS late,
           {matching.STATUS} AS status
    FROM (SELECT s.*, CAST(:received_on AS date) AS received_on FROM ingest_stage s) w
    LEFT JOIN members m ON m.id_hash = w.id_hash
    LEFT JOIN households h ON h.county_code = m.county_code AND h.household_id = m.household_id
    LEFT JOIN regions d ON d.code = left(w.id_masked, 6) || '000000'
    {matching.THRESHOLDS_JOIN}
), fresh AS (
    INSERT INTO warning_sources (department, source_record_id, county_code, warning_id, batch_id)
    SELECT :department, source_record_id, county_code, warning_id, :batch_id FROM candidates
    ON CONFLICT DO NOTHING
    RETURNING source_record_id
), stored AS (
    INSERT INTO warnings (county_code, warning_id, department, warning_type, source_record_id,
        batch_id, batch_index, id_hash, id_sealed, id_masked, name, reported_region_code,
        region_code, household_id, event_date, amount_yuan, details, received_at, received_on,
        status, late, name_mismatch)
    SELECT c.county_code, c.warning_id, :department, c.warning_type, c.source_record_id,
        :batch_id, c.idx, c.id_hash, c.id_sealed, c.id_masked, c.name, c.reported_region_code,
        coalesce(c.household_region, c.reported_region_code, c.county_code || '000000'),
        c.household_id, c.event_date, c.amount_yuan, c.details, :received_at,
        CAST(:received_on AS date), c.status, c.late, c.name_mismatch
    FROM candidates c JOIN fresh f USING (source_record_id)
    RETURNING county_code, warning_id, department, warning_type, status, household_id,
        region_code, event_date, received_on, late
), evented AS (
    {matching.INSERT_EVENTS.format(source="stored")}
)
SELECT count(*) FROM stored
"""
_FEED_PUSHES = """
INSERT INTO feed_pushes (batch_id, warning_type, department, pushed_at, period_end)
SELECT :batch_id, t, :department, :received_at, :period_end
FROM unnest(CAST(:types AS text[])) AS t
"""
_PUSHED_TYPES = "SELECT DISTINCT warning_type FROM ingest_stage"
# The receipt's records, in arrival order; past FULL_RECEIPT_MAX only the rejected.
_RECEIPT_RECORDS = """
INSERT INTO ingest_batches (batch_id, department, client_id, idempotency_key, body_hash,
    received_at, period_end, atomic, record_count, accepted, duplicates, rejected, records)
SELECT :batch_id, :department, :client_id, :idempotency_key, :body_hash, :received_at,
    :period_end, :atomic, :record_count, :accepted, :duplicates, :rejected,
    coalesce((SELECT jsonb_agg(r.entry ORDER BY r.idx) FROM (
        SELECT idx, jsonb_build_object('index', idx, 'source_record_id', source_record_id,
            'status', 'rejected', 'errors', errors) AS entry
        FROM ingest_rejects
        UNION ALL
        SELECT s.idx, jsonb_build_object('index', s.idx, 'source_record_id', s.source_record_id,
            'status',
            CASE WHEN ws.batch_id = CAST(:batch_id AS uuid) THEN 'accepted' ELSE 'duplicate' END,
            'warning_id', ws.warning_id)
        FROM ingest_stage s
        JOIN warning_sources ws ON ws.department = CAST(:department AS varchar)
            AND ws.source_record_id = s.source_record_id
        WHERE CAST(:full_receipt AS boolean)
    ) r), '[]'::jsonb)
RETURNING records::text
"""


def _client_county(region_code: str | None) -> str | None:
    # A client scoped to a county or below pushes about its county; a city's
    # or province's client says nothing about which county.
    if region_code is None or region_level(region_code) not in {"county", "town", "village"}:
        return None
    return region_code[:6]


async def _home_county(session: AsyncSession) -> str | None:
    counties = (
        await session.scalars(text("SELECT DISTINCT county_code FROM households LIMIT 2"))
    ).all()
    return counties[0] if len(counties) == 1 else None


async def _reject_in_bulk(stage: _Stage) -> int:
    """The database checks that reject records; return the rejected count."""
    driver = stage.driver
    await driver.execute(_MARK_DUPLICATES, _DUPLICATE_IN_BATCH)
    if await driver.fetchval("SELECT EXISTS (SELECT 1 FROM regions)"):
        await driver.execute(_REJECT_UNKNOWN_REGIONS, _UNKNOWN_REGION)
    return int(await driver.fetchval("SELECT count(*) FROM ingest_rejects"))


async def _refuse_atomic(stage: _Stage) -> None:
    records: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for idx, source_record_id, raw in await stage.driver.fetch(_REJECTED_RECORDS):
        record_errors = orjson.loads(raw)
        records.append(
            {
                "index": idx,
                "source_record_id": source_record_id,
                "status": "rejected",
                "errors": record_errors,
            }
        )
        errors.extend(
            FieldError(f"records[{idx}].{e['field']}", e["code"], e["message"])
            for e in record_errors
        )
    raise AtomicBatchRejected(
        f"{len(records)} record(s) were rejected, so nothing of this atomic batch was stored.",
        errors=errors,
        extra={"records": records},
    )


async def store_batch(
    session: AsyncSession,
    *,
    pusher: Pusher,
    push: PushBody,
    idempotency_key: str | None,
    protector: PiiProtector,
    policy: Policy,
    now: datetime,
    today: date,
) -> dict[str, Any]:
    """Validate, store, match and announce a pushed batch; return its receipt.

    Never commits. An atomic batch with a rejected record raises
    AtomicBatchRejected (422) and leaves the transaction to be rolled back.
    """
    batch_id = uuid.uuid4()
    stage = await _Stage.open(session)
    record_count = await _stage_records(
        stage, push, department=pusher.department, today=today, protector=protector
    )
    rejected = await _reject_in_bulk(stage)
    if rejected and push.atomic:
        await _refuse_atomic(stage)
    accepted = await session.scalar(
        text(_STORE),
        {
            "department": pusher.department,
            "batch_id": batch_id,
            "received_at": now,
            "received_on": today,
            "client_county": _client_county(pusher.region_code),
            "home_county": await _home_county(session),
            "event_dated": sorted(EVENT_DATED_TYPES),
            "late_days": policy.feeds.late_record_days,
            "actor": pusher.actor,
            **matching.threshold_params(policy, today),
        },
    )
    staged = record_count - rejected
    pushed = (
        [t.code for t in types_of(pusher.department)]
        if record_count == 0
        else list(await session.scalars(text(_PUSHED_TYPES)))
    )
    periodic = [t for t in pushed if WARNING_TYPES[t].kind == "periodic"]
    period_end = push.period_end or today
    if periodic:
        await session.execute(
            text(_FEED_PUSHES),
            {
                "batch_id": batch_id,
                "department": pusher.department,
                "received_at": now,
                "period_end": period_end,
                "types": sorted(periodic),
            },
        )
    counts = {
        "record_count": record_count,
        "accepted": int(accepted or 0),
        "duplicates": staged - int(accepted or 0),
        "rejected": rejected,
    }
    records = await session.scalar(
        text(_RECEIPT_RECORDS),
        {
            "batch_id": batch_id,
            "department": pusher.department,
            "client_id": pusher.client_id,
            "idempotency_key": idempotency_key,
            "body_hash": push.digest(),
            "received_at": now,
            "period_end": period_end,
            "atomic": push.atomic,
            "full_receipt": record_count <= FULL_RECEIPT_MAX,
            **counts,
        },
    )
    await session.execute(text(f"DROP TABLE {', '.join(_STAGE_TABLES)}"))
    await audit.record(
        session,
        actor=pusher.actor,
        action="ingest.batch_pushed",
        target_type="batch",
        target_id=str(batch_id),
        details={"department": pusher.department, **counts},
    )
    await notify(session)
    return {
        "batch_id": str(batch_id),
        "department": pusher.department,
        "received_at": now.isoformat(),
        "period_end": period_end.isoformat(),
        **counts,
        "records": orjson.loads(records),
    }


_EARLIER_BATCH = """
SELECT batch_id, department, received_at, period_end, record_count, accepted, duplicates,
    rejected, records, body_hash
FROM ingest_batches WHERE client_id = :client_id AND idempotency_key = :key
"""


async def replay(
    session: AsyncSession, *, client_id: uuid.UUID, key: str, push: PushBody
) -> dict[str, Any] | None:
    """The first receipt for this client's Idempotency-Key, or None for a new key.

    Holds a transaction-scoped lock on the key: a second request with the key
    while the first is still running is refused (409) instead of waiting, and
    a key used for a different body is refused (422). Reads the whole body to
    compare it.
    """
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"),
        {"key": lock_key("idempotency", f"{client_id}:{key}")},
    )
    if not locked:
        raise IdempotencyKeyInFlight(
            "The first request with this Idempotency-Key is still running; retry shortly.",
            headers={"Retry-After": "2"},
        )
    row = (
        (await session.execute(text(_EARLIER_BATCH), {"client_id": client_id, "key": key}))
        .mappings()
        .first()
    )
    if row is None:
        return None
    async for _ in push.records:
        pass
    if push.digest() != row["body_hash"]:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different body; use a new key for a new batch.",
            errors=[
                FieldError(
                    "Idempotency-Key",
                    "idempotency_key_reused",
                    "the key belongs to an earlier batch with another body",
                )
            ],
        )
    receipt = dict(row)
    del receipt["body_hash"]
    return receipt
