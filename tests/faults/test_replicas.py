"""Two replicas of every service on one database (workers on in both): each
scheduled job runs once per due time, and the event consumers share the
work without applying anything twice."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import asyncpg
import httpx
import orjson

from shared.db import Database, plain_url
from tests.faults.fault_helpers import (
    bearer,
    free_port,
    open_cases,
    register_households,
    serve,
    stop,
    today,
)
from tests.services.warning_ingest.ingest_helpers import BATCHES, person

OVERDUE = 25
HOUSEHOLDS = 200
BATCH = 50


def _push(port: int, headers: dict[str, str], first: int) -> httpx.Response:
    # Two warnings (dibao, temporary_assistance) per person.
    lines = []
    for seq in range(first, first + BATCH):
        for warning_type in ("dibao", "temporary_assistance"):
            record = {
                "source_record_id": f"{warning_type}-{seq}",
                "warning_type": warning_type,
                "id_number": person(seq),
                "name": "张三",
            }
            lines.append(orjson.dumps(record))
    body = b"\n".join(lines) + b"\n"
    return httpx.post(
        f"http://127.0.0.1:{port}{BATCHES}",
        content=body,
        headers={**headers, "Content-Type": "application/x-ndjson"},
        timeout=60,
    )


async def _until(conn: asyncpg.Connection, sql: str, expected: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    value = -1
    while time.monotonic() < deadline:
        value = await conn.fetchval(sql)
        if value == expected:
            return int(value)
        await asyncio.sleep(0.3)
    return int(value)


async def test_two_replicas_run_each_job_once_and_apply_each_event_once(fresh_db: Database):
    url = plain_url(fresh_db.url)
    day = today()
    overdue = [f"R-O-{i:03d}" for i in range(OVERDUE)]
    warned = [f"R-W-{i:03d}" for i in range(HOUSEHOLDS)]
    await register_households(fresh_db, overdue, first_seq=30_000)
    # People 40_000 .. 40_000 + HOUSEHOLDS - 1 are registered; the rest of each push is not.
    await register_households(fresh_db, warned, first_seq=40_000)
    headers = await bearer(fresh_db, kind="client", name="民政", department="civil_affairs")
    conn = await asyncpg.connect(url)
    try:
        # Cases whose 15-day deadline passed: the overdue scan announces each once.
        await open_cases(conn, overdue, opened_on=day - timedelta(days=20))
        ports = [free_port(), free_port()]
        # Both start at once: each fires every job at start for the same due time.
        started = await asyncio.gather(
            *(asyncio.to_thread(serve, url, port, workers=True) for port in ports)
        )
        try:
            pushes = await asyncio.gather(
                *(
                    asyncio.to_thread(_push, ports[i % 2], headers, 40_000 + i * BATCH)
                    for i in range(5)  # the fifth push is all unmatched people
                )
            )
            assert [r.status_code for r in pushes] == [201] * 5, [r.text[:200] for r in pushes]
            accepted = sum(r.json()["accepted"] for r in pushes)
            assert accepted == 5 * BATCH * 2
            # Every warning is attached once both consumers have caught up.
            matched = await _until(
                conn, "SELECT count(*) FROM case_warnings", HOUSEHOLDS * 2, seconds=40
            )
            assert matched == HOUSEHOLDS * 2
            await _until(
                conn,
                "SELECT count(*) FROM consumer_positions p WHERE p.event_id <"
                " (SELECT max(id) FROM events)",
                0,
                seconds=30,
            )
            await asyncio.sleep(1)  # one more poll of every consumer
        finally:
            for process in started:
                stop(process)

        # (a) Jobs: one job_runs row per job and due time, each overdue case announced once.
        runs = await conn.fetch(
            "SELECT job_name, due_at, count(*) FROM job_runs GROUP BY 1, 2 HAVING count(*) > 1"
        )
        assert runs == []
        jobs = {r[0] for r in await conn.fetch("SELECT job_name FROM job_runs")}
        assert "overdue-scan" in jobs
        overdue_events = await conn.fetch(
            "SELECT aggregate_id, count(*) FROM events WHERE type = 'case.overdue' GROUP BY 1"
        )
        assert len(overdue_events) == OVERDUE
        assert {n for _, n in overdue_events} == {1}

        # (b) Consumers: every matched warning in exactly one case, one case per
        # household, one case.opened per case.
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM warnings w WHERE w.household_id IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM case_warnings cw"
                " WHERE cw.warning_id = w.warning_id)"
            )
            == 0
        )
        assert (
            await conn.fetchval("SELECT count(*) FROM cases WHERE source = 'department_warning'")
            == HOUSEHOLDS
        )
        opened = await conn.fetch(
            "SELECT c.case_id, (SELECT count(*) FROM events e WHERE e.type = 'case.opened'"
            " AND e.aggregate_id = c.case_id::text) FROM cases c"
        )
        assert {n for _, n in opened} == {1}
        # The reporting summaries count every warning exactly once.
        by_status = dict(await conn.fetch("SELECT status, count(*) FROM warnings GROUP BY status"))
        summarised = dict(
            await conn.fetch(
                "SELECT status, sum(n) FROM summary_warnings WHERE grain = 'county'"
                " AND bucket = 'day' GROUP BY status HAVING sum(n) <> 0"
            )
        )
        assert summarised == by_status
        assert sum(by_status.values()) == accepted
        print(f"statuses {by_status}; job runs {sorted(jobs)}")
    finally:
        await conn.close()
