"""Engine, sessions and the transaction rule.

The request dependency or the job wrapper owns the transaction; service code
never commits (STYLE.md rule 1). `get_session` commits before the response is
sent (FastAPI's `scope="function"`), so a client never sees 201 for a write that
then fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import orjson
from fastapi import Depends
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

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.url = plain_url(url)
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=True,
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
            url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
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


async def get_session() -> AsyncIterator[AsyncSession]:
    """The request's session; commits when the handler returns, rolls back on error."""
    async with get_database().transaction() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
