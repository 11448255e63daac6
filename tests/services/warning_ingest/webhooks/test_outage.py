"""A receiver's outage loses nothing (issue 20, "Done when"): down for a
simulated 11 minutes (first nobody listening: connection refused; then
answering 500) across several retry rounds while new feedback items keep
arriving, then up again. Every item is delivered at least once, none fails,
and each worker round sends what is due in order of due time. The clock is
the test's (shared.clock); the receiver is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from services.warning_ingest.webhooks.delivery import DeliveryWorker
from services.warning_ingest.webhooks.fanout import WEBHOOK_FANOUT
from shared import clock
from shared.db import Database
from tests.services.warning_ingest.webhooks.receiver import Receiver, receiving
from tests.services.warning_ingest.webhooks.webhook_helpers import (
    IG,
    client_headers,
    push_unmatched,
    subscribe,
)

pytestmark = pytest.mark.usefixtures("allowed_hosts")

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
STEP = timedelta(seconds=30)
REFUSED_UNTIL = T0 + timedelta(minutes=5)  # nobody listening on the port
FAILING_UNTIL = T0 + timedelta(minutes=11)  # listening, answering 500


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def queue(db: Database, subscription_id: str) -> list[dict[str, Any]]:
    async with db.transaction() as s:
        rows = await s.execute(
            text(
                "SELECT webhook_id, status, attempts, last_status_code, last_error,"
                " next_attempt_at FROM webhook_deliveries WHERE subscription_id = :id"
                " ORDER BY seq"
            ),
            {"id": uuid.UUID(subscription_id)},
        )
        return [dict(r._mapping) for r in rows]


class Run:
    """The simulation: one subscription, the worker, and what each round sent."""

    def __init__(self, api: httpx.AsyncClient, db: Database, headers: dict[str, str]) -> None:
        self.api, self.db, self.headers = api, db, headers
        self.worker = DeliveryWorker(timeout=2, per_subscription=1, batch_size=8)
        self.warning_ids: list[str] = []
        self.seq = 0
        self.out_of_order: list[tuple[datetime, list[str]]] = []
        self.first_delivered_at: datetime | None = None
        self.largest_round = 0

    async def new_items(self, now: datetime, n: int) -> None:
        with clock.frozen_at(now):
            self.warning_ids += await push_unmatched(
                self.api, self.headers, range(self.seq + 1, self.seq + 1 + n)
            )
            await WEBHOOK_FANOUT.drain(self.db)
        self.seq += n

    async def round(self, now: datetime, sub: str, receiver: Receiver | None) -> int:
        """One worker pass at `now`; checks that it sent in order of due time."""
        due = {
            d["webhook_id"]: d["next_attempt_at"]
            for d in await queue(self.db, sub)
            if d["status"] == "pending"
        }
        before = len(receiver.requests) if receiver else 0
        with clock.frozen_at(now):
            attempts = await self.worker.run_once(self.db)
        if receiver is not None:
            new = receiver.requests[before:]
            if self.first_delivered_at is None and any(200 <= r.answered < 300 for r in new):
                self.first_delivered_at = now
            sent = [r.headers["webhook-id"] for r in new]
            self.largest_round = max(self.largest_round, len(sent))
            times = [due[w] for w in sent]
            assert all(t <= now for t in times)
            if times != sorted(times):
                self.out_of_order.append((now, sent))
        return attempts


async def test_a_receiver_down_for_eleven_minutes_loses_nothing(
    api: httpx.AsyncClient, fresh_db: Database
) -> None:
    headers = await client_headers(fresh_db, "civil_affairs")
    port = free_port()
    sub = (await subscribe(api, headers, f"http://127.0.0.1:{port}/hook"))["subscription_id"]
    run = Run(api, fresh_db, headers)
    now = T0

    # Down: connection refused. Two new items every minute.
    while now < REFUSED_UNTIL:
        if (now - T0) % timedelta(minutes=1) == timedelta(0):
            await run.new_items(now, 2)
        await run.round(now, sub, None)
        now += STEP
    refused = await queue(fresh_db, sub)
    assert {d["last_error"] for d in refused} == {"connect_error"}
    assert {d["status"] for d in refused} == {"pending"}

    with receiving(port=port, fail_first=10**6) as receiver:
        # Listening, but answering 500; items keep arriving.
        while now < FAILING_UNTIL:
            if (now - T0) % timedelta(minutes=1) == timedelta(0):
                await run.new_items(now, 2)
            await run.round(now, sub, receiver)
            now += STEP
        failing = await queue(fresh_db, sub)
        assert receiver.requests and not receiver.delivered()
        assert {d["status"] for d in failing} == {"pending"}
        # The first item went through several retry rounds during the outage.
        assert failing[0]["attempts"] >= 4
        assert failing[0]["last_status_code"] == 500

        # Up again: two more items, then the clock moves to each next due time.
        receiver.recover()
        await run.new_items(now, 2)
        for _ in range(60):  # bounded: the longest wait left is under 20 minutes
            await run.round(now, sub, receiver)
            pending = [d for d in await queue(fresh_db, sub) if d["status"] == "pending"]
            if not pending:
                break
            now = max(now, min(d["next_attempt_at"] for d in pending))
        final = await queue(fresh_db, sub)

    assert len(run.warning_ids) == 2 * 11 + 2
    assert {d["status"] for d in final} == {"delivered"}  # none failed, none left
    assert len(final) == len(run.warning_ids)
    # Every item reached the receiver with a 2xx, signed with its own webhook id.
    delivered = receiver.delivered()
    assert {r.headers["webhook-id"] for r in delivered} == {d["webhook_id"] for d in final}
    bodies = [orjson.loads(r.body) for r in delivered]
    assert {b["warning_id"] for b in bodies} == set(run.warning_ids)
    # Each an item of the feedback list, as GET /feedback gives it.
    listed = (await api.get(IG + "/feedback", headers=headers)).json()["items"]
    assert sorted(listed, key=orjson.dumps) == sorted(
        {b["warning_id"]: b for b in bodies}.values(), key=orjson.dumps
    )
    # The outage lasted over ten simulated minutes, and each round kept due order.
    assert run.first_delivered_at is not None
    assert run.first_delivered_at - T0 >= timedelta(minutes=11)
    assert run.out_of_order == []
    assert run.largest_round >= 2  # rounds with several items due, so order was checked
