"""Revision 0018: `ix_events_aggregate` leaves out warning events (a push
writes one per record and nothing reads them by warning) but still serves
the lookups of other aggregates' events, such as the feedback page's events
of a case; downgrading restores the full index."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from shared.migrate import alembic_config

_DEFINITION = text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_events_aggregate'")
_CASE_LOOKUP = (
    "EXPLAIN SELECT id FROM events"
    " WHERE county_code = '610326' AND aggregate_type = 'case' AND aggregate_id = 'C-1'"
)


async def _plan(conn) -> str:
    await conn.execute(text("SET LOCAL enable_seqscan = off"))
    return "\n".join(r[0] for r in await conn.execute(text(_CASE_LOOKUP)))


async def test_case_events_are_found_by_the_index_that_warning_events_stay_out_of(fresh_db):
    async with fresh_db.engine.connect() as conn:
        definition = await conn.scalar(_DEFINITION)
        assert "WHERE" in definition and "'warning'" in definition
        assert "ix_events_aggregate" in await _plan(conn)
        await conn.rollback()

        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0014"))
        assert "WHERE" not in await conn.scalar(_DEFINITION)
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
        await conn.commit()
        assert "'warning'" in await conn.scalar(_DEFINITION)
