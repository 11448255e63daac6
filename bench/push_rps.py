"""Single-record pushes: `python bench/push_rps.py [--clients 50] [--seconds 30]`.

What it measures: how many one-record pushes per second `warnex serve`
answers, and their latencies, with 50 department systems pushing at once.
It loads a registry (10k households by default) into a fresh embedded
PostgreSQL (or DATABASE_URL as it is), creates one department client per
concurrent task (`medical_insurance`, tokens issued in the bench's
database), starts `warnex serve` as its own process with its workers on (so
the cases for the pushes are opened meanwhile, as in production; `--no-workers`
leaves them out) and waits until its start-up work is done. Then 50 httpx
AsyncClient tasks, one connection each, post `{"records": [one record]}` to
`POST /ingest/v1/batches` (distinct `source_record_id`s, persons of the
registry) back to back for `--seconds`. Latencies are measured client-side;
`errors` counts answers other than 2xx and exceptions (`rate_limited` the 429s
among them). `cpu_ms_per_push` and `cpu_ms_per_baseline` split the CPU each
answer cost between the server's processes, PostgreSQL's, this load
generator's and the whole machine's (user + system time over the phase,
per answered request): rps can be no more than the cores over the machine's
CPU per answer.

Baseline, measured in the same run by the same 50 tasks for the same time:
`GET /ingest/v1/healthz` (no authentication, no database), so `rps` reads
against `baseline_rps` and `p50_ms` against `baseline_p50_ms`.

Caveats: the load generator runs on the same 2 cores as the server and the
database, so both figures are lower than a separate client machine would
show; read the ratio. The server limits each principal to
`WARNEX_CLIENT_RATE_LIMIT` (default 200/second per client, shared/rate_limits.py);
50 distinct clients stay far under it (the whole server answers far fewer
than 50 x 200 per second here), and `rate_limited` shows if one did not.

Target: no errors; `rps` at least 200 (a province's departments pushing one
record at a time) on a 2-core machine. The last line printed is one JSON
object with `rps`, `p50_ms`, `p95_ms`, `p99_ms`, `errors`, `baseline_rps`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import psutil
from cpu import cpu_per_request, cpu_seconds, postmaster_pid
from database import bench_database
from ingest import START_JOBS, serve, settle, stop
from ingest_push import _free_port
from registry_load import _name, _number, write_households

from shared.auth import issue_token
from shared.db import Database, plain_url, use_database
from shared.migrate import migrate
from shared.pii import PiiProtector
from shared.registry import load_households
from shared.registry.files import ndjson_records
from shared.settings import reset_settings

# send(client, task, n): the n-th request of a task.
Send = Callable[[httpx.AsyncClient, int, int], Awaitable[httpx.Response]]


@dataclass
class Tally:
    times_ms: list[float] = field(default_factory=list)
    errors: int = 0
    rate_limited: int = 0


async def prepare(
    url: str, households: int, clients: int, workdir: Path, secret: bytes
) -> list[str]:
    """Migrate, load the registry, and return one client token per task."""
    db = Database(url, pool_size=2)
    use_database(db)
    try:
        await migrate(db.engine)
        registry = workdir / "households.ndjson"
        write_households(registry, households, 3)
        async with db.transaction() as session:
            with registry.open("rb") as handle:
                await load_households(
                    session,
                    ndjson_records(handle),
                    protector=PiiProtector.from_secret(secret),
                    actor="bench",
                    today=date(2026, 11, 23),
                )
            tokens = []
            for n in range(clients):
                _, token = await issue_token(
                    session, kind="client", name=f"医保{n}", department="medical_insurance"
                )
                tokens.append(token)
    finally:
        await db.dispose()
    return tokens


async def set_database_settings(url: str, settings: list[str]) -> None:
    """ALTER DATABASE ... SET each NAME=VALUE, for the server's new connections."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        name = await conn.fetchval("SELECT current_database()")
        for setting in settings:
            key, _, value = setting.partition("=")
            if not key.replace("_", "").isalnum():
                raise SystemExit(f"not a setting name: {key}")
            await conn.execute(f"ALTER DATABASE \"{name}\" SET {key} = '{value}'")
    finally:
        await conn.close()


def record(task: int, n: int, clients: int, persons: int) -> dict[str, Any]:
    """The n-th record of a task: a registered person, a distinct source_record_id."""
    person = (n * clients + task) % persons
    return {
        "source_record_id": f"P{task:03d}-{n:08d}",
        "warning_type": "high_medical_expense",
        "id_number": _number(person),
        "name": _name(person),
        "event_date": "2026-11-01",
        "amount_yuan": 25000.5,
        "details": {"hospital": "县人民医院"},
    }


async def drive(base: str, clients: int, seconds: float, send: Send) -> tuple[Tally, float]:
    """`clients` tasks, one connection each, sending back to back for `seconds`."""
    tally = Tally()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    # Made before the clock starts: each client builds its own TLS context.
    pool = [httpx.AsyncClient(base_url=base, limits=limits, timeout=30) for _ in range(clients)]
    deadline = time.perf_counter() + seconds

    async def one(task: int) -> None:
        async with pool[task] as client:
            n = 0
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await send(client, task, n)
                except httpx.HTTPError:
                    tally.errors += 1
                    await asyncio.sleep(0.05)  # a dead server must not spin the loop
                    continue
                finally:
                    n += 1
                if 200 <= response.status_code < 300:
                    tally.times_ms.append((time.perf_counter() - started) * 1000)
                else:
                    tally.errors += 1
                    tally.rate_limited += response.status_code == 429

    started = time.perf_counter()
    await asyncio.gather(*(one(t) for t in range(clients)))
    return tally, time.perf_counter() - started


def figures(tally: Tally, elapsed: float) -> dict[str, float]:
    ordered = sorted(tally.times_ms) or [0.0]

    def pick(q: float) -> float:
        return round(ordered[max(0, int(len(ordered) * q + 0.5) - 1)], 2)

    return {
        "rps": round(len(tally.times_ms) / elapsed, 1),
        "p50_ms": pick(0.50),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
    }


async def measure(
    env: dict[str, str],
    url: str,
    tokens: list[str],
    *,
    persons: int,
    seconds: float,
    workers: bool,
    processes: int = 1,
) -> dict[str, Any]:
    clients = len(tokens)
    port = _free_port()
    log = Path(env["WARNEX_DATA_DIR"]).parent / "serve.log"
    server = serve(env, port, log, processes=processes)
    base = f"http://127.0.0.1:{port}"
    try:
        conn = await asyncpg.connect(plain_url(url))
        try:
            await settle(conn, jobs=START_JOBS if workers else 0)
            database_pid = await postmaster_pid(conn)
        finally:
            await conn.close()

        async def health(client: httpx.AsyncClient, task: int, n: int) -> httpx.Response:
            return await client.get("/ingest/v1/healthz")

        async def push(client: httpx.AsyncClient, task: int, n: int) -> httpx.Response:
            return await client.post(
                "/ingest/v1/batches",
                content=orjson.dumps({"records": [record(task, n, clients, persons)]}),
                headers={
                    "Authorization": f"Bearer {tokens[task]}",
                    "Content-Type": "application/json",
                },
            )

        print(f"healthz from {clients} clients for {seconds} s", file=sys.stderr, flush=True)
        before = cpu_seconds(server.pid, database_pid)
        baseline, baseline_elapsed = await drive(base, clients, seconds, health)
        between = cpu_seconds(server.pid, database_pid)
        print(f"pushes from {clients} clients for {seconds} s", file=sys.stderr, flush=True)
        pushes, elapsed = await drive(base, clients, seconds, push)
        after = cpu_seconds(server.pid, database_pid)
    finally:
        stop(server, log)
    result = figures(pushes, elapsed)
    base_figures = figures(baseline, baseline_elapsed)
    return {
        **result,
        "errors": pushes.errors,
        "rate_limited": pushes.rate_limited,
        "requests": len(pushes.times_ms) + pushes.errors,
        "baseline_rps": base_figures["rps"],
        "baseline_p50_ms": base_figures["p50_ms"],
        "baseline_p95_ms": base_figures["p95_ms"],
        "baseline_p99_ms": base_figures["p99_ms"],
        "baseline_errors": baseline.errors,
        "ratio_to_baseline": round(result["rps"] / base_figures["rps"], 3)
        if base_figures["rps"]
        else None,
        # Where each answer's CPU went: rps is bounded by the cores over the
        # CPU an answer costs everyone on the machine.
        "cpu_ms_per_push": cpu_per_request(between, after, len(pushes.times_ms)),
        "cpu_ms_per_baseline": cpu_per_request(before, between, len(baseline.times_ms)),
        "cores": psutil.cpu_count(),
    }


def bench(args: argparse.Namespace, workdir: Path, url: str) -> dict[str, Any]:
    secret = secrets.token_bytes(32)
    env = {
        **os.environ,
        "DATABASE_URL": plain_url(url),
        "WARNEX_SECRET_KEY": base64.b64encode(secret).decode(),
        "WARNEX_DATA_DIR": str(workdir / "data"),
        "WARNEX_RUN_WORKERS": "true" if args.workers else "false",
        "WARNEX_LOG_LEVEL": "WARNING",
    }
    os.environ.update({k: env[k] for k in ("WARNEX_SECRET_KEY", "WARNEX_DATA_DIR")})
    reset_settings()
    print(f"loading a registry of {args.households} households", file=sys.stderr, flush=True)
    tokens = asyncio.run(prepare(url, args.households, args.clients, workdir, secret))
    if args.db_setting:
        asyncio.run(set_database_settings(url, args.db_setting))
    outcome = asyncio.run(
        measure(
            env,
            url,
            tokens,
            persons=args.households * 3,
            seconds=args.seconds,
            workers=args.workers,
            processes=args.processes,
        )
    )
    return {
        "clients": args.clients,
        "seconds": args.seconds,
        "workers": args.workers,
        "processes": args.processes,
        "db_settings": args.db_setting,
        **outcome,
        "target_rps": 200,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50, help="concurrent department clients")
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each phase")
    parser.add_argument(
        "--households", type=int, default=10_000, help="households in the registry (3 persons)"
    )
    parser.add_argument(
        "--workers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the server's consumers and jobs during the pushes (default: on)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes on the port (`warnex serve --workers N`; default 1)",
    )
    parser.add_argument(
        "--db-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the bench's database (ALTER DATABASE ... SET), repeatable",
    )
    args = parser.parse_args()
    if not 0 < args.seconds <= 600 or not 0 < args.clients <= 500:
        parser.error("--seconds must lie in (0, 600] and --clients in (0, 500]")
    with bench_database() as (workdir, url):
        outcome = bench(args, workdir, url)
    print(orjson.dumps(outcome).decode())


if __name__ == "__main__":
    main()
