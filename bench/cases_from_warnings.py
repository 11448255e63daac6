"""Cases-from-warnings benchmark: `python bench/cases_from_warnings.py [--records 100000]`.

Starts a fresh embedded PostgreSQL in a temporary directory (or uses
DATABASE_URL as it is), migrates, loads a registry of 100k households (three
members each, bench/registry_load.py's writer), pushes one NDJSON batch of
`dibao` records to `POST /ingest/v1/batches` through the ASGI app in this
process (one record per household, one in 50 naming a person outside the
registry), and then times, from the receipt, until every case exists: the
`identification.cases` consumer draining the `warning.accepted` events
(`CASES_FROM_WARNINGS.drain`). As a baseline it times a plain INSERT ... SELECT
of as many rows into a copy of `cases` with the same indexes.

Target: every case of a 100k-record batch within 30 s of its receipt (API.md:
cases normally appear within 2 s of a receipt). The last line printed is one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from database import bench_database
from registry_load import _name, _number, write_households
from sqlalchemy import text

from services.identification.cases.opening import CASES_FROM_WARNINGS
from shared import clock
from shared.auth import issue_token
from shared.db import Database, use_database
from shared.migrate import migrate
from shared.observability import configure_logging
from shared.pii import PiiProtector
from shared.registry import load_households
from shared.registry.files import ndjson_records
from shared.settings import get_settings, reset_settings

UNKNOWN_EVERY = 50  # one record in 50 names a person outside the registry
MEMBERS = 3


def write_records(path: Path, size: int, households: int) -> None:
    """One dibao record per household (members in turn), some for unknown people."""
    persons = households * MEMBERS
    with path.open("wb") as out:
        for i in range(size):
            if i % UNKNOWN_EVERY == UNKNOWN_EVERY - 1:
                person = persons + i
            else:
                person = (i % households) * MEMBERS + i % MEMBERS
            record = {
                "source_record_id": f"D-{i:08d}",
                "warning_type": "dibao",
                "id_number": _number(person),
                "name": _name(person),
                "details": {"applied_on": "2026-11-01"},
            }
            out.write(orjson.dumps(record) + b"\n")


async def load_registry(db: Database, path: Path) -> int:
    protector = PiiProtector.from_secret(get_settings().secret_bytes())
    async with db.transaction() as session:
        with path.open("rb") as handle:
            result = await load_households(
                session,
                ndjson_records(handle),
                protector=protector,
                actor="bench",
                today=clock.today(),
            )
    return result.upserted


async def push(db: Database, path: Path) -> dict[str, Any]:
    async with db.transaction() as session:
        _, token = await issue_token(
            session, kind="client", name="民政", department="civil_affairs"
        )
    from services.app import create_app

    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        response = await client.post(
            "/ingest/v1/batches",
            content=path.read_bytes(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
            timeout=600,
        )
    if response.status_code != 201:
        raise SystemExit(f"push failed: {response.status_code} {response.text[:300]}")
    return dict(response.json())


async def count(db: Database, sql: str) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(text(sql)) or 0)


async def time_floor(db: Database) -> tuple[float, int]:
    """A plain INSERT ... SELECT of a case per matched warning into a copy of `cases`."""
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute(
            "DROP TABLE IF EXISTS bench_cases_floor; CREATE TABLE bench_cases_floor"
            " (LIKE cases INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
        started = time.perf_counter()
        async with driver.transaction():
            status = await driver.execute(
                "INSERT INTO bench_cases_floor (case_id, county_code, household_id, region_code,"
                " source, opened_on, deadline, state, opened_by)"
                " SELECT gen_random_uuid(), county_code, household_id, region_code,"
                " 'department_warning', received_on, received_on + 15, 'open', 'bench'"
                " FROM warnings WHERE status = 'matched'"
            )
        seconds = time.perf_counter() - started
        await driver.execute("DROP TABLE bench_cases_floor")
    return seconds, int(status.split()[-1])


async def bench(url: str, households: int, records: int, workdir: Path) -> dict[str, Any]:
    db = Database(url, pool_size=5)
    use_database(db)
    try:
        await migrate(db.engine)
        registry = workdir / "households.ndjson"
        write_households(registry, households, MEMBERS)
        print(f"loading a registry of {households} households", file=sys.stderr)
        await load_registry(db, registry)
        batch = workdir / "batch.ndjson"
        write_records(batch, records, households)
        print(f"pushing {records} records", file=sys.stderr)
        started = time.perf_counter()
        receipt = await push(db, batch)
        received = time.perf_counter()
        print("draining identification.cases", file=sys.stderr)
        scanned = await CASES_FROM_WARNINGS.drain(db)
        done = time.perf_counter()
        accepted_events = await count(
            db, "SELECT count(*) FROM events WHERE type = 'warning.accepted'"
        )
        cases = await count(db, "SELECT count(*) FROM cases")
        attached = await count(db, "SELECT count(*) FROM case_warnings")
        households_matched = await count(
            db,
            "SELECT count(DISTINCT (county_code, household_id)) FROM warnings"
            " WHERE status = 'matched'",
        )
        print("timing the INSERT ... SELECT floor", file=sys.stderr)
        floor, floor_rows = await time_floor(db)
    finally:
        await db.dispose()
    seconds_to_cases = done - received
    return {
        "warnings": receipt["accepted"],
        "warning_accepted_events": accepted_events,
        "households_matched": households_matched,
        "cases": cases,
        "warnings_attached": attached,
        "events_scanned": scanned,
        "push_seconds": round(received - started, 2),
        "seconds_to_cases": round(seconds_to_cases, 2),
        "cases_per_s": round(cases / seconds_to_cases),
        "floor_rows": floor_rows,
        "floor_seconds": round(floor, 2),
        "ratio_to_floor": round(seconds_to_cases / floor, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    with bench_database() as (workdir, url):
        os.environ.setdefault(
            "WARNEX_SECRET_KEY", base64.b64encode(secrets.token_bytes(32)).decode()
        )
        os.environ.setdefault("WARNEX_DATA_DIR", str(workdir / "data"))
        os.environ["WARNEX_RUN_WORKERS"] = "false"
        reset_settings()
        configure_logging("WARNING")
        outcome = asyncio.run(bench(url, args.households, args.records, workdir))
    print(orjson.dumps(outcome).decode())


if __name__ == "__main__":
    main()
