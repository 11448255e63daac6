"""A server killed (SIGKILL) while many case steps and risk eliminations are
in flight leaves no half-done step or elimination: after a restart every
row agrees with its events, every acknowledged write is there, and the work
that was cut off can simply be done again.

(The kill during a large ingest batch is
tests/services/warning_ingest/batches/test_crash_safety.py.)
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest

from shared.db import Database, plain_url
from tests.faults.fault_helpers import (
    county_staff,
    days_before,
    eliminable_objects,
    free_port,
    open_cases,
    register_households,
    serve,
    stop,
    today,
    wait_for_quiet,
)

CASES = 30
OBJECTS = 30
CLIENTS = 8
ORDER = ["household_visit", "village_review", "township_review", "county_approval"]


def step_bodies(day: date) -> dict[str, dict[str, Any]]:
    """step_helpers.BODIES moved to the server's real today: opened 13 days ago,
    visited, reviewed with a five-day notice, approved 5 days ago."""
    return {
        "household_visit": {
            "visited_on": days_before(day, 12),
            "income_per_capita_yuan": 5200.5,
            "rigid_expenditure_yuan": 31000,
            "housing_secure": True,
            "education_secure": True,
            "medical_secure": False,
            "drinking_water_secure": True,
            "authorisation_signed": True,
            "eligible": True,
        },
        "village_review": {
            "reviewed_on": days_before(day, 11),
            "notice_start": days_before(day, 10),
            "notice_end": days_before(day, 6),
            "objections": False,
        },
        "township_review": {"reviewed_on": days_before(day, 9), "approved": True},
        "county_approval": {
            "approved_on": days_before(day, 5),
            "comparison_waived": False,
            "outcome": "included",
            "monitoring_type": "marginal",
            "risk_types": ["illness"],
        },
    }


class Workload:
    """Cases walked through their steps and objects eliminated by CLIENTS
    concurrent clients; remembers every write acknowledged with a 200."""

    def __init__(self, base: str, headers: dict[str, str], day: date) -> None:
        self.base, self.headers, self.day = base, headers, day
        self.bodies = step_bodies(day)
        self.steps_ok: set[tuple[str, str]] = set()
        self.eliminated_ok: set[str] = set()
        self.unexpected: list[tuple[str, int, str]] = []

    def acknowledged(self) -> int:
        return len(self.steps_ok) + len(self.eliminated_ok)

    def _post(self, client: httpx.Client, path: str, body: dict[str, Any]) -> int | None:
        try:
            response = client.post(self.base + path, json=body, headers=self.headers)
        except httpx.TransportError:
            return None  # the server is gone: stop this client
        if response.status_code != 200:
            self.unexpected.append((path, response.status_code, response.text[:200]))
        return response.status_code

    def walk(self, cases: list[str], done: Callable[[str], list[str]]) -> None:
        """Record each case's missing steps in order."""
        with httpx.Client(timeout=60) as client:
            for case_id in cases:
                for step in ORDER:
                    if step in done(case_id):
                        continue
                    path = f"/identification/v1/cases/{case_id}/steps/{step}"
                    status = self._post(client, path, self.bodies[step])
                    if status is None:
                        return
                    if status == 200:
                        self.steps_ok.add((case_id, step))

    def eliminate(self, objects: list[str]) -> None:
        with httpx.Client(timeout=60) as client:
            for object_id in objects:
                path = f"/assistance/v1/monitoring_objects/{object_id}/elimination"
                status = self._post(client, path, {"decided_on": self.day.isoformat()})
                if status is None:
                    return
                if status == 200:
                    self.eliminated_ok.add(object_id)

    async def run(self, cases: list[str], objects: list[str], done: dict[str, list[str]]) -> None:
        half = CLIENTS // 2
        jobs = [
            asyncio.to_thread(self.walk, cases[i::half], lambda c: done.get(c, []))
            for i in range(half)
        ] + [asyncio.to_thread(self.eliminate, objects[i::half]) for i in range(half)]
        await asyncio.gather(*jobs)


async def _kill_inside(
    url: str, fragment: str, server: subprocess.Popen[bytes], work: Workload
) -> int:
    """Once a random number of writes were acknowledged, SIGKILL the server
    while one of its transactions has run a statement containing `fragment`
    and not yet committed; return the number acknowledged by then."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + 60
        threshold = random.randint(10, 60)
        while work.acknowledged() < threshold and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        while time.monotonic() < deadline:
            inside = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE state IN ('active', 'idle in transaction')"
                " AND position($1 in query) > 0 AND pid <> pg_backend_pid()",
                fragment,
            )
            if inside:
                server.send_signal(signal.SIGKILL)
                server.wait()
                return work.acknowledged()
            await asyncio.sleep(0.002)
        raise AssertionError(f"no transaction with {fragment!r} was seen")
    finally:
        await conn.close()


# Each query answers rows that break an invariant (none expected).
INVARIANTS = {
    "steps_done differs from the case's case_steps rows": """
        SELECT c.case_id FROM cases c
        LEFT JOIN LATERAL (SELECT array_agg(s.step::text ORDER BY s.step) AS steps
                           FROM case_steps s WHERE s.case_id = c.case_id) s ON true
        WHERE coalesce(s.steps, '{}') <> coalesce(
            (SELECT array_agg(x::text ORDER BY x) FROM unnest(c.steps_done) x), '{}')""",
    "case_steps rows differ from the case.step_completed events": """
        SELECT coalesce(s.case_id::text, e.case_id) FROM
            (SELECT case_id, step::text AS step, count(*) AS n FROM case_steps
             GROUP BY 1, 2) s
        FULL JOIN
            (SELECT aggregate_id AS case_id, payload->>'step' AS step, count(*) AS n
             FROM events WHERE type = 'case.step_completed' GROUP BY 1, 2) e
        ON e.case_id = s.case_id::text AND e.step = s.step
        WHERE s.n IS DISTINCT FROM 1 OR e.n IS DISTINCT FROM 1""",
    "a decided case without exactly one case.decided (or an open one with any)": """
        SELECT c.case_id FROM cases c
        WHERE (SELECT count(*) FROM events e WHERE e.type = 'case.decided'
               AND e.aggregate_id = c.case_id::text)
            <> CASE c.state WHEN 'decided' THEN 1 ELSE 0 END""",
    "a decided case whose county approval is missing": """
        SELECT case_id FROM cases WHERE state = 'decided'
        AND NOT ('county_approval' = ANY(steps_done))""",
    "an included case without exactly one monitoring object and its event": """
        SELECT c.case_id FROM cases c
        WHERE (c.outcome = 'included') <> EXISTS (
            SELECT 1 FROM monitoring_objects o
            WHERE o.case_id = c.case_id AND (SELECT count(*) FROM events e
                WHERE e.type = 'monitoring_object.included'
                AND e.aggregate_id = o.object_id::text) = 1)
        OR (SELECT count(*) FROM monitoring_objects o WHERE o.case_id = c.case_id)
            <> CASE c.outcome WHEN 'included' THEN 1 ELSE 0 END""",
    "an object whose status disagrees with its risk.eliminated events": """
        SELECT o.object_id FROM monitoring_objects o
        WHERE (o.status = 'risk_eliminated') <> (o.eliminated_on IS NOT NULL)
           OR (SELECT count(*) FROM events e WHERE e.type = 'risk.eliminated'
               AND e.aggregate_id = o.object_id::text)
              <> CASE o.status WHEN 'risk_eliminated' THEN 1 ELSE 0 END""",
    "an event without its audit record (or the other way round)": """
        SELECT t.type FROM (VALUES ('case.step_completed'), ('case.decided'),
                                   ('risk.eliminated')) AS t(type)
        WHERE (SELECT count(*) FROM events e WHERE e.type = t.type)
           <> (SELECT count(*) FROM audit_log a WHERE a.action = t.type)""",
}


async def _check_consistent(conn: asyncpg.Connection) -> None:
    broken = {name: [r[0] for r in await conn.fetch(sql)][:5] for name, sql in INVARIANTS.items()}
    assert {k: v for k, v in broken.items() if v} == {}


async def _steps_done(conn: asyncpg.Connection) -> dict[str, list[str]]:
    rows = await conn.fetch("SELECT case_id::text, steps_done FROM cases")
    return {case_id: list(steps) for case_id, steps in rows}


@pytest.mark.parametrize(
    "moment",
    ["INSERT INTO case_steps", "UPDATE monitoring_objects SET status = 'risk_eliminated'"],
    ids=["during-a-case-step", "during-an-elimination"],
)
async def test_server_killed_mid_write_leaves_every_step_and_elimination_whole(
    fresh_db: Database, moment: str
):
    url = plain_url(fresh_db.url)
    day = today()
    case_households = [f"K-C-{i:03d}" for i in range(CASES)]
    object_households = [f"K-O-{i:03d}" for i in range(OBJECTS)]
    await register_households(fresh_db, case_households + object_households, first_seq=20_000)
    headers = await county_staff(fresh_db)
    conn = await asyncpg.connect(url)
    try:
        cases = await open_cases(
            conn, case_households, opened_on=date.fromordinal(day.toordinal() - 13)
        )
        objects = await eliminable_objects(conn, object_households, day=day)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        work = Workload(base, headers, day)

        server = serve(url, port)
        try:
            killer = asyncio.create_task(_kill_inside(url, moment, server, work))
            await work.run(cases, objects, {})
            acknowledged_at_kill = await killer
        finally:
            if server.poll() is None:
                server.kill()
        await wait_for_quiet(conn)
        # Nothing but 200s before the kill (the kill itself shows as a closed connection).
        assert work.unexpected == []
        assert 10 <= acknowledged_at_kill <= work.acknowledged() < CASES * len(ORDER) + OBJECTS
        print(
            f"killed after {acknowledged_at_kill} acknowledged writes,"
            f" {work.acknowledged()} answered in all"
        )

        await _check_consistent(conn)
        stored_steps = {
            (r[0], r[1]) for r in await conn.fetch("SELECT case_id::text, step FROM case_steps")
        }
        assert work.steps_ok <= stored_steps
        eliminated = {
            r[0]
            for r in await conn.fetch(
                "SELECT object_id::text FROM monitoring_objects WHERE status = 'risk_eliminated'"
            )
        }
        assert work.eliminated_ok <= eliminated
        # At most the in-flight requests (one per client) committed without their answer.
        assert len(stored_steps - work.steps_ok) + len(eliminated - work.eliminated_ok) <= CLIENTS

        # After a restart the cut-off work is done again and completes cleanly.
        t0 = time.monotonic()
        server = serve(url, port)
        print(f"restarted in {time.monotonic() - t0:.1f} s")
        try:
            again = Workload(base, headers, day)
            await again.run(
                cases, [o for o in objects if o not in eliminated], await _steps_done(conn)
            )
        finally:
            stop(server)
        assert again.unexpected == []
        assert await conn.fetchval("SELECT count(*) FROM case_steps") == CASES * len(ORDER)
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM cases WHERE state = 'decided' AND outcome = 'included'"
            )
            == CASES
        )
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM monitoring_objects WHERE status = 'risk_eliminated'"
            )
            == OBJECTS
        )
        await _check_consistent(conn)
    finally:
        await conn.close()
