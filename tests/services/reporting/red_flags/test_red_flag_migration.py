"""Revision 0014 fills the red-flag summaries of a database that had data
before it, equal to a recount."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from services.reporting.summaries import refresh_all
from shared.migrate import alembic_config
from tests.services.reporting.dataset import load_dataset

TABLES = ("red_flag_households", "summary_red_flags", "summary_red_flag_villages")


async def _rows(session) -> dict[str, list[tuple]]:
    return {
        table: sorted(tuple(r) for r in await session.execute(text(f"SELECT * FROM {table}")))
        for table in TABLES
    }


async def test_upgrade_to_0014_fills_the_red_flag_summaries_as_a_recount(fresh_db):
    async with fresh_db.transaction() as session:
        await load_dataset(session)
        # An off-system household, for a non-empty range of days: H5's dibao warning.
        await session.execute(
            text(
                "INSERT INTO warnings (warning_id, county_code, department, warning_type,"
                " source_record_id, batch_id, batch_index, id_hash, id_sealed, id_masked, name,"
                " region_code, household_id, received_at, received_on, status, late,"
                " name_mismatch) VALUES (gen_random_uuid(), '610326', 'civil_affairs',"
                " 'dibao', 'SRC-601', gen_random_uuid(), 0, decode(md5('601'), 'hex'),"
                " '\\x00'::bytea, '610326********601X', '某某', '610326100202',"
                " 'HH-610326-0005', TIMESTAMPTZ '2026-10-01 09:00+08', DATE '2026-10-01',"
                " 'matched', false, false)"
            )
        )
        await refresh_all(session)
    async with fresh_db.transaction() as session:
        recounted = await _rows(session)
    assert all(recounted.values()), recounted

    async with fresh_db.engine.connect() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0012"))
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        await conn.commit()
    async with fresh_db.transaction() as session:
        assert await _rows(session) == recounted
