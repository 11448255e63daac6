"""Ingest to cases: `python bench/ingest.py [--records 100000] [--households 100000]`.

What it measures: the whole path of a department's batch, from the first
byte of an NDJSON push over HTTP to the last case opened for it. It loads a
registry (100k households, 300k persons by default) into a fresh embedded
PostgreSQL (or DATABASE_URL as it is), starts `warnex serve` as its own
process with its workers on (as an operator runs it), waits until the
server's start-up jobs have run and its consumers have caught up, and then
streams bench/ingest_push.py's `high_medical_expense` records (most matching
the registry, one in 50 unknown, some under the threshold) to
`POST /ingest/v1/batches`. The clock runs from the push's start until the
`identification.cases` consumer in that server process has applied the
batch's last `warning.accepted` event (its position, polled every 50 ms),
so every matched warning is attached to an opened case; the counts are
checked afterwards. The server's peak RSS (VmHWM) is read at that moment.

Baseline (the physical floor), measured in the same run: a plain COPY of the
same rows into an unindexed table of the warnings' shape.

`cores_used` says, for the push (to its receipt) and for the catch-up after
it, how many cores the server's processes, the bench database's PostgreSQL,
this bench and the whole machine kept busy on average (bench/cpu.py): 1.0 for
the server is one Python process running all the time.

Target (issue 6): `ratio_to_floor` at most 8 for 100k records, on a 2-core
machine. The last line printed is one JSON object with `records`, `seconds`,
`records_per_s`, `floor_seconds`, `ratio_to_floor`, `peak_rss_mb` (and the
counts behind them).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from cpu import cores_used, cpu_seconds, postmaster_pid
from database import bench_database
from ingest_push import _chunks, _free_port, _kib, floor_for, prepare, write_records

from shared.db import plain_url
from shared.settings import reset_settings

CONSUMER = "identification.cases"
POLL_SECONDS = 0.05
SETTLE_TIMEOUT = 300.0
START_JOBS = 4  # feed-scan, overdue-scan, gap-scan, weekly-snapshot fire once at start

# Every consumer that has run once has a position; all of them at or past the
# last event, and every start-up job run, means the server is idle.
_SETTLED = """
SELECT (SELECT count(*) FROM job_runs) >= $1
   AND NOT EXISTS (
       SELECT 1 FROM consumer_positions p,
           (SELECT xid, id FROM events ORDER BY xid DESC, id DESC LIMIT 1) e
       WHERE (p.xid, p.event_id) < (e.xid, e.id))
"""
_LAST_ACCEPTED = (
    "SELECT xid, id FROM events WHERE type = 'warning.accepted' ORDER BY xid DESC, id DESC LIMIT 1"
)
_CONSUMERS_PAST = "SELECT name FROM consumer_positions WHERE (xid, event_id) >= ($1, $2)"


def serve(
    env: dict[str, str], port: int, log: Path, *, processes: int = 1
) -> subprocess.Popen[bytes]:
    """`warnex serve --workers processes` on `port`, ready; its output goes to
    `log` (read if it fails)."""
    with log.open("ab") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shared.cli",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(processes),
            ],
            env=env,
            stdout=out,
            stderr=out,
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ingest/v1/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(server, log)
    raise SystemExit("the server did not become ready:\n" + _tail(log))


def stop(server: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within 30 s (said on stderr)."""
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(10)
        print(
            "the server did not stop within 30 s of SIGTERM and was killed; its log ends:\n"
            + _tail(log),
            file=sys.stderr,
        )


def _tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


async def settle(conn: asyncpg.Connection, *, jobs: int = START_JOBS) -> None:
    """Wait until the server's start-up work is done (`jobs` start-up runs recorded,
    every consumer caught up), so that what is timed next runs alone."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while not await conn.fetchval(_SETTLED, jobs):
        if time.monotonic() > deadline:
            print("the server did not settle; pushing anyway", file=sys.stderr)
            return
        await asyncio.sleep(0.2)


async def until_cases(conn: asyncpg.Connection, started: float) -> dict[str, float]:
    """Return once the identification consumer has applied the last accepted
    warning; answer, per consumer, the seconds from `started` at which it had
    read past that event (the consumers that had not yet are left out)."""
    last = await conn.fetchrow(_LAST_ACCEPTED)
    caught_up: dict[str, float] = {}
    if last is None:
        return caught_up
    while CONSUMER not in caught_up:
        now = time.perf_counter() - started
        for name in await conn.fetch(_CONSUMERS_PAST, last["xid"], last["id"]):
            caught_up.setdefault(name["name"], round(now, 2))
        if CONSUMER not in caught_up:
            await asyncio.sleep(POLL_SECONDS)
    return caught_up


def _post(port: int, token: str, path: Path) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{port}/ingest/v1/batches",
        content=_chunks(path),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
        timeout=600,
    )


async def push_to_cases(env: dict[str, str], url: str, token: str, path: Path) -> dict[str, Any]:
    """Push `path` to a fresh server with workers; time it until the last case."""
    conn = await asyncpg.connect(plain_url(url))
    port = _free_port()
    log = path.with_suffix(".serve.log")
    server = serve(env, port, log)
    try:
        await settle(conn)
        database_pid = await postmaster_pid(conn)
        cpu_at_start = cpu_seconds(server.pid, database_pid)
        started = time.perf_counter()
        # The push blocks in a thread; the connection for the poll is already open.
        response = await asyncio.to_thread(_post, port, token, path)
        received = time.perf_counter()
        cpu_at_receipt = cpu_seconds(server.pid, database_pid)
        if response.status_code != 201:
            raise SystemExit(f"push failed: {response.status_code} {response.text[:300]}")
        caught_up = await until_cases(conn, started)
        done = time.perf_counter()
        cpu_at_end = cpu_seconds(server.pid, database_pid)
        peak_kib = _kib(server.pid, "VmHWM")
    finally:
        stop(server, log)
    try:
        counts = {
            name: await conn.fetchval(sql)
            for name, sql in (
                ("matched", "SELECT count(*) FROM warnings WHERE status = 'matched'"),
                ("cases", "SELECT count(*) FROM cases"),
                ("warnings_attached", "SELECT count(*) FROM case_warnings"),
            )
        }
    finally:
        await conn.close()
    if counts["warnings_attached"] != counts["matched"]:
        raise SystemExit(f"not every matched warning has its case: {counts}")
    receipt = response.json()
    return {
        "accepted": receipt["accepted"],
        "rejected": receipt["rejected"],
        **counts,
        "push_seconds": received - started,
        "seconds": done - started,
        "peak_rss_mb": peak_kib / 1024,
        "consumers_caught_up_s": caught_up,
        "cores_used": {
            "push": cores_used(cpu_at_start, cpu_at_receipt, received - started),
            "after_receipt": cores_used(cpu_at_receipt, cpu_at_end, done - received),
        },
    }


def bench(records: int, households: int, workdir: Path, url: str) -> dict[str, Any]:
    secret = secrets.token_bytes(32)
    env = {
        **os.environ,
        "DATABASE_URL": plain_url(url),
        "WARNEX_SECRET_KEY": base64.b64encode(secret).decode(),
        "WARNEX_DATA_DIR": str(workdir / "data"),
        "WARNEX_RUN_WORKERS": "true",
        "WARNEX_LOG_LEVEL": "WARNING",
        "WARNEX_BULK_BODY_LIMIT_BYTES": str(1 << 30),
    }
    os.environ.update({k: env[k] for k in ("WARNEX_SECRET_KEY", "WARNEX_DATA_DIR")})
    reset_settings()
    print(f"loading a registry of {households} households", file=sys.stderr)
    token = asyncio.run(prepare(url, households, workdir, secret))
    path = workdir / "push.ndjson"
    write_records(path, records, households * 3, tag="I")
    print(f"pushing {records} records and waiting for their cases", file=sys.stderr)
    outcome = asyncio.run(push_to_cases(env, url, token, path))
    print("timing the COPY floor", file=sys.stderr)
    floor = asyncio.run(floor_for(url, path, secret))
    seconds = float(outcome["seconds"])
    return {
        "records": records,
        "seconds": round(seconds, 2),
        "records_per_s": round(records / seconds),
        "floor_seconds": round(floor, 3),
        "ratio_to_floor": round(seconds / floor, 1),
        "peak_rss_mb": round(float(outcome["peak_rss_mb"])),
        "push_seconds": round(float(outcome["push_seconds"]), 2),
        "accepted": outcome["accepted"],
        "matched": outcome["matched"],
        "cases": outcome["cases"],
        "warnings_attached": outcome["warnings_attached"],
        "consumers_caught_up_s": outcome["consumers_caught_up_s"],
        "cores_used": outcome["cores_used"],
        "target_ratio_to_floor": 8,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000, help="records in the push")
    parser.add_argument(
        "--households", type=int, default=100_000, help="households in the registry (3 persons)"
    )
    args = parser.parse_args()
    with bench_database() as (workdir, url):
        outcome = bench(args.records, args.households, workdir, url)
    print(orjson.dumps(outcome).decode())


if __name__ == "__main__":
    main()
