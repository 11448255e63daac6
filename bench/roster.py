"""Roster: `python bench/roster.py [--persons 1000000]`.

What it measures: `GET /ingest/v1/roster?format=ndjson` (and csv) through the
app in this process, read as a stream: rows per second, and how much the
process's peak memory grew while reading (flat memory: a server-side cursor,
one partition at a time). It writes with INSERT ... SELECT (not the API)
`--persons` members in poverty-alleviated households of three persons, every
member's ID sealed (the same ciphertext, so that each row is still opened).

Baseline, measured in the same run: `COPY (SELECT ...) TO STDOUT` of the same
rows, so the ratio shows what decrypting, formatting and HTTP cost. The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from typing import Any

import httpx
from harness import run

from shared.auth import issue_token
from shared.db import Database, use_database
from shared.migrate import migrate
from shared.pii import PiiProtector
from shared.settings import get_settings

_HOUSEHOLDS = """
INSERT INTO households (county_code, household_id, region_code, category, head_name)
SELECT '610326', 'H' || lpad(i::text, 8, '0'), '6103261' || lpad((i % 50)::text, 2, '0') || '201',
       'poverty_alleviated', '张三'
FROM generate_series(0, $1::int - 1) AS i
"""
_MEMBERS = """
INSERT INTO members (county_code, id_hash, household_id, id_sealed, id_masked, name, relation,
    labour_capacity, birth_date, sex)
SELECT '610326', decode(md5(i::text), 'hex'), 'H' || lpad((i / 3)::text, 8, '0'), $2::bytea,
       '610326********0011', '张三', CASE WHEN i % 3 = 0 THEN 'head' ELSE 'child' END, 'full',
       date '1980-01-01', 'male'
FROM generate_series(0, $1::int - 1) AS i
"""
_COPY = (
    "SELECT m.id_sealed, m.name, h.region_code FROM households h JOIN members m"
    " ON m.county_code = h.county_code AND m.household_id = h.household_id"
    " WHERE h.category = 'poverty_alleviated'"
)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench(url: str, persons: int) -> dict[str, Any]:
    from services.app import create_app

    db = Database(url, pool_size=4)
    use_database(db)
    try:
        await migrate(db.engine)
        sealed = PiiProtector.from_secret(get_settings().secret_bytes()).seal("610326198001010011")
        print(f"writing {persons} persons", file=sys.stderr, flush=True)
        async with db.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute(_HOUSEHOLDS, (persons + 2) // 3)
            await driver.execute(_MEMBERS, persons, sealed)
            await driver.execute("VACUUM ANALYZE households")
            await driver.execute("VACUUM ANALYZE members")
            started = time.perf_counter()
            sink = open(os.devnull, "wb")  # noqa: SIM115
            await driver.copy_from_query(_COPY, output=sink.write)
            sink.close()
            copy_seconds = time.perf_counter() - started
        async with db.transaction() as session:
            _, token = await issue_token(
                session, kind="client", name="医保", department="medical_insurance"
            )
        app = create_app()
        outcome: dict[str, Any] = {"persons": persons, "copy_seconds": round(copy_seconds, 2)}
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", timeout=600
            ) as client:
                for output in ("ndjson", "csv"):
                    before = peak_mib()
                    started = time.perf_counter()
                    rows = 0
                    async with client.stream(
                        "GET",
                        "/ingest/v1/roster",
                        params={"format": output},
                        headers={"Authorization": f"Bearer {token}"},
                    ) as response:
                        response.raise_for_status()
                        async for chunk in response.aiter_bytes():
                            rows += chunk.count(b"\n")
                    seconds = time.perf_counter() - started
                    rows -= output == "csv"  # the header
                    if rows != persons:
                        raise SystemExit(f"{output}: expected {persons} rows, got {rows}")
                    outcome[output] = {
                        "seconds": round(seconds, 2),
                        "rows_per_second": round(rows / seconds),
                        "peak_memory_growth_mib": round(peak_mib() - before, 1),
                        "ratio_to_copy": round(seconds / copy_seconds, 1),
                    }
        return outcome
    finally:
        use_database(None)
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    args = parser.parse_args()
    run(lambda url: bench(url, args.persons))


if __name__ == "__main__":
    main()
