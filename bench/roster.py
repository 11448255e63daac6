"""Roster: `python bench/roster.py [--persons 1000000]`.

What it measures: `GET /ingest/v1/roster?format=ndjson` (and csv) from a
`warnex serve` process over HTTP, read as a stream: rows per second, and how
much the server's peak memory (VmHWM) grew during the download (flat memory:
a server-side cursor, one partition at a time). It writes with INSERT ... SELECT (not the API)
`--persons` members in poverty-alleviated households of three persons, every
member's ID sealed (the same ciphertext, so that each row is still opened).

Baseline, measured in the same run: `COPY (SELECT ...) TO STDOUT` of the same
rows, so the ratio shows what decrypting, formatting and HTTP cost. The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
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
    labour_capacity, in_school, birth_date, sex)
SELECT '610326', decode(md5(i::text), 'hex'), 'H' || lpad((i / 3)::text, 8, '0'), $2::bytea,
       '610326********0011', '张三', CASE WHEN i % 3 = 0 THEN 'head' ELSE 'child' END,
       'full', false, date '1980-01-01', 'male'
FROM generate_series(0, $1::int - 1) AS i
"""
_COPY = (
    "SELECT m.id_sealed, m.name, h.region_code FROM households h JOIN members m"
    " ON m.county_code = h.county_code AND m.household_id = h.household_id"
    " WHERE h.category = 'poverty_alleviated'"
)


def peak_mib(pid: int) -> float:
    """The process's peak resident memory so far (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def serve(url: str) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = os.environ | {"DATABASE_URL": url, "WARNEX_RUN_WORKERS": "false"}
    process = subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "serve", "--port", str(port)], env=env
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ingest/v1/readyz", timeout=2).is_success:
                return process, port
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("warnex serve did not start")


async def bench(url: str, persons: int) -> dict[str, Any]:
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
            copied = 0

            async def sink(chunk: bytes) -> None:
                nonlocal copied
                copied += chunk.count(b"\n")

            await driver.copy_from_query(_COPY, output=sink)
            copy_seconds = time.perf_counter() - started
            assert copied == persons, copied
        async with db.transaction() as session:
            _, token = await issue_token(
                session, kind="client", name="医保", department="medical_insurance"
            )
        outcome: dict[str, Any] = {"persons": persons, "copy_seconds": round(copy_seconds, 2)}
        process, port = serve(url)
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=600
            ) as client:
                for output in ("ndjson", "csv"):
                    before = peak_mib(process.pid)
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
                        "server_peak_memory_mib": round(peak_mib(process.pid), 1),
                        "server_peak_growth_mib": round(peak_mib(process.pid) - before, 1),
                        "ratio_to_copy": round(seconds / copy_seconds, 1),
                    }
        finally:
            process.terminate()
            process.wait(30)
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
