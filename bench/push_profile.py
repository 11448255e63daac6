"""Where one small push spends its time: `python bench/push_profile.py [--pushes 300]`.

What it measures: one-record JSON pushes (the push_rps record) through the
whole app in this process (httpx over ASGI, no network, no workers) on a
fresh database with a registry of 2,000 households: the statements each push
sends (counted at the asyncpg driver, begin and commit included), its
milliseconds of wall and CPU time, and with `--profile` the functions its
Python time goes to (cProfile, cumulative, to stderr).

`--records N` pushes N records a batch; `--small-max` sets the fast path's
threshold for the run (0 forces every push through the batch machinery).
Baseline: `GET /ingest/v1/healthz` through the same client, same run.
The per-client rate limit is off (`WARNEX_CLIENT_RATE_LIMIT=""` unless set):
one client in-process pushes faster than its 200 a second.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from harness import run
from push_rps import prepare, record

from shared.db import Database, use_database
from shared.settings import get_settings

_COUNTED = {
    asyncpg.Connection: ("execute", "executemany", "fetch", "fetchval", "fetchrow",
                         "copy_records_to_table", "prepare"),
    asyncpg.prepared_stmt.PreparedStatement: ("fetch", "fetchval", "fetchrow", "executemany"),
    asyncpg.transaction.Transaction: ("start", "commit", "rollback"),
}  # fmt: skip


def count_statements(counter: Counter[str]) -> None:
    """Count every call that sends the server a statement (nested calls once)."""
    depth = [0]

    def wrap(owner: type, name: str) -> None:
        original = getattr(owner, name)

        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not depth[0]:
                counter[f"{owner.__name__}.{name}"] += 1
            depth[0] += 1
            try:
                return await original(self, *args, **kwargs)
            finally:
                depth[0] -= 1

        setattr(owner, name, counted)

    for owner, names in _COUNTED.items():
        for name in names:
            wrap(owner, name)


async def bench(url: str, args: argparse.Namespace) -> dict[str, Any]:
    from services.app import create_app

    if args.small_max is not None:
        from services.warning_ingest.batches import small_push

        small_push.SMALL_PUSH_MAX = args.small_max
    secret = get_settings().secret_bytes()
    tokens = await prepare(url, 2000, 1, Path(args.workdir), secret)
    db = Database(url, pool_size=2)
    use_database(db)
    app = create_app()
    counter: Counter[str] = Counter()
    count_statements(counter)
    headers = {"Authorization": f"Bearer {tokens[0]}", "Content-Type": "application/json"}
    n = 0

    async def push(client: httpx.AsyncClient) -> None:
        nonlocal n
        body = {"records": [record(0, n * args.records + i, 1, 6000) for i in range(args.records)]}
        n += 1
        response = await client.post(
            "/ingest/v1/batches", content=orjson.dumps(body), headers=headers
        )
        assert response.status_code == 201, response.text

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as client:
        for _ in range(20):  # warm: prepared statements, caches, imports
            await push(client)
            await client.get("/ingest/v1/healthz")
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.pushes):
            await client.get("/ingest/v1/healthz")
        health_ms = (time.perf_counter() - started) * 1000 / args.pushes
        counter.clear()
        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(args.pushes):
            await push(client)
        if profiler:
            profiler.disable()
        wall_ms = (time.perf_counter() - started) * 1000 / args.pushes
        cpu_ms = (time.process_time() - cpu) * 1000 / args.pushes
    await db.dispose()
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(45)
        print(out.getvalue(), file=sys.stderr)
    return {
        "records_per_push": args.records,
        "pushes": args.pushes,
        "statements_per_push": round(sum(counter.values()) / args.pushes, 2),
        "statements": {k: round(v / args.pushes, 2) for k, v in sorted(counter.items())},
        "wall_ms": round(wall_ms, 2),
        "cpu_ms": round(cpu_ms, 2),
        "baseline_healthz_ms": round(health_ms, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pushes", type=int, default=300)
    parser.add_argument("--records", type=int, default=1, help="records per push")
    parser.add_argument("--small-max", type=int, default=None, help="the fast path's threshold")
    parser.add_argument("--profile", action="store_true", help="cProfile the pushes (stderr)")
    parser.add_argument("--sort", default="cumulative", help="the profile's order (tottime...)")
    args = parser.parse_args()
    os.environ.setdefault("WARNEX_CLIENT_RATE_LIMIT", "")

    async def body(url: str) -> dict[str, Any]:
        args.workdir = get_settings().data_dir.parent
        return await bench(url, args)

    run(body)


if __name__ == "__main__":
    main()
