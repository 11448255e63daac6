"""Publishing events and consuming them in order (SPEC §8).

Every state change writes one row to `events` in the same transaction as the
change (STYLE.md rule 6): `publish()` inserts it in the caller's transaction and
never commits. A consumer (`EventConsumer`) keeps its position in
`consumer_positions` and applies each event exactly once, even when writers
commit out of id order.

Set-based writers (STYLE.md rule 5) emit their events with one statement and
one notification, in the transaction that changes the rows:

    await session.execute(text(
        "INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
        " SELECT c.county_code, 'case.overdue', 'case', c.case_id, :actor,"
        "        jsonb_build_object('deadline', c.deadline)"
        " FROM cases c JOIN overdue_now o USING (county_code, case_id)"
    ), {"actor": "system:overdue-scan"})
    await notify(session)

Such a writer is responsible for keeping ID numbers and names out of the payload
(`publish()` checks each payload; a set-based statement cannot be checked here).

A change made on someone's behalf is also audited: `announce()` writes the event
and its audit row together.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import structlog
from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.db import Database
from shared.event_payloads import check_payload
from shared.event_positions import (
    ENSURE_POSITION,
    READ_EVENTS,
    READ_POSITION,
    TRY_LOCK,
    WRITE_POSITION,
)
from shared.models.columns import Json
from shared.observability import EVENTS_APPLIED

log = structlog.get_logger("warnex.events")

CHANNEL = "warnex_events"
_BACKOFF_FIRST = 1.0
_BACKOFF_MAX = 30.0

# Consumers that open what people wait for (the cases of a push) go first:
# while a leading consumer of this process works through a backlog, the others
# wait before each batch, at most _YIELD_MAX_SECONDS per drain, so that none
# starves and their lag stays bounded. Process-local: replicas in other
# processes take their turns through the advisory locks as before.
_leading: set[str] = set()
# Events a batch reads at most (at most `batch_size` of them handed over).
SCAN_SIZE = 20_000
_YIELD_STEP = 0.05
_YIELD_MAX_SECONDS = 2.0

Handler = Callable[[AsyncSession, list["EventRecord"]], Awaitable[None]]


def lock_key(namespace: str, name: str) -> int:
    """A stable signed 64-bit advisory-lock key for `name` within `namespace`.

    The namespace keeps a consumer and a job of the same name from sharing a lock.
    """
    digest = hashlib.sha256(f"warnex.{namespace}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# ---------------------------------------------------------------- publishing

_INSERT_EVENT = text(
    "INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
    " VALUES (:county_code, :type, :aggregate_type, :aggregate_id, :actor, :payload)"
    " RETURNING id"
).bindparams(bindparam("payload", type_=Json))
_NOTIFY = text(f"SELECT pg_notify('{CHANNEL}', '')")


async def publish(
    session: AsyncSession,
    *,
    type: str,
    aggregate: tuple[str, str],
    county_code: str,
    actor: str,
    payload: dict[str, Any],
) -> int:
    """Append one event in the caller's transaction (never commits); return its id.

    `aggregate` is (aggregate_type, aggregate_id). Raises ValueError if the
    payload holds personal data; see `check_payload`.
    Consumers are woken when the caller's transaction commits.
    """
    aggregate_type, aggregate_id = aggregate
    check_payload(payload)
    event_id = await session.scalar(
        _INSERT_EVENT,
        {
            "county_code": county_code,
            "type": type,
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "actor": actor,
            "payload": payload,
        },
    )
    await notify(session)
    return int(event_id)


async def announce(
    session: AsyncSession,
    *,
    type: str,
    aggregate: tuple[str, str],
    county_code: str,
    actor: str,
    payload: dict[str, Any],
    details: dict[str, Any],
) -> int:
    """Append one event and its audit row in the caller's transaction; return the event's id.

    The audit row's action is the event type and its target the aggregate;
    `details` (no personal data) go to the audit row only. See `publish()`.
    """
    event_id = await publish(
        session,
        type=type,
        aggregate=aggregate,
        county_code=county_code,
        actor=actor,
        payload=payload,
    )
    target_type, target_id = aggregate
    await audit.record(
        session,
        actor=actor,
        action=type,
        target_type=target_type,
        target_id=target_id,
        county_code=county_code,
        details=details,
    )
    return event_id


async def notify(session: AsyncSession) -> None:
    """Wake the consumers when the caller's transaction commits.

    PostgreSQL folds identical notifications of one transaction into one and
    delivers it at commit (nothing at rollback), so calling this once per
    event or once per transaction costs the same.
    """
    await session.execute(_NOTIFY)


# ----------------------------------------------------------------- consuming


@dataclass(frozen=True)
class EventRecord:
    """One event as a consumer's handler receives it."""

    id: int
    xid: int
    county_code: str
    type: str
    aggregate_type: str
    aggregate_id: str
    actor: str
    occurred_at: datetime
    payload: dict[str, Any]


class EventConsumer:
    """A named reader of the event log that applies each event exactly once.

    The handler gets the batch's events of the wanted `types` (all types if
    None), at most `batch_size` of them, and the session of the batch's
    transaction; it must not commit. A batch passes up to `scan_size` events
    (default SCAN_SIZE, never below `batch_size`) of other types. Its
    writes and the consumer's new position commit together, so a failed batch
    is re-delivered whole. Replicas of the same consumer take turns through an
    advisory lock; transactions must run at READ COMMITTED (PostgreSQL's default).
    A consumer that `leads` goes first in its process (`drain_in_turn`).
    """

    def __init__(
        self,
        name: str,
        handler: Handler,
        *,
        types: frozenset[str] | None = None,
        batch_size: int = 2000,
        poll_seconds: float = 1.0,
        linger_seconds: float = 0.1,
        leads: bool = False,
        scan_size: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.scan_size = max(batch_size, SCAN_SIZE if scan_size is None else scan_size)
        self.name = name
        self.handler = handler
        self.types = types
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.linger_seconds = linger_seconds
        self.leads = leads
        self._lock_key = lock_key("consumer", name)

    async def run_once(self, db: Database) -> int:
        """Apply one batch in one transaction; return the number of events scanned.

        Returns 0 when there is nothing new below the visibility bound, or when
        another replica of this consumer holds the lock.
        """
        async with db.transaction() as session:
            scanned, handled = await self._batch(session)
        if handled:
            EVENTS_APPLIED.labels(self.name).inc(handled)
        return scanned

    async def _batch(self, session: AsyncSession) -> tuple[int, int]:
        if not await session.scalar(TRY_LOCK, {"key": self._lock_key}):
            return 0, 0
        await session.execute(ENSURE_POSITION, {"name": self.name})
        # The lock was taken by an earlier statement, so at READ COMMITTED this
        # read sees the position committed by whichever replica held it before.
        xid, event_id = (await session.execute(READ_POSITION, {"name": self.name})).one()
        rows = await session.execute(
            READ_EVENTS,
            {
                "xid": xid,
                "event_id": event_id,
                "batch": self.batch_size,
                "scan": self.scan_size,
                "every_type": self.types is None,
                "types": sorted(self.types or ()),
            },
        )
        events = [tuple(row) for row in rows]  # (Row._tuple() warns per row since SQLAlchemy 2.1)
        if not events:
            return 0, 0
        wanted = [
            EventRecord(*event[:-1])
            for event in events
            if self.types is None or event[3] in self.types
        ]
        if wanted:
            await self.handler(session, wanted)
        last = events[-1]
        await session.execute(
            WRITE_POSITION, {"name": self.name, "xid": last[1], "event_id": last[0]}
        )
        return int(last[-1]), len(wanted)

    async def drain(self, db: Database) -> int:
        """Run batches until nothing is left to read now; return the total scanned."""
        total = 0
        while scanned := await self.run_once(db):
            total += scanned
        return total

    async def drain_in_turn(self, db: Database) -> int:
        """`drain`, giving way to the leading consumers (see `leads`): a leading
        one is busy for the whole of its drain; any other waits before each
        batch while one is busy, at most _YIELD_MAX_SECONDS in all."""
        total = 0
        waited = 0.0
        try:
            while True:
                if self.leads:
                    _leading.add(self.name)
                else:
                    while _leading and waited < _YIELD_MAX_SECONDS:
                        await asyncio.sleep(_YIELD_STEP)
                        waited += _YIELD_STEP
                scanned = await self.run_once(db)
                if not scanned:
                    return total
                total += scanned
        finally:
            _leading.discard(self.name)

    async def run_forever(self, db: Database) -> None:
        """Drain `linger_seconds` after an event is committed (LISTEN), or every
        `poll_seconds`.

        Errors are logged (their type only: a message may hold SQL parameters)
        and retried after a back-off of 1 s doubling to 30 s, on a new listening
        connection; a batch that keeps failing is retried, never skipped.
        Returns only by cancellation, closing its connection.
        """
        backoff = _BACKOFF_FIRST
        wake = asyncio.Event()
        while True:
            try:
                conn = await asyncpg.connect(db.url)
                try:
                    await conn.add_listener(CHANNEL, lambda *_: wake.set())
                    conn.add_termination_listener(lambda _: wake.set())
                    while not conn.is_closed():
                        # A short wait gathers a burst of small commits (one-record
                        # pushes, each waking every consumer) into one batch.
                        await asyncio.sleep(self.linger_seconds)
                        # Cleared before draining: a commit during the drain wakes us again.
                        wake.clear()
                        await self.drain_in_turn(db)
                        backoff = _BACKOFF_FIRST
                        with contextlib.suppress(TimeoutError):  # polling covers a lost NOTIFY
                            await asyncio.wait_for(wake.wait(), self.poll_seconds)
                    raise ConnectionError("the listening connection was closed")
                finally:
                    await _close_quietly(conn)
            except Exception as exc:
                log.error("consumer_failed", consumer=self.name, error=type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)


async def _close_quietly(conn: asyncpg.Connection) -> None:
    try:
        await asyncio.wait_for(conn.close(), 5)
    except Exception:
        conn.terminate()
    except BaseException:  # cancelled while closing: still release the connection
        conn.terminate()
        raise


async def position(db_or_session: Database | AsyncSession, name: str) -> tuple[int, int]:
    """A consumer's position as (xid, event_id); (0, 0) before its first batch."""
    if isinstance(db_or_session, Database):
        async with db_or_session.transaction() as session:
            return await position(session, name)
    row = (await db_or_session.execute(READ_POSITION, {"name": name})).one_or_none()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))
