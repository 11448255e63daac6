"""A big registry load refreshes the planner's statistics of the registry in
its own transaction, so that the recounts the consumers run right after its
commit are planned for the registry as it now is; a small load does not pay
for it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from shared.registry import load as registry_load
from tests.shared.registry.registry_helpers import household, load, member, person

_STATISTICS = text(
    "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema()"
    " AND tablename IN ('households', 'members')"
)


@pytest.mark.parametrize(("analyze_from", "analyzed"), [(3, True), (4, False)])
async def test_a_load_from_the_threshold_analyzes_households_and_members(
    fresh_db, protector, monkeypatch, analyze_from, analyzed
):
    monkeypatch.setattr(registry_load, "ANALYZE_FROM", analyze_from)
    async with fresh_db.transaction() as session:
        assert await session.scalar(_STATISTICS) == 0  # a new database: never analyzed
        await load(
            session,
            [household(f"H-{n}", member(person(n))) for n in range(1, 4)],
            protector,
        )
    async with fresh_db.transaction() as session:
        assert (await session.scalar(_STATISTICS) > 0) is analyzed
