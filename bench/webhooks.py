"""Webhook deliveries: `python bench/webhooks.py [--items 5000]`.

What it measures: `--items` feedback items (warnings of one department, each
with its `warning.unmatched` event, written with INSERT ... SELECT) fanned out
to one subscription by the `ingest.webhook-fanout` consumer (items/s), then
sent by the delivery worker (`run_once`: claims, signs, POSTs, records) to one
receiver on 127.0.0.1 answering 204 (items/s), at the worker's default
per-subscription concurrency and at a wider one.

Baseline, measured in the same run: the same number of POSTs of the same
body to the same receiver by httpx with the same concurrency and no database,
so the ratio shows what claiming, signing and recording cost. The receiver
runs in a process of its own. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from harness import run
from sqlalchemy import text

from shared.db import Database, use_database
from shared.migrate import migrate

_WARNINGS = """
WITH w AS (
    INSERT INTO warnings (county_code, warning_id, department, warning_type, source_record_id,
        batch_id, batch_index, id_hash, id_sealed, id_masked, name, region_code, received_at,
        received_on, status, late, name_mismatch)
    SELECT '610326', gen_random_uuid(), 'civil_affairs', 'dibao', 'R-' || i, gen_random_uuid(),
        0, '\\x00'::bytea, '\\x00'::bytea, '610326********123X', '张三', '610326100201', now(),
        current_date, 'unmatched', false, false
    FROM generate_series(1, $1::int) AS i
    RETURNING warning_id
)
INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)
SELECT '610326', 'warning.unmatched', 'warning', warning_id::text, 'bench',
       jsonb_build_object('warning_id', warning_id, 'department', 'civil_affairs',
                          'status', 'unmatched')
FROM w
"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def _receive(port: int) -> None:
    _Server(("127.0.0.1", port), _Handler).serve_forever()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _baseline(url: str, items: int, concurrency: int, body: bytes) -> float:
    async with httpx.AsyncClient(trust_env=False) as client:
        queue = iter(range(items))

        async def sender() -> None:
            for _ in queue:
                (await client.post(url, content=body)).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return time.perf_counter() - started


async def _errors(db: Database) -> dict[str, int]:
    async with db.transaction() as session:
        rows = await session.execute(
            text("SELECT coalesce(last_error, 'none'), count(*) FROM webhook_deliveries GROUP BY 1")
        )
        return {str(r[0]): int(r[1]) for r in rows}


async def bench(url: str, items: int, port: int) -> dict[str, Any]:
    from services.warning_ingest.webhooks.delivery import DeliveryWorker
    from services.warning_ingest.webhooks.fanout import WEBHOOK_FANOUT
    from services.warning_ingest.webhooks.subscriptions import subscribe

    db = Database(url, pool_size=8)
    use_database(db)
    receiver = f"http://127.0.0.1:{port}/hook"
    outcome: dict[str, Any] = {"items": items}
    try:
        await migrate(db.engine)
        async with db.transaction() as session:
            sub = await subscribe(session, department="civil_affairs", url=receiver, actor="bench")
        async with db.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute(_WARNINGS, items)
        for concurrency in (4, 16):
            # Each round fans the same events out again, from the start.
            async with db.transaction() as session:
                await session.execute(text("DELETE FROM webhook_deliveries"))
                await session.execute(text("DELETE FROM consumer_positions"))
            started = time.perf_counter()
            await WEBHOOK_FANOUT.drain(db)
            fanout_seconds = time.perf_counter() - started
            worker = DeliveryWorker(per_subscription=concurrency, batch_size=max(32, concurrency))
            print(f"delivering {items} items, {concurrency} in flight", file=sys.stderr)
            started = time.perf_counter()
            attempts = await worker.run_once(db)
            seconds = time.perf_counter() - started
            async with db.transaction() as session:
                delivered = await session.scalar(
                    text(
                        "SELECT count(*) FROM webhook_deliveries"
                        " WHERE status = 'delivered' AND subscription_id = :id"
                    ),
                    {"id": sub["subscription_id"]},
                )
                body = await session.scalar(text("SELECT body FROM webhook_deliveries LIMIT 1"))
            if not attempts == delivered == items:
                errors = await _errors(db)
                raise SystemExit(f"expected {items} delivered, got {delivered}: {errors}")
            baseline = await _baseline(receiver, items, concurrency, body.encode())
            outcome[f"in_flight_{concurrency}"] = {
                "fanout_items_per_second": round(items / fanout_seconds),
                "delivery_seconds": round(seconds, 2),
                "delivered_per_second": round(items / seconds),
                "baseline_posts_per_second": round(items / baseline),
                "ratio_to_baseline": round(seconds / baseline, 1),
            }
        return outcome
    finally:
        use_database(None)
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=5000)
    args = parser.parse_args()
    port = _free_port()
    os.environ["WARNEX_WEBHOOK_ALLOWED_HOSTS"] = "127.0.0.1"
    process = multiprocessing.Process(target=_receive, args=(port,), daemon=True)
    process.start()
    try:
        run(lambda url: bench(url, args.items, port))
    finally:
        process.terminate()
        process.join(5)


if __name__ == "__main__":
    main()
