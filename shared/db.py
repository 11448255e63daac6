"""Engine, sessions and the transaction rule; reading typed rows.

The request dependency or the job wrapper owns the transaction; service code
never commits (STYLE.md rule 1). `get_session` commits before the response is
sent (FastAPI's `scope="function"`), so a client never sees 201 for a write that
then fails.

`fetch_one` / `fetch_all` read a statement's rows into a frozen dataclass
(slots) that the service owning the aggregate declares, so that modules pass
typed rows rather than `dict[str, Any]` (STYLE.md "typed rows in and out").
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from sqlalchemy import Executable, TextClause
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from shared.embedded import embedded_database_url
from shared.settings import Settings


def async_url(url: str) -> str:
    """A `postgresql://` URL as SQLAlchemy's asyncpg dialect wants it."""
    for scheme in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url[len(scheme) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def plain_url(url: str) -> str:
    """The libpq form of a URL (for asyncpg.connect, psql and pg_dump)."""
    return "postgresql://" + async_url(url)[len("postgresql+asyncpg://") :]


async def resolve_database_url(settings: Settings) -> str:
    """The URL in use: DATABASE_URL, or the embedded server in the data directory."""
    if settings.database_url:
        return plain_url(settings.database_url)
    return await embedded_database_url(settings.data_dir)


def _json_dumps(value: object) -> str:
    return orjson.dumps(value).decode()


class Database:
    """One engine per process, shared by every app mounted in it."""

    def __init__(
        self, url: str, *, pool_size: int = 10, max_overflow: int = 10, pre_ping: bool = True
    ) -> None:
        self.url = plain_url(url)
        # Pre-ping on by default (WARNEX_DB_PRE_PING defaults to true): a
        # connection the server dropped (a restart) is found and replaced at
        # checkout, so a database restart costs no request. Its price is three
        # round trips per checkout (BEGIN, a ping, ROLLBACK), a third of a
        # one-record push's statements. Turned off (for the busiest push rates,
        # the operator's choice), a dead connection instead fails the one
        # statement that finds it: SQLAlchemy recognises the disconnect and
        # invalidates the whole pool, that request answers 503 with Retry-After
        # (shared/errors.py), and the next checkout opens a fresh connection
        # (tests/faults/test_database_outage.py).
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=pre_ping,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits when the block ends and rolls back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()


_database: Database | None = None
_users = 0


async def open_database(settings: Settings) -> Database:
    """Open (or share) the process's database; pair each call with close_database()."""
    global _database, _users
    if _database is None:
        url = await resolve_database_url(settings)
        _database = Database(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pre_ping=settings.db_pre_ping,
        )
    _users += 1
    return _database


async def close_database() -> None:
    global _database, _users
    _users -= 1
    if _users <= 0 and _database is not None:
        await _database.dispose()
        _database, _users = None, 0


def use_database(database: Database | None) -> None:
    """Install an already-open database as the process's (tests, CLI)."""
    global _database
    _database = database


def get_database() -> Database:
    if _database is None:
        raise RuntimeError("the database is not open: call open_database() first")
    return _database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session; commits when the handler returns, rolls back on error.
    At the service's `isolation_level` (its app's state), set before the first
    statement: the reporting service reads each answer from one snapshot, so a
    consumer's commit between two of its statements cannot pair new measures
    with old cases."""
    async with get_database().transaction() as session:
        isolation = getattr(request.app.state, "isolation_level", None)
        if isolation is not None:
            await session.connection(execution_options={"isolation_level": isolation})
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# -- typed rows ----------------------------------------------------------------

RowT = TypeVar("RowT")


class RowMismatch(TypeError):
    """A statement's columns are not exactly the fields of the row type it is
    read into: a bug in the SQL or in the type, raised on the first read."""


_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def row_fields(into: type[Any]) -> tuple[str, ...]:
    """The fields a row type is built from (its `init` fields); TypeError unless
    it is a frozen dataclass with slots."""
    fields = _FIELDS.get(into)
    if fields is None:
        if not (isinstance(into, type) and dataclasses.is_dataclass(into)):
            raise TypeError(f"{into!r} is not a dataclass")
        frozen = vars(into)["__dataclass_params__"].frozen
        if not frozen or "__slots__" not in vars(into):
            raise TypeError(f"{into.__name__} must be @dataclass(frozen=True, slots=True)")
        fields = _FIELDS[into] = tuple(f.name for f in dataclasses.fields(into) if f.init)
    return fields


def check_columns(into: type[Any], columns: Sequence[str]) -> None:
    """RowMismatch unless `columns` name every field of `into` once and nothing else.

    Nothing is ignored or defaulted: a column the type lacks would be read and
    dropped, a field the SELECT lacks would silently take its default, and a
    column named twice would be ambiguous, so each is an error."""
    fields = row_fields(into)
    missing = [name for name in fields if name not in columns]
    unexpected = [name for name in columns if name not in fields]
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if missing or unexpected or repeated:
        raise RowMismatch(
            f"{into.__name__}: missing columns {missing}, unexpected columns {unexpected},"
            f" repeated columns {repeated}"
        )


def row_into(into: type[RowT], mapping: Mapping[str, Any]) -> RowT:
    """One row (a column-name mapping) as `into`, under the rule of `check_columns`."""
    check_columns(into, list(mapping))
    return into(**mapping)


async def fetch_all(
    session: AsyncSession,
    statement: Executable,
    params: Mapping[str, Any] | None = None,
    *,
    into: type[RowT],
) -> list[RowT]:
    """Every row of `statement` as `into`, built by column name. RowMismatch
    unless the columns are exactly the fields (checked once per statement,
    even when it returns no row)."""
    result = await session.execute(statement, params)
    check_columns(into, list(result.keys()))
    return [into(**row) for row in result.mappings()]


async def fetch_one(
    session: AsyncSession,
    statement: Executable,
    params: Mapping[str, Any] | None = None,
    *,
    into: type[RowT],
) -> RowT | None:
    """The row of `statement` as `into` (None if none), as `fetch_all` builds
    it; MultipleResultsFound if the statement returns more than one row."""
    result = await session.execute(statement, params)
    check_columns(into, list(result.keys()))
    found = result.mappings().one_or_none()
    return None if found is None else into(**found)


# -- the driver's own connection -------------------------------------------------


async def driver_connection(session: AsyncSession, *, purpose: str = "this statement") -> Any:
    """The asyncpg connection under `session`, inside the session's transaction.

    RuntimeError unless the session has begun one (it has run a statement):
    a statement sent to the driver outside it would commit on its own."""
    await session.flush()
    conn = await session.connection()
    driver = (await conn.get_raw_connection()).driver_connection
    if driver is None or not driver.is_in_transaction():
        raise RuntimeError(f"{purpose} must run inside the caller's transaction")
    return driver


_ASYNCPG = asyncpg_dialect()


class DriverStatement:
    """A `text()` statement compiled once to asyncpg's `$n` form and run on the
    session's connection, inside its transaction.

    For the hottest request paths only: SQLAlchemy's work around an execute
    costs about 90 µs of CPU here on top of asyncpg's own 30, paid by every
    one-record push for each of its statements. Parameters are passed as they
    are (no SQLAlchemy type processing, as `text()` without types does anyway);
    the driver's errors (asyncpg.PostgresError) reach the error handlers
    unwrapped."""

    def __init__(self, statement: TextClause) -> None:
        compiled = statement.compile(dialect=_ASYNCPG)
        self.sql: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())

    async def fetchrow(self, session: AsyncSession, params: Mapping[str, Any]) -> Any:
        """The statement's first row (an asyncpg Record), or None."""
        driver = await driver_connection(session)
        return await driver.fetchrow(self.sql, *[params[name] for name in self.names])
