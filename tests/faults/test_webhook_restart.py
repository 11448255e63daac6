"""Webhook deliveries live in PostgreSQL: an item whose first attempt failed is
sent by the next `warnex serve` after a restart, with the same webhook id."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest

from shared.db import Database, plain_url
from tests.faults.fault_helpers import bearer, free_port, serve, stop
from tests.services.warning_ingest.ingest_helpers import BATCHES, record
from tests.services.warning_ingest.webhooks.receiver import receiving

ITEMS = 5


async def test_a_failed_delivery_is_retried_by_the_next_process(
    fresh_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = plain_url(fresh_db.url)
    monkeypatch.setenv("WARNEX_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
    headers = await bearer(fresh_db, kind="client", name="民政", department="civil_affairs")
    conn = await asyncpg.connect(url)
    with receiving(fail_first=1) as receiver:
        port = free_port()
        base = f"http://127.0.0.1:{port}/ingest/v1"
        process = await asyncio.to_thread(serve, url, port, workers=True)
        try:
            created = httpx.post(
                base + "/subscriptions", json={"url": receiver.url}, headers=headers, timeout=30
            )
            assert created.status_code == 201, created.text
            pushed = httpx.post(
                base.removesuffix("/ingest/v1") + BATCHES,
                json={"records": [record(s) for s in range(1, ITEMS + 1)]},
                headers=headers,
                timeout=30,
            )
            assert pushed.status_code == 201, pushed.text
            # The first attempt is refused (500), the other items are delivered.
            assert await asyncio.to_thread(receiver.wait_for, ITEMS - 1, 30)
        finally:
            await asyncio.to_thread(stop, process)
        try:
            pending = await conn.fetch(
                "SELECT webhook_id, attempts, next_attempt_at > now() AS later"
                " FROM webhook_deliveries WHERE status = 'pending'"
            )
            assert [(p["attempts"], p["later"]) for p in pending] == [(1, True)]
            refused = [r for r in receiver.requests if r.answered == 500]
            assert [r.headers["webhook-id"] for r in refused] == [pending[0]["webhook_id"]]
            # Its retry falls due (instead of waiting up to 40 s for it).
            await conn.execute(
                "UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'"
            )
            started = time.monotonic()
            process = await asyncio.to_thread(serve, url, free_port(), workers=True)
            try:
                assert await asyncio.to_thread(receiver.wait_for, ITEMS, 30)
            finally:
                await asyncio.to_thread(stop, process)
            assert time.monotonic() - started < 60
            retried = [r for r in receiver.requests if r.answered == 204][-1]
            assert retried.headers["webhook-id"] == pending[0]["webhook_id"]
            counts = await conn.fetch(
                "SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status"
            )
            assert {c["status"]: c["n"] for c in counts} == {"delivered": ITEMS}
        finally:
            await conn.close()
    assert len(receiver.requests) == ITEMS + 1
