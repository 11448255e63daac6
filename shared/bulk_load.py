"""The mechanism of every bulk load (STYLE.md rule 5): temporary staging
tables, the session settings a load runs under, COPY into the stage, and the
loop that validates the next chunk while the database writes this one.

Ingest batches and registry loads use it; what they stage and the set-based
statements they run afterwards stay with them. Nothing here commits: the
stage lives on the session's own connection, inside the caller's
transaction, so a crash leaves nothing half-loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine, Iterable, Sequence
from types import TracebackType
from typing import Any, ParamSpec

from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import driver_connection

P = ParamSpec("P")

# A load's hash joins need more than the default 4MB of work_mem to stay in
# memory; a server configured with more keeps its own.
WORK_MEM = "64MB"
_RAISE_WORK_MEM = f"""CASE
    WHEN pg_size_bytes(current_setting('work_mem')) < pg_size_bytes('{WORK_MEM}')
    THEN set_config('work_mem', '{WORK_MEM}', true) END"""


class Stage:
    """Temporary tables on the session's driver connection, and the settings a
    load runs under until close() restores them.

    COPY and the stage's own statements go to asyncpg directly (no SQLAlchemy
    round trip per chunk); a statement needing SQLAlchemy parameters can still
    run through the session, on the same connection and transaction.
    """

    def __init__(
        self, driver: Any, tables: Sequence[str], saved: Sequence[tuple[str, str]]
    ) -> None:
        self.driver = driver
        self.tables = tuple(tables)
        self._saved = tuple(saved)

    @classmethod
    async def open(
        cls,
        session: AsyncSession,
        tables: dict[str, str],
        *,
        settings: dict[str, str],
        purpose: str = "a bulk load",
    ) -> Stage:
        """Create `tables` (name: column list), dropped at commit at the latest,
        and set `settings` (plus a work_mem of at least WORK_MEM) for the
        transaction. The session must have run a statement already: that
        begins the transaction on the driver connection, which the raw
        statements then join."""
        driver = await driver_connection(session, purpose=purpose)
        names = ["work_mem", *settings]
        saved = await driver.fetchrow(
            "SELECT " + ", ".join(f"current_setting('{name}')" for name in names)
        )
        ddl = "".join(
            f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP;"
            for name, columns in tables.items()
        )
        # Dropped first: an earlier load in the same transaction leaves none
        # (close() drops them), but one that failed in a savepoint may.
        await driver.execute(
            "SELECT "
            + ", ".join([*(f"set_config('{k}', '{v}', true)" for k, v in settings.items()),
                         _RAISE_WORK_MEM])
            + f"; DROP TABLE IF EXISTS {', '.join(tables)}; {ddl}"
        )  # fmt: skip
        return cls(driver, list(tables), list(zip(names, saved, strict=True)))

    async def copy(
        self, table: str, records: Iterable[tuple[Any, ...]], columns: Sequence[str]
    ) -> None:
        """COPY `records` into the staging table `table`."""
        await self.driver.copy_records_to_table(table, records=records, columns=columns)

    async def close(self) -> None:
        """Drop the tables and put the settings back as they were."""
        await self.driver.execute(f"DROP TABLE {', '.join(self.tables)}")
        names = [name for name, _ in self._saved]
        await self.driver.execute(
            "SELECT "
            + ", ".join(f"set_config('{name}', ${i}, true)" for i, name in enumerate(names, 1)),
            *(value for _, value in self._saved),
        )


# While the database applies one chunk, the next one is validated: the reading
# loop yields to the writer this often (in records) so that the writer can send
# its next statement as soon as the previous one is done. A body already
# buffered would otherwise never suspend the loop.
YIELD_EVERY = 64


class OverlappedWrites:
    """Writes chunks one at a time in the background while the caller reads
    and validates the next one::

        async with OverlappedWrites() as writer:
            async for raw in records:
                ...  # validate into chunk
                if chunk is full:
                    rows = ...  # CPU work before waiting for the writer
                    await writer.write(store, chunk, rows)
                    chunk = new chunk
                else:
                    await writer.pause()
            await writer.write(store, chunk, rows)

    Leaving the block waits for the last write; leaving it with an error lets
    a running write finish first, so no statement is left running on the
    connection.
    """

    def __init__(self) -> None:
        self._writing: asyncio.Task[None] | None = None
        self._records = 0

    async def write(
        self, store: Callable[P, Coroutine[Any, Any, None]], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        """Wait for the previous write, then start `store(*args, **kwargs)`."""
        if self._writing is not None:
            await self._writing
        self._writing = asyncio.create_task(store(*args, **kwargs))

    async def pause(self) -> None:
        """Count a record; every YIELD_EVERY records, let a running write go on."""
        self._records += 1
        if self._writing is not None and not self._records % YIELD_EVERY:
            await asyncio.sleep(0)

    async def __aenter__(self) -> OverlappedWrites:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._writing is None:
            return
        if exc is None:
            await self._writing
        else:
            # Its own error, if any, is moot next to the one on its way up.
            await asyncio.gather(self._writing, return_exceptions=True)


async def as_async(items: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    """Iterate a list, a generator or an async stream alike."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item
