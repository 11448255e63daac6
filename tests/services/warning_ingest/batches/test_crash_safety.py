"""A server killed (SIGKILL) while it stores a large batch loses nothing
acknowledged and leaves nothing half-written: the same batch pushed again
after a restart ends with every record stored exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import asyncpg
import httpx
import orjson
import pytest

from shared.auth import issue_token
from shared.db import Database, plain_url
from tests.services.warning_ingest.ingest_helpers import person

RECORDS = 30_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DATABASE_URL": url, "WARNEX_RUN_WORKERS": "false", "WARNEX_LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "warnex serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ingest/v1/readyz", timeout=2).is_success:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("warnex serve did not become ready")


def _body() -> bytes:
    return b"".join(
        orjson.dumps(
            {
                "source_record_id": f"C-{i:06d}",
                "warning_type": "dibao",
                "id_number": person(i % 1000, division=f"61{i // 1000 % 100:02d}26"),
                "name": "王芳",
                "details": {"note": "x" * 100},
            }
        )
        + b"\n"
        for i in range(RECORDS)
    )


def _chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 1 << 16):
        yield body[start : start + (1 << 16)]


async def _kill_when(url: str, fragment: str, server: subprocess.Popen[bytes]) -> None:
    """SIGKILL the server the moment its batch statement containing `fragment` runs
    (within the first 1 kB of the statement: pg_stat_activity keeps no more)."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            running = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE state = 'active' AND position($1 in query) > 0 AND pid <> pg_backend_pid()",
                fragment,
            )
            if running:
                server.send_signal(signal.SIGKILL)
                server.wait()
                return
            await asyncio.sleep(0.005)
        raise AssertionError(f"no statement with {fragment!r} was seen")
    finally:
        await conn.close()


def _push(port: int, token: str, body: bytes) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{port}/ingest/v1/batches",
        content=_chunks(body),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
        timeout=300,
    )


@pytest.mark.parametrize(
    "moment",
    ["COPY", "WITH candidates AS"],
    ids=["while-staging", "while-storing"],
)
async def test_batch_killed_mid_store_is_stored_exactly_once_when_pushed_again(
    fresh_db: Database, moment: str
):
    url = plain_url(fresh_db.url)
    async with fresh_db.transaction() as session:
        _, token = await issue_token(
            session, kind="client", name="民政", department="civil_affairs"
        )
    body = _body()
    port = _free_port()
    server = _serve(url, port)
    try:
        killer = asyncio.create_task(_kill_when(url, moment, server))
        with pytest.raises(httpx.TransportError):
            await asyncio.to_thread(_push, port, token, body)
        await killer
    finally:
        if server.poll() is None:
            server.kill()
    conn = await asyncpg.connect(url)
    try:
        # The killed server's backend rolls back once it sees its client gone.
        for _ in range(300):
            if not await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                " AND state <> 'idle'"
            ):
                break
            await asyncio.sleep(0.1)
        assert await conn.fetchval("SELECT count(*) FROM warnings") == 0
        assert await conn.fetchval("SELECT count(*) FROM ingest_batches") == 0

        server = _serve(url, port)
        try:
            response = await asyncio.to_thread(_push, port, token, body)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        assert response.status_code == 201, response.text[:500]
        receipt = response.json()
        assert receipt["record_count"] == RECORDS
        assert receipt["accepted"] == RECORDS
        assert receipt["duplicates"] == receipt["rejected"] == 0
        stored = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT source_record_id) AS distinct_ids FROM warnings"
        )
        assert (stored["n"], stored["distinct_ids"]) == (RECORDS, RECORDS)
        assert await conn.fetchval("SELECT count(*) FROM warning_sources") == RECORDS
        events = await conn.fetchval("SELECT count(*) FROM events WHERE aggregate_type = 'warning'")
        assert events == RECORDS
    finally:
        await conn.close()
