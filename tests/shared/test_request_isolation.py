"""A reporting answer reads one snapshot: its figure groups come from several
statements, and the summaries consumer commits between them at any moment."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import text
from starlette.requests import Request

from services.app import create_app
from shared.db import Database, get_database, get_session, use_database


def _request_to(service_app: object) -> Request:
    return Request({"type": "http", "app": service_app, "headers": []})


async def _isolation_and_view(
    sessions: AsyncIterator, fresh_db: Database
) -> tuple[str, list[int], list[int]]:
    """The session's isolation, and what it sees of `probe` before and after
    another transaction commits a row between its two statements."""
    session = await anext(sessions)
    isolation = await session.scalar(text("SHOW transaction_isolation"))
    before = list(await session.scalars(text("SELECT n FROM probe ORDER BY n")))
    async with fresh_db.transaction() as other:
        await other.execute(text("INSERT INTO probe VALUES (2)"))
    after = list(await session.scalars(text("SELECT n FROM probe ORDER BY n")))
    await sessions.aclose()
    return isolation, before, after


async def test_reporting_requests_read_one_snapshot_and_the_others_read_committed(
    fresh_db: Database,
) -> None:
    async with fresh_db.transaction() as setup:
        await setup.execute(text("CREATE TABLE probe (n integer)"))
        await setup.execute(text("INSERT INTO probe VALUES (1)"))
    try:
        previous: Database | None = get_database()
    except RuntimeError:
        previous = None
    use_database(fresh_db)
    try:
        services = create_app().state.services
        reporting = await _isolation_and_view(
            get_session(_request_to(services["reporting"])), fresh_db
        )
        async with fresh_db.transaction() as reset:
            await reset.execute(text("DELETE FROM probe WHERE n = 2"))
        identification = await _isolation_and_view(
            get_session(_request_to(services["identification"])), fresh_db
        )
    finally:
        use_database(previous)
    # The second statement of a reporting answer still sees the first's moment.
    assert reporting == ("repeatable read", [1], [1])
    # Writers keep READ COMMITTED (their retries and locks assume it).
    assert identification == ("read committed", [1], [1, 2])
