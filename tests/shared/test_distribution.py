"""The schema stays ready to distribute by county (SPEC §10): read from the
catalog of the migrated database, not from the models, so a hand-written
migration cannot slip past."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.models import metadata
from shared.models.distribution import COORDINATOR, DISTRIBUTED, REFERENCE

_UNIQUE_KEYS = text(
    """
SELECT c.relname AS table_name, i.relname AS index_name,
       array_agg(a.attname ORDER BY a.attname) AS columns
FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(x.indkey)
WHERE n.nspname = current_schema() AND x.indisunique AND c.relkind = 'r'
GROUP BY c.relname, i.relname
"""
)

_TABLES = text(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
)


async def test_every_table_has_a_declared_distribution(session: AsyncSession) -> None:
    tables = set(await session.scalars(_TABLES))
    declared = set(DISTRIBUTED) | REFERENCE | COORDINATOR
    assert tables - declared == set(), "a new table needs its place in shared/models/distribution"
    assert declared - tables == set(), "distribution.py names a table the schema lacks"
    assert not (set(DISTRIBUTED) & REFERENCE or set(DISTRIBUTED) & COORDINATOR)
    assert not REFERENCE & COORDINATOR


async def test_every_unique_key_of_a_distributed_table_holds_its_distribution_column(
    session: AsyncSession,
) -> None:
    keys = (await session.execute(_UNIQUE_KEYS)).all()
    breaking = [
        f"{row.table_name}.{row.index_name}{tuple(row.columns)}"
        for row in keys
        if row.table_name in DISTRIBUTED and DISTRIBUTED[row.table_name] not in row.columns
    ]
    assert breaking == []
    checked = {row.table_name for row in keys if row.table_name in DISTRIBUTED}
    # Every distributed table has a primary key, so each was checked at least once.
    assert checked == set(DISTRIBUTED)


def test_place_bound_tables_of_the_models_carry_county_code() -> None:
    for name, column in DISTRIBUTED.items():
        table = metadata.tables[name]
        assert column in table.primary_key.columns, name
