"""Sending the queued deliveries (worker `ingest.webhook-deliveries`).

Work is claimed per subscription: a claim leases up to `batch_size` due
deliveries of each of up to `subscriptions` subscriptions (`busy_until`, taken
with FOR UPDATE SKIP LOCKED), so any number of processes can run the worker,
one batch is in flight per subscription with at most `per_subscription`
requests open at once, and a slow or dead receiver holds up only its own
batch while the others go on. The lease outlasts the slowest batch (every
request timing out). Each attempt has
`timeout` seconds in all; redirects are never followed; the host is resolved
and checked again before each batch (targets.py). A 2xx answer delivers;
anything else is retried after an exponential back-off with jitter (the first
within 60 seconds) until the delivery's retry window (24 hours) has passed,
then it is `failed`. A process that dies mid-batch leaves its lease to expire;
the batch is then sent again (at least once). Time comes from shared.clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import Uuid, bindparam, text

from services.warning_ingest.webhooks.signing import signed_headers, signing_key
from services.warning_ingest.webhooks.subscriptions import open_secret
from services.warning_ingest.webhooks.targets import Target, TargetRefused, resolve_target
from shared import clock
from shared.db import Database
from shared.settings import get_settings

log = structlog.get_logger("warnex.webhooks")

FIRST_RETRY_SECONDS = 40.0
MAX_RETRY_SECONDS = 3600.0
USER_AGENT = "warnex-webhooks/1"


def retry_delay(round_attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """The wait after the `round_attempts`-th failed attempt: 40 s doubling to an
    hour, less up to a quarter at random so that receivers are not hit in step."""
    base = min(FIRST_RETRY_SECONDS * 2 ** max(round_attempts - 1, 0), MAX_RETRY_SECONDS)
    return timedelta(seconds=base * (rng or random).uniform(0.75, 1.0))


@dataclass
class Claimed:
    """One subscription's leased batch."""

    subscription_id: uuid.UUID
    url: str
    key: bytes
    deliveries: list[dict[str, Any]]


@dataclass
class Outcome:
    delivery_id: uuid.UUID
    status_code: int | None
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_CLAIM = text(
    """
WITH ready AS (
    SELECT s.subscription_id FROM webhook_subscriptions s
    WHERE (s.busy_until IS NULL OR s.busy_until <= :now)
      AND EXISTS (SELECT 1 FROM webhook_deliveries d
                  WHERE d.subscription_id = s.subscription_id AND d.status = 'pending'
                    AND d.next_attempt_at <= :now)
    ORDER BY s.busy_until NULLS FIRST, s.subscription_id
    LIMIT :subscriptions
    FOR UPDATE SKIP LOCKED
), leased AS (
    UPDATE webhook_subscriptions s SET busy_until = :lease_until
    FROM ready r WHERE s.subscription_id = r.subscription_id
    RETURNING s.subscription_id, s.url, s.secret_sealed
)
SELECT l.subscription_id, l.url, l.secret_sealed, d.delivery_id, d.webhook_id, d.body,
       d.round_attempts, d.retry_until
FROM leased l CROSS JOIN LATERAL (
    SELECT delivery_id, webhook_id, body, round_attempts, retry_until
    FROM webhook_deliveries d
    WHERE d.subscription_id = l.subscription_id AND d.status = 'pending'
      AND d.next_attempt_at <= :now
    ORDER BY d.next_attempt_at, d.seq
    LIMIT :batch_size
) d
"""
)

_RECORD = text(
    "UPDATE webhook_deliveries d SET attempts = d.attempts + 1,"
    " round_attempts = d.round_attempts + 1, last_attempt_at = :now,"
    " last_status_code = r.status_code, last_error = r.error, status = r.status,"
    " next_attempt_at = r.next_attempt_at"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:codes AS integer[]), CAST(:errors AS text[]),"
    "             CAST(:statuses AS text[]), CAST(:nexts AS timestamptz[]))"
    "      AS r(delivery_id, status_code, error, status, next_attempt_at)"
    " WHERE d.delivery_id = r.delivery_id AND d.status = 'pending'"
)
_RELEASE = text(
    "UPDATE webhook_subscriptions SET busy_until = :now WHERE subscription_id = :id"
).bindparams(bindparam("id", type_=Uuid))


class DeliveryWorker:
    """Sends due deliveries; `run_forever` is registered with the service's workers."""

    def __init__(
        self,
        name: str = "ingest.webhook-deliveries",
        *,
        timeout: float = 10.0,
        per_subscription: int = 4,
        batch_size: int = 32,
        subscriptions: int = 32,
        poll_seconds: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.per_subscription = per_subscription
        self.batch_size = max(batch_size, per_subscription)
        self.subscriptions = subscriptions
        self.poll_seconds = poll_seconds
        self.transport = transport
        rounds = -(-self.batch_size // per_subscription)
        self.lease = timedelta(seconds=rounds * (timeout + 5) + 60)

    def client(self) -> httpx.AsyncClient:
        """One connection pool for every receiver; no redirects, no proxies from the environment."""
        return httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_connections=self.subscriptions * self.per_subscription),
            headers={"user-agent": USER_AGENT, "content-type": "application/json"},
            transport=self.transport,
        )

    async def claim(self, db: Database, *, limit: int) -> list[Claimed]:
        """Lease the due deliveries of up to `limit` subscriptions."""
        now = clock.now()
        async with db.transaction() as session:
            rows = await session.execute(
                _CLAIM,
                {
                    "now": now,
                    "lease_until": now + self.lease,
                    "subscriptions": limit,
                    "batch_size": self.batch_size,
                },
            )
            batches: dict[uuid.UUID, Claimed] = {}
            for row in rows:
                batch = batches.get(row.subscription_id)
                if batch is None:
                    key = signing_key(open_secret(row.subscription_id, row.secret_sealed))
                    batch = batches[row.subscription_id] = Claimed(
                        row.subscription_id, row.url, key, []
                    )
                batch.deliveries.append(dict(row._mapping))
        return list(batches.values())

    async def _attempt(
        self, client: httpx.AsyncClient, target: Target, key: bytes, delivery: dict[str, Any]
    ) -> Outcome:
        body = delivery["body"].encode()
        headers = signed_headers(
            key,
            webhook_id=delivery["webhook_id"],
            timestamp=int(clock.now().timestamp()),
            body=body,
        )
        url = httpx.URL(target.url)
        headers["host"] = url.netloc.decode("ascii")
        request = client.build_request(
            "POST",
            url.copy_with(host=target.address),
            content=body,
            headers=headers,
            extensions={"sni_hostname": target.host},
        )
        try:
            async with asyncio.timeout(self.timeout):
                # Only the status matters: the receiver's body is never read.
                response = await client.send(request, stream=True)
                await response.aclose()
        except TimeoutError:
            return Outcome(delivery["delivery_id"], None, "timeout")
        except httpx.TimeoutException:
            return Outcome(delivery["delivery_id"], None, "timeout")
        except httpx.HTTPError as exc:
            return Outcome(delivery["delivery_id"], None, _error_code(exc))
        return Outcome(delivery["delivery_id"], response.status_code, None)

    async def send(self, client: httpx.AsyncClient, batch: Claimed) -> list[Outcome]:
        """One attempt for each delivery of the batch, `per_subscription` at a time."""
        try:
            target = await resolve_target(batch.url, get_settings().webhook_hosts())
        except TargetRefused as refused:
            return [Outcome(d["delivery_id"], None, refused.code) for d in batch.deliveries]
        gate = asyncio.Semaphore(self.per_subscription)

        async def attempt(delivery: dict[str, Any]) -> Outcome:
            async with gate:
                return await self._attempt(client, target, batch.key, delivery)

        return list(await asyncio.gather(*(attempt(d) for d in batch.deliveries)))

    async def record(self, db: Database, batch: Claimed, outcomes: list[Outcome]) -> None:
        """Store the attempts' results and release the subscription's lease."""
        now = clock.now()
        by_id = {d["delivery_id"]: d for d in batch.deliveries}
        statuses: list[str] = []
        nexts: list[datetime | None] = []
        for outcome in outcomes:
            delivery = by_id[outcome.delivery_id]
            if outcome.delivered:
                statuses.append("delivered")
                nexts.append(None)
            elif now >= delivery["retry_until"]:
                statuses.append("failed")
                nexts.append(None)
            else:
                statuses.append("pending")
                nexts.append(now + retry_delay(delivery["round_attempts"] + 1))
        async with db.transaction() as session:
            await session.execute(
                _RECORD,
                {
                    "ids": [o.delivery_id for o in outcomes],
                    "codes": [o.status_code for o in outcomes],
                    "errors": [o.error for o in outcomes],
                    "statuses": statuses,
                    "nexts": nexts,
                    "now": now,
                },
            )
            await session.execute(_RELEASE, {"id": batch.subscription_id, "now": now})

    async def serve(self, db: Database, client: httpx.AsyncClient, batch: Claimed) -> int:
        """Send one leased batch and record it; return the number delivered."""
        outcomes = await self.send(client, batch)
        await self.record(db, batch, outcomes)
        return sum(o.delivered for o in outcomes)

    async def run_once(self, db: Database, client: httpx.AsyncClient | None = None) -> int:
        """Send everything due now, batch after batch, until nothing is due; return
        the number of attempts made. Bounded: a delivery is tried at most once per
        call, since a failed one is due again only later."""
        async with contextlib.AsyncExitStack() as stack:
            if client is None:
                client = await stack.enter_async_context(self.client())
            attempts = 0
            while batches := await self.claim(db, limit=self.subscriptions):
                await asyncio.gather(*(self.serve(db, client, b) for b in batches))
                attempts += sum(len(b.deliveries) for b in batches)
            return attempts

    async def run_forever(self, db: Database) -> None:
        """Keep up to `subscriptions` batches in flight, claiming more as any ends
        and polling every `poll_seconds`. Returns only by cancellation (shutdown),
        after cancelling the batches in flight and releasing their leases."""
        poll = self.poll_seconds or get_settings().consumer_poll_seconds
        running: dict[asyncio.Task[int], Claimed] = {}
        async with self.client() as client:
            try:
                while True:
                    free = self.subscriptions - len(running)
                    batches: list[Claimed] = []
                    if free > 0:
                        try:
                            batches = await self.claim(db, limit=free)
                        except Exception as exc:
                            log.error("webhook_claim_failed", error=type(exc).__name__)
                    for batch in batches:
                        task = asyncio.create_task(self.serve(db, client, batch))
                        running[task] = batch
                    if running:
                        done, _ = await asyncio.wait(
                            running, timeout=poll, return_when=asyncio.FIRST_COMPLETED
                        )
                        for task in done:
                            running.pop(task)
                            if not task.cancelled() and task.exception() is not None:
                                error = type(task.exception()).__name__
                                log.error("webhook_batch_failed", error=error)
                    elif not batches:
                        await asyncio.sleep(poll)
            finally:
                await self._stop(db, running)

    async def _stop(self, db: Database, running: dict[asyncio.Task[int], Claimed]) -> None:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        # Unsent batches become due again at once for the next worker (or the
        # lease would hold them back for its remaining minutes).
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                now = clock.now()
                async with db.transaction() as session:
                    for batch in running.values():
                        await session.execute(_RELEASE, {"id": batch.subscription_id, "now": now})


def _error_code(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "protocol_error"
    return "transport_error"


WEBHOOK_DELIVERIES = DeliveryWorker()
