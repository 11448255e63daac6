"""Issue 21, finding 2: uploads that trickle in one byte a second must not
stall the other callers. Twenty of them held twenty pooled connections (the
whole pool) while their bodies crawled in; now a body is read whole before its
request touches the database, so staff paging cases meanwhile are answered at
once. Run against `warnex serve` as a real process with its default pool."""

from __future__ import annotations

import asyncio
import time

import httpx

from shared.db import Database
from tests.faults.fault_helpers import (
    bearer,
    county_staff,
    free_port,
    open_cases,
    register_households,
    serve,
    stop,
    today,
)

TRICKLES = 20
SECONDS = 15.0


async def _trickle(port: int, token: dict[str, str], done: asyncio.Event) -> int:
    """A push declaring 100 kB whose body comes one byte a second; the bytes sent."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "POST /ingest/v1/batches HTTP/1.1\r\nHost: warnex\r\n"
            f"Authorization: {token['Authorization']}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
        ).encode()
    )
    sent = 1
    try:
        while not done.is_set():
            await writer.drain()
            try:
                await asyncio.wait_for(done.wait(), 1.0)
            except TimeoutError:
                writer.write(b" ")
                sent += 1
    finally:
        writer.close()
    return sent


async def test_twenty_trickling_uploads_do_not_slow_staff_paging_cases(fresh_db: Database):
    await register_households(fresh_db, ["H-1", "H-2"], first_seq=1)
    conn = await fresh_db.engine.raw_connection()
    try:
        await open_cases(conn.driver_connection, ["H-1", "H-2"], opened_on=today())  # type: ignore[arg-type]
    finally:
        conn.close()
    department = await bearer(fresh_db, kind="client", name="民政", department="civil_affairs")
    staff = await county_staff(fresh_db)
    port = free_port()
    server = serve(fresh_db.url, port)
    try:
        done = asyncio.Event()
        trickles = [asyncio.create_task(_trickle(port, department, done)) for _ in range(TRICKLES)]
        await asyncio.sleep(2.0)  # every trickle is past its headers
        pages: list[tuple[int, float]] = []
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=40) as client:
            deadline = time.monotonic() + SECONDS
            while time.monotonic() < deadline:
                started = time.monotonic()
                answer = await client.get(
                    "/identification/v1/cases", params={"limit": 1}, headers=staff
                )
                pages.append((answer.status_code, time.monotonic() - started))
                await asyncio.sleep(0.25)
        done.set()
        sent = await asyncio.gather(*trickles)
    finally:
        stop(server)
    slowest = max(seconds for _, seconds in pages)
    print(f"slowest page under {TRICKLES} trickling uploads: {slowest * 1000:.0f} ms")
    assert min(sent) >= SECONDS, "the uploads kept trickling the whole time"
    assert {status for status, _ in pages} == {200}
    assert slowest < 2.0
