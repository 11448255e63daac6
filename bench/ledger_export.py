"""Ledger export: `python bench/ledger_export.py [--rows 100000,1000000] [--xlsx-rows 100000]`.

What it measures: `GET /identification/v1/cases/export` (the identification
ledger, the heaviest per row of the four after the monitoring objects: a
household, its head's masked ID number, two region names and the step dates
per case) over HTTP from `warnex serve` running as its own process (workers
off), for a county holding exactly `rows` cases (one per household, one head
member each, 12 towns × 15 villages). The client streams the body and counts
its lines; the server's resident memory (VmRSS) is sampled every 50 ms during
the export, so `rss_growth_mb` is the peak during the export less the RSS just
before it. `--xlsx-rows` adds an XLSX export of the county of that size.

Baseline (same run): `COPY (<the ledger's own SELECT>) TO STDOUT WITH CSV`
read by asyncpg into a sink, the database's share of the work with no Python
row handling, no HTTP.

Target (issue 19): 1M rows of CSV in under 60 s, RSS growth under 100 MB.
The last line printed is one JSON object: per size `rows`, `seconds`,
`rows_per_s`, `copy_seconds`, `ratio_to_copy`, `rss_before_mb`,
`rss_peak_mb`, `rss_growth_mb`, `bytes`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from database import bench_database
from ingest import serve, stop
from ingest_push import _free_port, _kib

from services.identification.cases.ledger import cases_query
from shared.auth import issue_token
from shared.db import Database, plain_url, use_database
from shared.migrate import migrate
from shared.settings import reset_settings

TODAY = date(2026, 11, 23)

_REGIONS = """
INSERT INTO regions (code, name, level, parent_code)
SELECT $1::text || '000000', '县' || $1::text, 'county', NULL
UNION ALL
SELECT $1::text || (100 + t)::text || '000', '镇' || t, 'town', $1::text || '000000'
FROM generate_series(1, 12) t
UNION ALL
SELECT $1::text || (100 + t)::text || (200 + v)::text, '村' || t || '-' || v, 'village',
       $1::text || (100 + t)::text || '000'
FROM generate_series(1, 12) t, generate_series(1, 15) v
"""

# Household i lives in village i % 180 of the county.
_HOUSEHOLDS = """
INSERT INTO households (county_code, household_id, region_code, category, head_name)
SELECT $1::text, 'H' || lpad(i::text, 8, '0'),
       $1::text || (101 + (i % 180) / 15)::text || (201 + i % 15)::text,
       CASE WHEN i % 4 = 0 THEN 'poverty_alleviated' ELSE 'general' END, '户主' || i
FROM generate_series(0, $2::int - 1) i
"""

_MEMBERS = """
INSERT INTO members (county_code, id_hash, household_id, id_sealed, id_masked, name, relation,
    labour_capacity, in_school, birth_date, sex)
SELECT $1::text, sha256(($1::text || ':' || i)::bytea), 'H' || lpad(i::text, 8, '0'),
       '\\x00'::bytea,
       $1::text || '********' || lpad((i % 10000)::text, 4, '0'), '户主' || i, 'head', 'full',
       false, DATE '1970-01-01' + i % 10000, 'male'
FROM generate_series(0, $2::int - 1) i
"""

_CASES = """
INSERT INTO cases (case_id, county_code, household_id, region_code, source, opened_on,
    deadline, state, opened_by)
SELECT gen_random_uuid(), h.county_code, h.household_id, h.region_code,
       CASE WHEN i % 2 = 0 THEN 'department_warning' ELSE 'self_report' END,
       $3::date - i % 30, $3::date - i % 30 + 15, 'open', 'bench'
FROM generate_series(0, $2::int - 1) i
JOIN households h ON h.county_code = $1::text AND h.household_id = 'H' || lpad(i::text, 8, '0')
"""


def county_of(index: int) -> str:
    return f"6103{21 + index:02d}"


async def generate(url: str, sizes: list[int]) -> dict[str, str]:
    """One county per size with that many cases; a county-staff token for each."""
    db = Database(url, pool_size=2)
    use_database(db)
    tokens: dict[str, str] = {}
    try:
        await migrate(db.engine)
        conn = await asyncpg.connect(plain_url(url))
        try:
            for index, rows in enumerate(sizes):
                county = county_of(index)
                started = time.perf_counter()
                for sql, args in (
                    (_REGIONS, (county,)),
                    (_HOUSEHOLDS, (county, rows)),
                    (_MEMBERS, (county, rows)),
                    (_CASES, (county, rows, TODAY)),
                ):
                    await conn.execute(sql, *args)
                print(
                    f"{county}: {rows} cases in {time.perf_counter() - started:.1f} s",
                    file=sys.stderr,
                )
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
        async with db.transaction() as session:
            for index, rows in enumerate(sizes):
                _, token = await issue_token(
                    session,
                    kind="user",
                    name=f"bench-{rows}",
                    role="county_staff",
                    region_code=county_of(index) + "000000",
                )
                tokens[county_of(index)] = token
    finally:
        await db.dispose()
        use_database(None)
    return tokens


def _literal(value: Any) -> str:
    return "'" + str(value).replace("'", "''") + "'"


async def copy_seconds(url: str, county: str) -> tuple[float, int]:
    """COPY of the ledger's own SELECT to a sink: seconds and bytes."""
    query = cases_query(
        region_code=county + "000000",
        today=TODAY,
        state=None,
        step=None,
        source=None,
        reveal=False,
    )
    sql = query.rows_sql()
    for name, value in sorted(query.params.items(), key=lambda kv: -len(kv[0])):
        sql = sql.replace(f":{name}", _literal(value))
    size = 0

    async def sink(chunk: bytes) -> None:
        nonlocal size
        size += len(chunk)

    conn = await asyncpg.connect(plain_url(url))
    try:
        started = time.perf_counter()
        await conn.copy_from_query(sql, output=sink, format="csv")
        return time.perf_counter() - started, size
    finally:
        await conn.close()


def export(port: int, pid: int, token: str, output: str) -> dict[str, Any]:
    """Stream one export, sampling the server's RSS meanwhile."""
    before = _kib(pid, "VmRSS")
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _kib(pid, "VmRSS"))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines = size = 0
    started = time.perf_counter()
    url = f"http://127.0.0.1:{port}/identification/v1/cases/export"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream(
        "GET", url, params={"format": output}, headers=headers, timeout=600
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes(256 * 1024):
            size += len(chunk)
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {
        "seconds": round(seconds, 2),
        "bytes": size,
        "lines": lines,
        "rss_before_mb": round(before / 1024, 1),
        "rss_peak_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((peak - before) / 1024, 1),
    }


def bench(sizes: list[int], xlsx_rows: int, workdir: Path, url: str) -> dict[str, Any]:
    secret = secrets.token_bytes(32)
    env = {
        **os.environ,
        "DATABASE_URL": plain_url(url),
        "WARNEX_SECRET_KEY": base64.b64encode(secret).decode(),
        "WARNEX_DATA_DIR": str(workdir / "data"),
        "WARNEX_RUN_WORKERS": "false",
        "WARNEX_LOG_LEVEL": "WARNING",
        "WARNEX_USER_RATE_LIMIT": "",
    }
    os.environ.update({k: env[k] for k in ("WARNEX_SECRET_KEY", "WARNEX_DATA_DIR")})
    reset_settings()
    all_sizes = sorted(set(sizes) | ({xlsx_rows} if xlsx_rows else set()))
    tokens = asyncio.run(generate(url, all_sizes))
    county_for = {rows: county_of(i) for i, rows in enumerate(all_sizes)}
    port = _free_port()
    log = workdir / "serve.log"
    server = serve(env, port, log)
    outcome: dict[str, Any] = {"target": "1M rows of CSV < 60 s, rss_growth_mb < 100"}
    try:
        # A small warm-up export, so that import and first-use costs are not counted.
        export(port, server.pid, tokens[county_for[all_sizes[0]]], "csv")
        runs = [(rows, "csv") for rows in sorted(sizes)]
        if xlsx_rows:
            runs.append((xlsx_rows, "xlsx"))
        for rows, output in runs:
            county = county_for[rows]
            print(f"exporting {rows} rows as {output}", file=sys.stderr)
            figures = export(port, server.pid, tokens[county], output)
            copy_s, copy_bytes = asyncio.run(copy_seconds(url, county))
            figures |= {
                "rows": rows,
                "rows_per_s": round(rows / figures["seconds"]),
                "copy_seconds": round(copy_s, 2),
                "copy_bytes": copy_bytes,
                "ratio_to_copy": round(figures["seconds"] / copy_s, 1),
            }
            outcome[f"{output}_{rows}"] = figures
        outcome["server_vmhwm_mb"] = round(_kib(server.pid, "VmHWM") / 1024, 1)
    finally:
        stop(server, log)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="100000,1000000", help="CSV sizes, comma-separated")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="XLSX size (0: none)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",") if n]
    with bench_database() as (workdir, url):
        outcome = bench(sizes, args.xlsx_rows, workdir, url)
    print(orjson.dumps(outcome).decode())


if __name__ == "__main__":
    main()
