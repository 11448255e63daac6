"""The pool with pre-ping off (shared/db.py, WARNEX_DB_PRE_PING=false): a pooled
connection the server dropped fails the one request that finds it with a 503
problem (Retry-After), and the next request in the same process gets a fresh
connection; with pre-ping on, not even that one request fails."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from shared.db import Database
from shared.errors import install_error_handlers
from shared.settings import Settings


def _app(database: Database) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/pid")
    async def pid() -> dict[str, int]:
        async with database.transaction() as session:
            return {"pid": int(await session.scalar(text("SELECT pg_backend_pid()")) or 0)}

    return app


async def _terminate(url: str, pid: int) -> None:
    admin = await asyncpg.connect(url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


@pytest.mark.parametrize("pre_ping", [False, True])
async def test_a_dropped_connection_costs_at_most_one_request(fresh_db: Database, pre_ping):
    database = Database(fresh_db.url, pool_size=2, pre_ping=pre_ping)
    transport = httpx.ASGITransport(app=_app(database))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = await client.get("/pid")
            assert first.status_code == 200
            await _terminate(fresh_db.url, first.json()["pid"])

            after_drop = await client.get("/pid")
            if pre_ping:
                assert after_drop.status_code == 200
            else:
                assert after_drop.status_code == 503
                assert after_drop.headers["content-type"].startswith("application/problem+json")
                assert int(after_drop.headers["retry-after"]) > 0
            again = await client.get("/pid")
            assert again.status_code == 200
            assert again.json()["pid"] != first.json()["pid"]
    finally:
        await database.dispose()


def test_the_pool_pings_unless_told_not_to(fresh_db: Database):
    assert Database(fresh_db.url).engine.pool._pre_ping is True
    assert Database(fresh_db.url, pre_ping=False).engine.pool._pre_ping is False
    assert Settings().db_pre_ping is True
