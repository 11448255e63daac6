"""`warnex serve --workers 2`: two server processes on one port. One of them
runs the event consumers and the scheduled jobs; when it dies (SIGKILL), the
survivor or the process uvicorn starts in its place takes over; nothing is
applied twice, and SIGTERM stops every process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import asyncpg
import httpx
import orjson

from shared.db import Database, plain_url
from shared.service_app import ELECTION_SECONDS
from tests.faults.fault_helpers import bearer, free_port, register_households, serve, stop
from tests.faults.test_replicas import _until
from tests.services.warning_ingest.ingest_helpers import BATCHES, person

PUSHES = 4  # two before the kills, one after each
HOUSEHOLDS = PUSHES * 20
PUSH = HOUSEHOLDS // PUSHES
# The connections listening for events: one per consumer that runs.
LISTENING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %'"
)
CASES = "SELECT count(*) FROM cases WHERE source = 'department_warning'"


def _consumers() -> int:
    from services.app import create_app

    return sum(len(sub.state.spec.consumers) for sub in create_app().state.services.values())


def _server_processes(supervisor: subprocess.Popen[bytes]) -> set[int]:
    """The supervisor's worker processes (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read_text().split()
    found = set()
    for pid in map(int, children):
        try:
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except FileNotFoundError:
            pass
    return found


def _push(port: int, headers: dict[str, str], first: int) -> httpx.Response:
    lines = [
        orjson.dumps(
            {
                "source_record_id": f"W-{seq}",
                "warning_type": "dibao",
                "id_number": person(seq),
                "name": "张三",
            }
        )
        for seq in range(first, first + PUSH)
    ]
    return httpx.post(
        f"http://127.0.0.1:{port}{BATCHES}",
        content=b"\n".join(lines),
        headers={**headers, "Content-Type": "application/x-ndjson"},
        timeout=60,
    )


async def _replaced(supervisor: subprocess.Popen[bytes], killed: int, seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        current = _server_processes(supervisor)
        if len(current) == 2 and killed not in current:
            return current
        await asyncio.sleep(0.2)
    raise AssertionError("uvicorn did not replace the killed process")


async def test_two_server_processes_run_the_consumers_in_one_and_hand_over(fresh_db: Database):
    url = plain_url(fresh_db.url)
    consumers = _consumers()
    first = 60_000
    await register_households(fresh_db, [f"S-{i:03d}" for i in range(HOUSEHOLDS)], first_seq=first)
    headers = await bearer(fresh_db, kind="client", name="民政", department="civil_affairs")
    conn = await asyncpg.connect(url)
    port = free_port()
    server = serve(url, port, workers=True, processes=2)
    try:
        originals = _server_processes(server)
        assert len(originals) == 2
        # One process runs the consumers: as many listeners as consumers, not twice as many.
        assert await _until(conn, LISTENING, consumers, seconds=30) == consumers
        await asyncio.sleep(ELECTION_SECONDS * 2)
        assert await conn.fetchval(LISTENING) == consumers

        pushed = 0
        for _ in range(2):
            response = await asyncio.to_thread(_push, port, headers, first + pushed)
            assert response.status_code == 201, response.text[:300]
            pushed += PUSH
        assert await _until(conn, CASES, pushed, seconds=40) == pushed

        # Kill each original process in turn: one of them ran the workers.
        for pid in originals:
            os.kill(pid, signal.SIGKILL)
            await _replaced(server, pid, seconds=60)
            assert await _until(conn, LISTENING, consumers, seconds=30) == consumers
            response = await asyncio.to_thread(_push, port, headers, first + pushed)
            assert response.status_code == 201, response.text[:300]
            pushed += PUSH
            assert await _until(conn, CASES, pushed, seconds=40) == pushed
        await asyncio.sleep(ELECTION_SECONDS * 2)
        assert await conn.fetchval(LISTENING) == consumers
        survivors = _server_processes(server)
    finally:
        stop(server)
    try:
        assert server.returncode == 0
        assert not [pid for pid in survivors if Path(f"/proc/{pid}").exists()]
        # Nothing applied twice: one case per household, one case.opened per case,
        # every warning in a case; each job once per due time.
        assert await conn.fetchval(CASES) == HOUSEHOLDS
        opened = await conn.fetch(
            "SELECT c.case_id, (SELECT count(*) FROM events e WHERE e.type = 'case.opened'"
            " AND e.aggregate_id = c.case_id::text) FROM cases c"
        )
        assert {n for _, n in opened} == {1}
        assert await conn.fetchval("SELECT count(*) FROM case_warnings") == pushed
        runs = await conn.fetch(
            "SELECT job_name, due_at FROM job_runs GROUP BY 1, 2 HAVING count(*) > 1"
        )
        assert runs == []
        assert await conn.fetchval("SELECT count(DISTINCT job_name) FROM job_runs") > 0
    finally:
        await conn.close()
