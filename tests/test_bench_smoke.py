"""The issue-6 benches still run and print their figures (bench/README.md).

Benchmarks run on demand, not in the normal test run: this smoke test runs
`bench/scan.py` and `bench/ingest.py` at tiny sizes only when
WARNEX_BENCH_SMOKE=1 is set, each on a fresh database of the test server.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import orjson
import pytest

from shared.embedded import with_database

BENCH = Path(__file__).resolve().parent.parent / "bench"


async def _admin(server_uri: str, sql: str) -> None:
    conn = await asyncpg.connect(with_database(server_uri, "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _run_bench(server_uri: str, script: str, *options: str) -> dict[str, object]:
    """Run a bench on a fresh, empty database; return its last JSON line."""
    name = f"bench_smoke_{uuid.uuid4().hex[:8]}"
    await _admin(server_uri, f'CREATE DATABASE "{name}"')
    # The bench sets its own settings: none of the test run's may leak into it.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WARNEX_", "DATABASE_URL"))}
    env["DATABASE_URL"] = with_database(server_uri, name)
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(BENCH / script), *options],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        await _admin(server_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(orjson.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.skipif(
    os.environ.get("WARNEX_BENCH_SMOKE") != "1",
    reason="benchmarks run on demand: set WARNEX_BENCH_SMOKE=1 to smoke-test bench/scan.py"
    " and bench/ingest.py",
)
async def test_scan_and_ingest_benches_print_their_figures_at_tiny_sizes(
    server_uri: str,
) -> None:
    scan = await _run_bench(server_uri, "scan.py", "--cases", "600", "--newly-due", "60")
    # 600 open cases written, the first 60 past their deadline: exactly those
    # are announced, and the plain UPDATE baseline touches the same 60 rows.
    assert scan["cases"] == 600
    assert scan["newly_overdue"] == 60
    assert scan["baseline_rows"] == 60
    assert float(scan["seconds"]) > 0  # type: ignore[arg-type]
    assert float(scan["baseline_update_seconds"]) > 0  # type: ignore[arg-type]

    ingest = await _run_bench(server_uri, "ingest.py", "--records", "300", "--households", "200")
    assert {
        "records",
        "seconds",
        "records_per_s",
        "floor_seconds",
        "ratio_to_floor",
        "peak_rss_mb",
    } <= ingest.keys()
    assert ingest["records"] == ingest["accepted"] == 300
    # Every matched warning ended up on a case (the bench fails otherwise),
    # and the push took longer than its own receipt.
    assert ingest["warnings_attached"] == ingest["matched"]
    assert 0 < int(ingest["cases"]) <= int(ingest["matched"])  # type: ignore[call-overload]
    assert float(ingest["seconds"]) >= float(ingest["push_seconds"]) > 0  # type: ignore[arg-type]
    assert float(ingest["peak_rss_mb"]) > 0  # type: ignore[arg-type]
