"""Revision 0008 gives a database summarised before it the city and province
grains its figures now read, equal to a recount."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from services.reporting.summaries import refresh_all
from shared.migrate import alembic_config
from shared.models import metadata
from tests.services.reporting.dataset import (
    load_dataset,
)

# The summary tables kept per grain.
TABLES = tuple(
    t.name for t in metadata.sorted_tables if t.name.startswith("summary_") and "grain" in t.c
)


async def _rows(session, grains: tuple[str, ...]) -> dict[str, list[tuple]]:
    rows = {}
    for table in TABLES:
        if await session.scalar(text("SELECT to_regclass(:t)"), {"t": table}) is None:
            rows[table] = []  # made by a later revision (0013: summary_object_risks)
            continue
        result = await session.execute(
            text(f"SELECT * FROM {table} WHERE grain = ANY(:grains)"),
            {"grains": list(grains)},
        )
        rows[table] = sorted(tuple(row) for row in result)
    return rows


async def test_upgrade_to_0008_adds_the_city_and_province_rows_a_recount_gives(fresh_db):
    async with fresh_db.transaction() as session:
        await load_dataset(session)
    async with fresh_db.transaction() as session:
        recounted = await _rows(session, ("city", "province"))
    assert recounted["summary_warnings"] and recounted["summary_objects"]

    async with fresh_db.engine.connect() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0007"))
        await conn.commit()
    async with fresh_db.transaction() as session:
        assert await _rows(session, ("city", "province")) == {table: [] for table in TABLES}

    async with fresh_db.engine.connect() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0012"))
        # The way down past 0012 dropped the dataset's natural elimination (O4),
        # which 0013 reads to count its persons.
        await conn.execute(
            text(
                "UPDATE monitoring_objects SET eliminated_naturally = true"
                " WHERE object_id = 'b0000000-0000-0000-0000-000000000004'"
            )
        )
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        await conn.commit()
    async with fresh_db.transaction() as session:
        assert await _rows(session, ("city", "province")) == recounted
        await refresh_all(session)  # and a recount after it changes nothing
        assert await _rows(session, ("city", "province")) == recounted
