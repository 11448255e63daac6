"""Revision 0013 gives a database summarised before it the persons and risk
type counts a recount gives, at every grain."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from shared.migrate import alembic_config
from tests.services.reporting.dataset import load_dataset

TABLES = ("summary_objects", "summary_object_events", "summary_object_risks")


async def _rows(session) -> dict[str, list[tuple]]:
    return {
        table: sorted(tuple(row) for row in await session.execute(text(f"SELECT * FROM {table}")))
        for table in TABLES
    }


async def test_upgrade_to_0013_counts_the_persons_and_risk_types_a_recount_gives(fresh_db):
    async with fresh_db.transaction() as session:
        await load_dataset(session)
    async with fresh_db.transaction() as session:
        recounted = await _rows(session)
        persons = await session.scalar(
            text("SELECT sum(persons) FROM summary_objects WHERE grain = 'village'")
        )
    assert persons == 10  # O1..O7 and OX: 2 + 1 + 2 + 1 + 1 + 1 + 1 + 1 members
    assert recounted["summary_object_risks"]

    async with fresh_db.engine.connect() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0012"))
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        await conn.commit()
    async with fresh_db.transaction() as session:
        assert await _rows(session) == recounted
