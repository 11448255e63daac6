"""Storing a pushed batch (SPEC §3 "Accepting a record"), set-based.

Records are validated as they stream in; every 10,000 of them are staged by
COPY and stored by a few set-based statements (services.warning_ingest.
staging, on shared.bulk_load) while the next 10,000 are validated. Then the
feed pushes, the batch with its receipt, and the audit record. No statement runs per record,
and everything happens in the request's transaction: a crash at any point
rolls the whole batch back, and a receipt is only ever given for a
committed batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NoReturn

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.warning_ingest import matching
from services.warning_ingest.batches.formats import PushBody
from services.warning_ingest.records import check_record, source_record_id_of
from services.warning_ingest.staging import Chunk, Stage, StoreParams, errors_json
from shared import audit
from shared.bulk_load import OverlappedWrites
from shared.catalog import EVENT_DATED_TYPES
from shared.errors import Conflict, FieldError, Unprocessable
from shared.events import lock_key, notify
from shared.feeds import FEED_PUSH_ROWS, feed_push_params
from shared.pii import PiiProtector
from shared.policy import Policy
from shared.regions import region_level

# Above this many records a receipt lists only the rejected ones (API.md).
FULL_RECEIPT_MAX = 10_000
# Records per chunk: big enough for COPY and the set-based statements to pay
# off, small enough that validating the next chunk overlaps storing this one.
CHUNK_RECORDS = 10_000


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


# The feeds pushed (shared/feeds.py: per population where the policy says).
_FEED_PUSHES = f"""
INSERT INTO feed_pushes (batch_id, warning_type, population, department, pushed_at, period_end)
SELECT :batch_id, f.warning_type, f.population, :department, :received_at, :period_end
FROM ({FEED_PUSH_ROWS}) AS f
"""
_INSERT_BATCH = """
INSERT INTO ingest_batches (batch_id, department, client_id, idempotency_key, body_hash,
    received_at, period_end, atomic, record_count, accepted, duplicates, rejected, records)
VALUES (:batch_id, :department, :client_id, :idempotency_key, :body_hash, :received_at,
    :period_end, :atomic, :record_count, :accepted, :duplicates, :rejected,
    CAST(:records AS jsonb))
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


def store_values(
    *, pusher: Pusher, batch_id: uuid.UUID, policy: Policy, now: datetime, today: date
) -> dict[str, Any]:
    """The store statement's parameters (staging.store_ctes), but the home county."""
    return {
        "department": pusher.department,
        "batch_id": batch_id,
        "received_at": now,
        "received_on": today,
        "client_county": _client_county(pusher.region_code),
        "event_dated": sorted(EVENT_DATED_TYPES),
        "late_days": policy.feeds.late_record_days,
        "actor": pusher.actor,
        **matching.threshold_params(policy, today),
    }


async def _store_params(
    session: AsyncSession,
    *,
    pusher: Pusher,
    batch_id: uuid.UUID,
    policy: Policy,
    now: datetime,
    today: date,
) -> StoreParams:
    values = store_values(pusher=pusher, batch_id=batch_id, policy=policy, now=now, today=today)
    return StoreParams(
        department=pusher.department,
        values={**values, "home_county": await _home_county(session)},
    )


async def _stage_and_store(
    stage: Stage,
    push: PushBody,
    params: StoreParams,
    *,
    department: str,
    today: date,
    protector: PiiProtector,
) -> int:
    """Validate every record and store the valid ones, chunk by chunk; return
    the record count. The database works on one chunk while the next is
    validated; an atomic batch stops storing at its first rejection."""
    count = 0
    chunk = Chunk(first_index=0)

    async def write(chunk: Chunk, rows: list[tuple[Any, ...]], seen: int) -> None:
        failed = push.atomic and await stage.rejected_count()
        await stage.apply(
            chunk, rows, None if failed else params, full_receipt=seen <= FULL_RECEIPT_MAX
        )

    async with OverlappedWrites() as writer:
        async for index, raw in push.records:
            count += 1
            record, errors = check_record(raw, department=department, today=today)
            if record is None:
                chunk.rejects.append((index, source_record_id_of(raw), errors_json(errors)))
            else:
                chunk.indexes.append(index)
                chunk.checked.append(record)
            if len(chunk) >= CHUNK_RECORDS:
                await writer.write(write, chunk, chunk.stage_rows(protector), count)
                chunk = Chunk(first_index=index + 1)
            else:
                await writer.pause()
        await writer.write(write, chunk, chunk.stage_rows(protector), count)
    return count


def refuse_atomic(rejected: list[tuple[int, str | None, list[dict[str, str]]]]) -> NoReturn:
    """Raise AtomicBatchRejected listing the `rejected` records (in index order)."""
    records: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for idx, source_record_id, record_errors in rejected:
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
    params = await _store_params(
        session, pusher=pusher, batch_id=batch_id, policy=policy, now=now, today=today
    )
    stage = await Stage.open(session)
    record_count = await _stage_and_store(
        stage, push, params, department=pusher.department, today=today, protector=protector
    )
    rejected = await stage.rejected_count()
    if rejected and push.atomic:
        refuse_atomic(await stage.rejected())
    feeds = feed_push_params(
        pusher.department, zero_report=record_count == 0, seen=stage.pushed_feeds
    )
    period_end = push.period_end or today
    if feeds["types"]:
        await session.execute(
            text(_FEED_PUSHES),
            {
                "batch_id": batch_id,
                "department": pusher.department,
                "received_at": now,
                "period_end": period_end,
                **feeds,
            },
        )
    counts = {
        "record_count": record_count,
        "accepted": stage.accepted,
        "duplicates": record_count - rejected - stage.accepted,
        "rejected": rejected,
    }
    records = await stage.receipt_records(full=record_count <= FULL_RECEIPT_MAX)
    await stage.close()
    await session.execute(
        text(_INSERT_BATCH),
        {
            "batch_id": batch_id,
            "department": pusher.department,
            "client_id": pusher.client_id,
            "idempotency_key": idempotency_key,
            "body_hash": push.digest(),
            "received_at": now,
            "period_end": period_end,
            "atomic": push.atomic,
            "records": records,
            **counts,
        },
    )
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
