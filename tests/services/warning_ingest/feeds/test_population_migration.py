"""Revision 0015 splits high_medical_expense pushes by population: a push
made before it cannot say whose records it held, so it counts for both
populations (as a zero report does); other feeds keep theirs as `all`."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from shared.migrate import alembic_config


async def _migrate(db, revision: str, *, down: bool) -> None:
    async with db.engine.connect() as conn:
        step = command.downgrade if down else command.upgrade
        await conn.run_sync(lambda c: step(alembic_config(c), revision))
        await conn.commit()


async def test_pushes_from_before_0015_count_for_both_populations(fresh_db):
    await _migrate(fresh_db, "0012", down=True)
    async with fresh_db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO feed_pushes (batch_id, warning_type, department, pushed_at,"
                " period_end) VALUES"
                " ('00000000-0000-0000-0000-000000000001', 'high_medical_expense',"
                "  'medical_insurance', TIMESTAMPTZ '2026-11-01T02:00Z', DATE '2026-11-01'),"
                " ('00000000-0000-0000-0000-000000000002', 'dibao', 'civil_affairs',"
                "  TIMESTAMPTZ '2026-11-02T02:00Z', DATE '2026-11-02')"
            )
        )
        await session.execute(
            text(
                "INSERT INTO feed_late_notices (department, warning_type, due_at, noticed_at)"
                " VALUES ('medical_insurance', 'high_medical_expense',"
                " TIMESTAMPTZ '2026-11-11T02:00Z', TIMESTAMPTZ '2026-11-11T03:00Z')"
            )
        )
    await _migrate(fresh_db, "head", down=False)
    async with fresh_db.transaction() as session:
        pushes = (
            await session.execute(
                text("SELECT warning_type, population FROM feed_pushes ORDER BY 1, 2")
            )
        ).all()
        notices = (
            await session.execute(text("SELECT warning_type, population FROM feed_late_notices"))
        ).all()
    assert [tuple(p) for p in pushes] == [
        ("dibao", "all"),
        ("high_medical_expense", "general"),
        ("high_medical_expense", "monitored_and_alleviated"),
    ]
    assert [tuple(n) for n in notices] == [("high_medical_expense", "monitored_and_alleviated")]
