"""Starting `warnex serve` as a real process, killing it, and the data the fault
tests need (households, cases, eliminable objects) written straight to the
database so that a test spends its time on the fault, not on the set-up."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx

from shared import clock
from shared.auth import issue_token
from shared.db import Database
from shared.pii import PiiProtector
from shared.registry import load_households
from shared.settings import get_settings
from tests.services.warning_ingest.batches.test_crash_safety import _free_port
from tests.services.warning_ingest.ingest_helpers import COUNTY, VILLAGE, person

__all__ = ["COUNTY", "VILLAGE", "free_port", "serve", "stop", "wait_for_quiet"]

free_port = _free_port


def serve(
    url: str,
    port: int,
    *,
    workers: bool = False,
    processes: int = 1,
    log: Any = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    """`warnex serve` (all four services; `--workers processes`) on `url`,
    once it answers readyz."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "DATABASE_URL": url,
        "WARNEX_RUN_WORKERS": "true" if workers else "false",
        "WARNEX_LOG_LEVEL": "WARNING",
        "WARNEX_CONSUMER_POLL_SECONDS": "0.2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)]
        + (["--workers", str(processes)] if processes > 1 else []),
        env=env,
        stdout=log,
        stderr=log,
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


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM and wait; SIGKILL if it will not go."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def wait_for_quiet(conn: asyncpg.Connection, seconds: float = 30) -> None:
    """Until no other backend of this database is inside a statement or a
    transaction: a killed client's backends roll back once they see it gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        busy = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            " AND state <> 'idle'"
        )
        if not busy:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("backends of the killed server are still busy")


def today() -> date:
    """Today where the server runs (its clock is the real one)."""
    return clock.today()


async def bearer(db: Database, **token: Any) -> dict[str, str]:
    async with db.transaction() as session:
        _, secret = await issue_token(session, **token)
    return {"Authorization": f"Bearer {secret}"}


async def county_staff(db: Database) -> dict[str, str]:
    return await bearer(db, kind="user", name="县级", role="county_staff", region_code=COUNTY)


async def register_households(db: Database, ids: list[str], *, first_seq: int) -> None:
    """One-member households `ids` in VILLAGE, the members people first_seq, first_seq + 1, ..."""
    households = [
        {
            "household_id": household_id,
            "region_code": VILLAGE,
            "category": "general",
            "head_name": "张三",
            "members": [
                {
                    "id_number": person(first_seq + i),
                    "name": "张三",
                    "relation": "head",
                    "labour_capacity": "full",
                }
            ],
        }
        for i, household_id in enumerate(ids)
    ]
    async with db.transaction() as session:
        result = await load_households(
            session,
            households,
            protector=PiiProtector.from_secret(get_settings().secret_bytes()),
            actor="test",
            today=today(),
        )
    assert result.rejected == 0, result.summary()


async def open_cases(conn: asyncpg.Connection, ids: list[str], *, opened_on: date) -> list[str]:
    """An open manual case for each household, with its `case.opened` event."""
    rows = await conn.fetch(
        "WITH opened AS ("
        " INSERT INTO cases (case_id, county_code, household_id, region_code, source,"
        "  description, risk_types, opened_on, deadline, state, opened_by)"
        " SELECT gen_random_uuid(), h.county_code, h.household_id, h.region_code, 'self_report',"
        "  '家中突发变故', '{}', $2::date, $2::date + 15, 'open', 'test'"
        " FROM households h WHERE h.household_id = ANY($1::text[])"
        " RETURNING case_id, county_code, household_id),"
        " announced AS ("
        " INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
        " SELECT county_code, 'case.opened', 'case', case_id::text, 'test',"
        "  jsonb_build_object('case_id', case_id::text, 'household_id', household_id)"
        " FROM opened)"
        " SELECT case_id::text FROM opened ORDER BY household_id",
        ids,
        opened_on,
    )
    assert len(rows) == len(ids)
    return [r[0] for r in rows]


async def eliminable_objects(conn: asyncpg.Connection, ids: list[str], *, day: date) -> list[str]:
    """A monitoring object for each household meeting every elimination
    criterion on `day`: included 300 days before, assessed above the line 260
    and 50 days before (210 days of stable income, every guarantee secure), and
    a measure in progress."""
    rows = await conn.fetch(
        "INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,"
        " monitoring_type, risk_types, status, included_on, case_id)"
        " SELECT gen_random_uuid(), h.county_code, h.household_id, h.region_code, 'marginal',"
        " ARRAY['illness'], 'risk_not_eliminated', $2::date - 300, gen_random_uuid()"
        " FROM households h WHERE h.household_id = ANY($1::text[])"
        " RETURNING object_id::text",
        ids,
        day,
    )
    await conn.execute(
        "INSERT INTO assessments (assessment_id, county_code, object_id, household_id,"
        " assessed_on, kind, income_per_capita_yuan, rigid_expenditure_yuan, housing_secure,"
        " education_secure, medical_secure, drinking_water_secure, actor, recorded_at)"
        " SELECT gen_random_uuid(), o.county_code, o.object_id, o.household_id, $2::date - d,"
        " 'look_back', 9000, 800, true, true, true, true, 'test', now()"
        " FROM monitoring_objects o CROSS JOIN (VALUES (260), (50)) AS a(d)"
        " WHERE o.household_id = ANY($1::text[])",
        ids,
        day,
    )
    await conn.execute(
        "INSERT INTO measures (measure_id, county_code, object_id, household_id, region_code,"
        " category, development, responsible_department, status, planned_on, started_on,"
        " created_by)"
        " SELECT gen_random_uuid(), o.county_code, o.object_id, o.household_id, o.region_code,"
        " 'industry', true, 'agriculture', 'in_progress', $2::date - 290, $2::date - 280, 'test'"
        " FROM monitoring_objects o WHERE o.household_id = ANY($1::text[])",
        ids,
        day,
    )
    assert len(rows) == len(ids)
    return [r[0] for r in rows]


def days_before(day: date, n: int) -> str:
    return (day - timedelta(days=n)).isoformat()
