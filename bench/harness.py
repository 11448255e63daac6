"""What the request benches share: a fresh database to run against, request
timing through the app, and percentiles. The last line a bench prints is its
JSON outcome."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
from database import bench_database

from shared.observability import configure_logging
from shared.settings import reset_settings


def run(bench: Callable[[str], Awaitable[dict[str, Any]]]) -> None:
    """Run `bench(url)` on DATABASE_URL or a fresh embedded PostgreSQL, with
    settings for a quiet run (no workers, no line per request); print its outcome."""
    with bench_database() as (workdir, url):
        os.environ.setdefault(
            "WARNEX_SECRET_KEY", base64.b64encode(secrets.token_bytes(32)).decode()
        )
        os.environ.setdefault("WARNEX_DATA_DIR", str(workdir / "data"))
        os.environ["WARNEX_RUN_WORKERS"] = "false"
        os.environ.setdefault("WARNEX_LOG_LEVEL", "WARNING")
        reset_settings()
        configure_logging("WARNING")
        outcome = asyncio.run(bench(url))
    print(orjson.dumps(outcome).decode())


async def timed(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    params: list[dict[str, Any]],
    *,
    warm_up: int,
) -> list[float]:
    """Milliseconds of one request per `params`, after `warm_up` untimed ones."""
    for p in params[:warm_up]:
        (await client.get(path, headers=headers, params=p)).raise_for_status()
    times = []
    for p in params:
        started = time.perf_counter()
        response = await client.get(path, headers=headers, params=p)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
        "max_ms": round(ordered[-1], 2),
    }
