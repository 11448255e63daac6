"""shared/db.py DriverStatement: a `text()` statement sent to asyncpg directly,
inside the session's transaction and nowhere else."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.db import DriverStatement

_ECHO = DriverStatement(
    text("SELECT CAST(:a AS int) + CAST(:b AS int) AS total, CAST(:a AS int) * 10 AS a_tenfold")
)


async def test_named_parameters_bind_by_name_and_a_repeated_one_once(session):
    await session.execute(text("SELECT 1"))
    row = await _ECHO.fetchrow(session, {"b": 5, "a": 2, "unused": "ignored"})
    assert (row["total"], row["a_tenfold"]) == (7, 20)
    assert _ECHO.names == ("a", "b")


async def test_it_writes_inside_the_session_transaction_which_a_rollback_undoes(db):
    insert = DriverStatement(
        text(
            "INSERT INTO regions (code, name, level) VALUES (:code, '测试村', 'village')"
            " RETURNING code"
        )
    )
    async with db.sessionmaker() as session:
        await session.execute(text("SELECT 1"))
        assert (await insert.fetchrow(session, {"code": "619999999999"}))["code"] == "619999999999"
        await session.rollback()
    async with db.sessionmaker() as session:
        found = await session.scalar(
            text("SELECT count(*) FROM regions WHERE code = '619999999999'")
        )
    assert found == 0


async def test_it_refuses_to_run_before_the_session_has_begun(db):
    async with db.sessionmaker() as session:
        with pytest.raises(RuntimeError, match="inside the caller's transaction"):
            await _ECHO.fetchrow(session, {"a": 1, "b": 2})
